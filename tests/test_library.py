"""The built-in library: every script validates, speaks well, and always ends grounded."""

from __future__ import annotations

import itertools
import re

import pytest
from engine_driver import calm_answer, drive

from voice_imrs.core import engine
from voice_imrs.core.intents import Intent
from voice_imrs.core.messages import Heard, Listen
from voice_imrs.core.profile import Profile
from voice_imrs.core.script import (
    AskChoice,
    AskRating,
    AskYesNo,
    End,
    RepeatUntil,
    Script,
    SetVar,
    Timed,
)
from voice_imrs.core.wording import render_text
from voice_imrs.script_files import builtin_files, builtin_scripts, builtin_text, parse_script

LIBRARY = builtin_scripts()
EXPECTED = {"safe_place", "grounding_54321", "paced_breathing", "imrs_session",
            "nightmare_rehearsal", "micro_imagery", "anchor_phrase"}

# Phrases that lead, suggest what happened, or hunt for memories: never in a prompt.
LEADING = (
    "what did he do", "what did she do", "what did they do", "who hurt you", "who did this",
    "remember when", "try to remember", "try harder to remember", "the abuse", "abuser",
    "abused", "repressed", "hidden memor", "forgotten memor", "buried memor", "recover",
    "perpetrator", "offender", "attacker", "what happened to you", "tell me what happened",
    "describe what happened", "say what happened", "you must have", "it must have",
    "dig deeper", "why did you let", "your fault",
)
# Allowed only where the helper says it is NOT the client's fault.
ALLOWED_CONTEXT = ("not your fault",)


def _texts(script: Script) -> list[tuple[str, str]]:
    found: list[tuple[str, str]] = []
    for step in script.steps:
        if isinstance(step, Timed):
            found += [(step.id, step.inhale_cue), (step.id, step.exhale_cue)]
        elif getattr(step, "text", ""):
            found.append((step.id, step.text))
    return found


def test_the_library_holds_every_exercise() -> None:
    assert set(LIBRARY) == EXPECTED
    assert [f.split("/")[1][:-5] for f in builtin_files()] == sorted(EXPECTED)


@pytest.mark.parametrize("label", builtin_files())
def test_every_builtin_file_validates_with_no_problem(label: str) -> None:
    script, problems = parse_script(builtin_text(label), label)
    assert problems == [], [str(p) for p in problems]
    assert script is not None and script.name == label.split("/")[1][:-5]
    assert script.title and script.description and script.minutes > 0


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_every_prompt_renders_in_every_perspective_and_eyes(name: str) -> None:
    script = LIBRARY[name]
    variables = {**Profile().variables(), **script.variables, "eyes_grounding": "",
                 "rating_start": "3"}
    for (_, text), perspective, eyes in itertools.product(
            _texts(script), ("first", "third"), ("closed", "open")):
        spoken = render_text(text, variables, perspective, eyes)
        assert spoken and "{" not in spoken and "[" not in spoken and "  " not in spoken


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_no_prompt_leads_or_suggests(name: str) -> None:
    for step_id, text in _texts(LIBRARY[name]):
        lowered = text.lower()
        for allowed in ALLOWED_CONTEXT:
            lowered = lowered.replace(allowed, "")
        for phrase in LEADING:
            assert phrase not in lowered, f"{name}:{step_id} says {phrase!r}"


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_questions_are_in_the_second_person_not_about_others(name: str) -> None:
    for step_id, text in _texts(LIBRARY[name]):
        # Never a pronoun for someone in the memory: "he"/"she" would suggest a person.
        assert not re.search(r"\b(he|she|him|her|his)\b", text.lower()), f"{name}:{step_id}"


def _calm_seconds(script: Script) -> float:
    """A rough length of the calm path: words at 150 per minute, pauses, timed cues."""
    from voice_imrs.core.messages import Speak, Wait

    run = drive(engine.Plan.of(script), calm_answer, variables=Profile().variables())
    total = 0.0
    for action in run.actions:
        if isinstance(action, Speak):
            total += max(len(action.text.split()) / 2.5, action.hold_s)
        elif isinstance(action, Wait):
            total += action.seconds
    return total


@pytest.mark.parametrize(("name", "low", "high"), [
    ("safe_place", 150, 300), ("micro_imagery", 40, 75), ("paced_breathing", 120, 240)])
def test_lengths_match_what_is_promised(name: str, low: float, high: float) -> None:
    assert low <= _calm_seconds(LIBRARY[name]) <= high


def test_safe_place_uses_all_senses_and_the_cue_word() -> None:
    script = LIBRARY["safe_place"]
    words = " ".join(t for _, t in _texts(script)).lower()
    for sense in ("see", "hear", "feel", "scent", "body"):
        assert sense in words
    assert "{cue_word}" in words and "{safe_place}" in words
    assert script.mode == "homework"


def test_grounding_is_eyes_open_with_an_early_exit() -> None:
    script = LIBRARY["grounding_54321"]
    assert any(isinstance(s, SetVar) and s.name == "eyes" and s.value == "open"
               for s in script.steps)
    settled = [s for s in script.steps if isinstance(s, AskYesNo) and s.var == "settled"]
    assert settled and "settled enough to finish" in settled[0].text
    assert settled[0].yes == "grounding_finish"


def test_paced_breathing_is_in_four_out_six_for_two_minutes() -> None:
    timed = [s for s in LIBRARY["paced_breathing"].steps if isinstance(s, Timed)]
    assert [(t.kind, t.inhale_s, t.exhale_s, t.duration_s) for t in timed] == [
        ("breathing", 4, 6, 120)]


def test_imrs_session_has_every_phase() -> None:
    script = LIBRARY["imrs_session"]
    assert script.mode == "therapist"
    choices = {s.var: s for s in script.steps if isinstance(s, AskChoice)}
    assert {"eyes", "perspective", "helper"} <= set(choices)
    helper_phrases = [o.phrases[0] for o in choices["helper"].options]
    assert helper_phrases == ["therapist", "my adult self", "a protector", "two helpers"]
    repeat = [s for s in script.steps if isinstance(s, RepeatUntil)]
    assert repeat and repeat[0].until == "need_met" and repeat[0].max_rounds >= 2
    scales = {s.scale for s in script.steps if isinstance(s, AskRating)}
    assert scales == {"distress", "belief"}
    texts = " ".join(t for _, t in _texts(script))
    for phrase in ("{stop_word}", "{safe_place}", "{anchor_phrase}", "short name in your mind",
                   "don't need to describe it", "younger self", "not your fault"):
        assert phrase in texts


def test_nightmare_rehearsal_repeats_the_new_version_only() -> None:
    script = LIBRARY["nightmare_rehearsal"]
    assert script.mode == "homework" and 5 <= script.minutes <= 20
    assert any(isinstance(s, RepeatUntil) for s in script.steps)
    texts = " ".join(t for _, t in _texts(script)).lower()
    assert "new version" in texts and "old" not in texts.split()


# ---------------------------------------------------------------- driven by the engine

def _ends_grounded(script: Script, run) -> None:
    """The session ended normally, and a grounding step ran before its last End."""
    steps = run.steps()
    assert run.reason in ("completed", "stopped", "incomplete"), steps
    plan = engine.Plan.of(script)
    last_end = max(i for i, s in enumerate(steps) if isinstance(plan.steps[s], End))
    assert any(s.startswith("grounding") for s in steps[:last_end]), steps


def _high_answer(state: engine.State, listen: Listen) -> engine.Event:
    if "rating" in listen.expect.kinds:
        return Heard(Intent("rating", 9, "nine", 0.9))
    return calm_answer(state, listen)


@pytest.mark.parametrize(("name", "perspective", "eyes", "answer"), [
    (name, p, e, a) for name in sorted(EXPECTED)
    for p, e in (("first", "closed"), ("third", "open"))
    for a in (calm_answer, _high_answer)])
def test_sessions_end_grounded_on_calm_and_high_ratings(name, perspective, eyes,
                                                        answer) -> None:
    script = LIBRARY[name]
    variables = {**Profile().variables(), "perspective": perspective, "eyes": eyes}
    run = drive(engine.Plan.of(script), answer, variables=variables)
    _ends_grounded(script, run)
    assert not run.events("fault")
    if answer is _high_answer and any(isinstance(s, AskRating) and s.scale == "distress"
                                      for s in script.steps):
        branches = [b for b in run.events("branch") if str(b.fields["to"]).startswith(
            "grounding")]
        assert branches
        # Still 9 at every check: a second, longer grounding and the crisis resources
        # come before the end.
        steps = run.steps()
        assert "grounding_longer" in steps and "grounding_crisis" in steps
        assert steps.index("grounding_longer") < steps.index("grounding_crisis")
