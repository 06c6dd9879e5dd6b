"""The spoken menu of ``run``: names with numbers, understood by name, stable, under 15 s."""

from __future__ import annotations

from dataclasses import replace

from voice_imrs.core import engine
from voice_imrs.core.intents import interpret
from voice_imrs.core.profile import Profile
from voice_imrs.core.script import AskChoice, Script
from voice_imrs.script_files import builtin_scripts
from voice_imrs.session import parts
from voice_imrs.session.conversations import menu_name, menu_script
from voice_imrs.session.keys import typed_intent

MENU_LIMIT_S = 15.0


def _menu(mode: str) -> AskChoice:
    allowed = [s for s in builtin_scripts().values()
               if s.mode == "homework" or mode == "therapist"]
    step = menu_script(allowed).steps[0]
    assert isinstance(step, AskChoice)
    return step


def _numbers(step: AskChoice) -> dict[str, int]:
    return {option.value: i for i, option in enumerate(step.options, start=1)}


def test_the_menu_says_each_exercise_by_name_with_its_number() -> None:
    step = _menu("therapist")
    words = ("one", "two", "three", "four", "five", "six", "seven")
    library = builtin_scripts()
    for number, option in enumerate(step.options, start=1):
        said = f"{words[number - 1]} {menu_name(library[option.value])}"
        assert said in step.text.lower(), said


def test_numbers_stay_when_the_therapist_enables_more() -> None:
    homework, therapist = _numbers(_menu("homework")), _numbers(_menu("therapist"))
    assert "imrs_session" not in homework
    for name, number in homework.items():
        assert therapist[name] == number, name
    assert therapist["imrs_session"] == len(homework) + 1  # therapist-only ones after


def test_the_menu_understands_names_numbers_and_keys() -> None:
    step = _menu("therapist")
    menu = Script("menu", "Menu", (step,))
    plan = engine.Plan.of(menu)
    state, _ = engine.start(plan, parts.variables_for(Profile()))
    expect = engine.expectation(plan, state)
    said = {"safe place": "safe_place", "breathing": "paced_breathing",
            "paced breathing please": "paced_breathing", "grounding": "grounding_54321",
            "the anchor phrase": "anchor_phrase", "kindness": "micro_imagery",
            "my new dream": "nightmare_rehearsal", "rescripting": "imrs_session",
            "three": "grounding_54321", "number six": "nightmare_rehearsal"}
    for words, value in said.items():
        intent = interpret(words, expect)
        assert intent is not None and intent.kind == "choice", words
        assert intent.value == value, words
    for number, option in enumerate(step.options, start=1):
        intent = typed_intent(str(number), expect)
        assert intent is not None and intent.value == option.value


def test_the_menu_takes_less_than_15_seconds_to_hear() -> None:
    profile = Profile()
    speech = parts.make_speech("auto")  # the voice a session speaks with
    try:
        settings = parts.voice_for(profile)
        for mode in ("homework", "therapist"):
            text = _menu(mode).text
            audio = speech.renderer.render(text, settings)  # type: ignore[attr-defined]
            seconds = len(audio) / speech.sample_rate
            assert 3.0 < seconds < MENU_LIMIT_S, (mode, round(seconds, 1), text)
            # even one step slower ("slower" said once) stays within reach
            slower = replace(settings, rate_wpm=settings.rate_wpm - 15)
            audio = speech.renderer.render(text, slower)  # type: ignore[attr-defined]
            assert len(audio) / speech.sample_rate < MENU_LIMIT_S + 2.0, mode
    finally:
        speech.close()
