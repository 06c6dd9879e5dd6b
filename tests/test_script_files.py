"""Script files: every broken case gives its clear message; `voice-imrs validate`."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from voice_imrs.core.script import AskRating, End, Say
from voice_imrs.errors import ScriptError, UnknownChoiceError
from voice_imrs.script_files import (
    ScriptProblems,
    builtin_scripts,
    find_script,
    load_script,
    parse_script,
    validate_files,
)

DATA = Path(__file__).resolve().parent / "data" / "scripts"
ROOT = Path(__file__).resolve().parent.parent

# file -> (expected line, expected step id or None, words the message must hold)
BROKEN = {
    "bad_syntax.toml": (7, None, "not valid TOML"),
    "unknown_kind.toml": (4, "hello", "unknown step kind 'sing'"),
    "missing_target.toml": (4, "hello", "'grounding_bakc', which is not a step"),
    "unreachable.toml": (10, "lonely", "can never be reached"),
    "end_without_grounding.toml": (24, "done_early", "without passing a grounding step"),
    "rating_without_high_branch.toml": (9, "check", "no branch for ratings 8 to 10"),
    "undefined_placeholder.toml": (7, "hello", "{favourite_tree} is not defined"),
    "duplicate_id.toml": (9, "hello", "used twice (first used at line 4)"),
    "overlapping_branches.toml": (9, "check", "0-8 and 7-10 overlap"),
}


@pytest.mark.parametrize("name", sorted(BROKEN))
def test_each_broken_case_names_file_line_step_and_problem(name: str) -> None:
    line, step, words = BROKEN[name]
    problems = validate_files([DATA / name])
    assert len(problems) == 1, [str(p) for p in problems]
    problem = problems[0]
    text = str(problem)
    assert words in text
    assert problem.file == str(DATA / name) and text.startswith(str(DATA / name))
    assert problem.line == line and f"line {line}" in text
    assert problem.step == step
    if step:
        assert f"step {step!r}" in text
    assert text.count("\n") == 0
    assert problem.hint  # says what to do


@pytest.mark.parametrize("name", sorted(BROKEN))
def test_load_script_raises_script_error(name: str) -> None:
    with pytest.raises(ScriptError) as caught:
        load_script(DATA / name)
    assert isinstance(caught.value, ScriptProblems)
    assert str(DATA / name) in str(caught.value)


def test_all_problems_are_collected_not_only_the_first() -> None:
    problems = validate_files([DATA / "many_problems.toml"])
    texts = [str(p) for p in problems]
    assert len(problems) == 5, texts
    expected = [("line 3", "unknown top-level key 'colour'"),
                ("line 9", "pause_after_s must be a number"),
                ("line 10", "has no field 'volume'"),
                ("line 12", "needs the field 'text'"),
                ("line 16", "'nowhere', which is not a step")]
    for (line, words), text in zip(expected, texts, strict=True):
        assert line in text and words in text
    with pytest.raises(ScriptProblems, match="4 more problems") as caught:
        load_script(DATA / "many_problems.toml")
    assert len(caught.value.problems) == 5


def test_good_script_loads_into_the_model() -> None:
    script = load_script(DATA / "good_minimal.toml")
    assert script.name == "good_minimal" and script.mode == "homework"
    assert [type(s) for s in script.steps] == [Say, AskRating, Say, End]
    rating = script.steps[1]
    assert isinstance(rating, AskRating)
    assert rating.branches[1].goto == "grounding_close" and rating.scale == "distress"
    assert script.source == str(DATA / "good_minimal.toml")


def test_missing_file_is_one_problem() -> None:
    problems = validate_files([DATA / "no_such_file.toml"])
    assert len(problems) == 1 and "no such file" in str(problems[0])


SNIPPET = '''
name = "x"
title = "X"
[[step]]
id = "a"
kind = "{kind}"
{fields}
[[step]]
id = "grounding_z"
kind = "say"
text = "Feet on the floor."
[[step]]
id = "z"
kind = "end"
'''


@pytest.mark.parametrize(("kind", "fields", "words"), [
    ("say", 'text = 5', "text must be text"),
    ("pause", "", "needs the field 'seconds'"),
    ("rating", 'text = "?"\nbranches = [{ low = 0, high = 11, goto = "grounding_z" }]',
     "outside 0..10"),
    ("rating", 'text = "?"\nscale = "mood"', 'scale must be "distress" or "belief"'),
    ("choice", 'text = "?"\noptions = []', "options must be a non-empty list"),
    ("choice", 'text = "?"\noptions = [{ value = "a", phrases = ["x"] }, '
               '{ value = "b", phrases = ["x"] }]', "picks both"),
    ("repeat", 'start = "a"\nuntil = "never_set"', "no step stores an answer"),
    ("jump", 'goto = "a"', "jump in a circle"),
    ("set", 'name = "perspective"\nvalue = "second"', "first or third"),
    ("say", 'text = "[first: a | open: b]"', "mixes perspective and eyes"),
    ("say", 'text = "hi"\nnext = "safety_end"', "without passing a grounding step"),
])
def test_field_and_consistency_checks(kind: str, fields: str, words: str) -> None:
    text = SNIPPET.replace("{kind}", kind).replace("{fields}", fields)
    script, problems = parse_script(text, "snippet.toml")
    assert script is None
    assert any(words in str(p) for p in problems), [str(p) for p in problems]


def test_belief_rating_needs_no_grounding_branch() -> None:
    text = SNIPPET.replace("{kind}", "rating").replace(
        "{fields}", 'text = "How true?"\nscale = "belief"')
    script, problems = parse_script(text, "snippet.toml")
    assert problems == [] and script is not None


def test_reserved_safety_ids_are_refused() -> None:
    text = SNIPPET.replace('id = "grounding_z"', 'id = "grounding_close"').replace(
        "{kind}", "say").replace("{fields}", 'text = "hi"')
    _, problems = parse_script(text, "snippet.toml")
    assert any("built-in safety step" in str(p) for p in problems)


def test_find_script_by_name_path_and_unknown() -> None:
    assert find_script("safe_place") is builtin_scripts()["safe_place"]
    assert find_script(str(DATA / "good_minimal.toml")).name == "good_minimal"
    with pytest.raises(UnknownChoiceError) as caught:
        find_script("save_place")
    message = str(caught.value)
    assert "save_place" in message and "safe_place" in message and "imrs_session" in message
    with pytest.raises(ScriptError, match="no such file"):
        find_script("missing/script.toml")


def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "voice_imrs", *args], cwd=ROOT,
                          capture_output=True, text=True, timeout=60)


def test_validate_command_good_files_exit_zero() -> None:
    done = _cli("validate", str(DATA / "good_minimal.toml"))
    assert done.returncode == 0, done.stderr
    assert "good_minimal.toml: ok." in done.stdout
    assert done.stderr == ""


def test_validate_command_reports_every_problem_one_line_each() -> None:
    files = [str(DATA / name) for name in sorted(BROKEN)] + [str(DATA / "good_minimal.toml")]
    done = _cli("validate", *files)
    assert done.returncode == 3
    assert "Traceback" not in done.stderr + done.stdout
    lines = done.stderr.strip().splitlines()
    assert len(lines) == len(BROKEN) + 1  # one line per problem, then the summary
    for name, (line, _, words) in BROKEN.items():
        assert any(name in text and f"line {line}" in text and words in text
                   for text in lines), name
    assert lines[-1] == f"voice-imrs: {len(BROKEN)} problems in {len(BROKEN)} of " \
                        f"{len(files)} files."
    assert "good_minimal.toml: ok." in done.stdout


def test_validate_command_with_no_file_checks_the_library() -> None:
    done = _cli("validate")
    assert done.returncode == 0, done.stderr
    assert done.stdout.count(": ok.") == len(builtin_scripts())


def test_validate_command_missing_file() -> None:
    done = _cli("validate", "does-not-exist.toml")
    assert done.returncode == 3 and "no such file" in done.stderr
    assert "Traceback" not in done.stderr


def test_list_command_prints_one_plain_line_per_script() -> None:
    done = _cli("list")
    assert done.returncode == 0 and done.stderr == ""
    lines = done.stdout.strip().splitlines()
    assert len(lines) == len(builtin_scripts())
    # The length is the rendered track's at the profile's pace (tests/test_render_edges.py).
    assert any(line.startswith("safe_place: Safe place, about ") and " minute" in line
               and line.endswith(", homework.") for line in lines), lines
    assert any(line.startswith("imrs_session:") and "therapist" in line for line in lines)
