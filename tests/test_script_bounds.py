"""Validation bounds every duration and count, checks bells and refuses loops with no exit.

The exact edges: what is accepted at the limit, and refused just past it, with a message
naming the file, the step and the range.
"""

from __future__ import annotations

import pytest

from voice_imrs.script_files import parse_script

HEAD = 'name = "b"\ntitle = "B"\n'
CLOSE = '[[step]]\nid = "grounding_x"\nkind = "say"\ntext = "Feet on the floor."\n'


def problems(steps: str, top: str = "") -> list[str]:
    _, found = parse_script(HEAD + top + steps + CLOSE, "b.toml")
    return [str(p) for p in found]


def step(kind: str, **fields: object) -> str:
    lines = ["[[step]]", 'id = "s"', f'kind = "{kind}"']
    for key, value in fields.items():
        lines.append(f"{key} = {value}")
    return "\n".join(lines) + "\n"


@pytest.mark.parametrize(("kind", "fields", "ok"), [
    ("pause", {"seconds": 3600}, True),
    ("pause", {"seconds": 3600.5}, False),
    ("pause", {"seconds": "inf"}, False),
    ("pause", {"seconds": "nan"}, False),
    ("pause", {"seconds": 0.05}, False),
    ("say", {"text": '"Hi."', "pause_after_s": 0}, True),
    ("say", {"text": '"Hi."', "pause_after_s": 3600}, True),
    ("say", {"text": '"Hi."', "pause_after_s": "1e300"}, False),
    ("breathing", {"duration_s": 3600, "inhale_s": 0.5, "exhale_s": 60}, True),
    ("breathing", {"duration_s": "1e20"}, False),
    ("breathing", {"duration_s": 60, "inhale_s": "1e-300"}, False),
    ("breathing", {"duration_s": 60, "exhale_s": 61}, False),
    ("breathing", {"duration_s": 60, "hold_s": 0}, True),
    ("breathing", {"duration_s": 60, "hold_s": 0.1}, False),
    ("timer", {"duration_s": 60, "interval_s": 0}, True),
    ("timer", {"duration_s": 60, "interval_s": "1e-300"}, False),
    ("timer", {"duration_s": 0.5}, False),
])
def test_every_duration_is_finite_and_in_range(kind: str, fields: dict[str, object],
                                               ok: bool) -> None:
    found = problems(step(kind, **fields))
    if ok:
        assert found == []
    else:
        assert found and all("b.toml" in p and "step 's'" in p for p in found), found


def test_repeat_rounds_are_bounded() -> None:
    body = ('[[step]]\nid = "a"\nkind = "say"\ntext = "Hi."\n'
            '[[step]]\nid = "r"\nkind = "repeat"\nstart = "a"\nmax_rounds = {n}\n')
    assert problems(body.format(n=20)) == []
    assert any("max_rounds must be from 1 to 20" in p for p in problems(body.format(n=21)))
    assert any("max_rounds" in p for p in problems(body.format(n=0)))


def test_minutes_and_bells() -> None:
    assert any("minutes must be at most 600" in p
               for p in problems(step("say", text='"Hi."'), top="minutes = 1e9\n"))
    for bell in ("bell", "chime"):
        assert problems(step("say", text='"Hi."', bell=f'"{bell}"')) == []
    found = problems(step("pause", seconds=5, bell='"gong"'))
    assert any("no bell sound 'gong'" in p and "bell, " in p for p in found), found


def test_a_step_that_speaks_and_jumps_back_to_itself_is_refused() -> None:
    found = problems(step("say", text='"Hi."', next='"s"'))
    assert any("loop with no way out" in p and "step 's'" in p for p in found), found


def test_a_loop_whose_only_exits_are_back_into_it_is_refused() -> None:
    body = ('[[step]]\nid = "a"\nkind = "say"\ntext = "Hi."\n'
            '[[step]]\nid = "q"\nkind = "yesno"\ntext = "Again?"\nyes = "a"\nno = "a"\n')
    found = problems(body)
    assert any("loop with no way out" in p for p in found), found


def test_loops_with_an_exit_are_accepted() -> None:
    question = ('[[step]]\nid = "a"\nkind = "say"\ntext = "Hi."\n'
                '[[step]]\nid = "q"\nkind = "yesno"\ntext = "Again?"\nyes = "a"\n')
    assert problems(question) == []
    repeat = ('[[step]]\nid = "a"\nkind = "say"\ntext = "Hi."\n'
              '[[step]]\nid = "r"\nkind = "repeat"\nstart = "a"\nmax_rounds = 3\n')
    assert problems(repeat) == []
