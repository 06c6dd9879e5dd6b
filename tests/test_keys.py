"""Every question answerable by keys, the help key, the key hint said once, --help texts."""

from __future__ import annotations

import argparse
import asyncio
import os
import threading
from collections.abc import AsyncIterator

import numpy as np
import pytest
from test_captions import NobodySpeaks, Timeline, TimelineSink

from voice_imrs.cli.main import build_parser
from voice_imrs.core import engine
from voice_imrs.core.intents import RATING, YES_NO, Expectation
from voice_imrs.core.messages import Heard
from voice_imrs.core.profile import Profile
from voice_imrs.core.script import AskChoice, AskRating, AskYesNo, ChoiceOption, End, Say, Script
from voice_imrs.ports import BLOCK
from voice_imrs.script_files import builtin_scripts
from voice_imrs.session import parts
from voice_imrs.session.captions import Captions
from voice_imrs.session.key_hints import RATING_HINT, KeyHints, choice_hint
from voice_imrs.session.keys import HELP_KIND, KeyReader, key_text, typed_intent
from voice_imrs.session.recorded_voice import RecordedVoice
from voice_imrs.session.runner import Observers, SessionRunner


def _question_steps() -> list[tuple[str, engine.Plan, object]]:
    """(script name, plan, step) for every question of every built-in script, safety too."""
    found = []
    for name, script in builtin_scripts().items():
        plan = engine.Plan.of(script)
        for step in plan.steps.values():
            if isinstance(step, (AskChoice, AskRating, AskYesNo)):
                found.append((name, plan, step))
    return found


def _asked(plan: engine.Plan, step_id: str) -> engine.State:
    """The state of a session listening for the answer to ``step_id``."""
    state, _ = engine.start(plan, parts.variables_for(Profile()))
    return engine.State(step=step_id, phase="listen", variables=state.variables)


def test_every_choice_of_every_built_in_script_is_answered_by_its_number_key() -> None:
    choices = [(name, plan, step) for name, plan, step in _question_steps()
               if isinstance(step, AskChoice)]
    assert {name for name, _, _ in choices} >= {"imrs_session"}  # the helper and more
    for name, plan, step in choices:
        assert isinstance(step, AskChoice)
        state = _asked(plan, step.id)
        expect = engine.expectation(plan, state)
        for number, option in enumerate(step.options, start=1):
            typed = key_text(str(number))
            assert typed is not None
            intent = typed_intent(typed, expect)
            assert intent is not None and intent.kind == "choice", (name, step.id, number)
            assert intent.value == option.value, (name, step.id, number)
            after, actions = engine.advance(plan, state, Heard(intent))
            # The answer was taken: the session moved on from the question.
            assert after.step != step.id or after.phase != "listen", (name, step.id, number)
            assert any(getattr(a, "event", "") == "intent" for a in actions)
        too_far = typed_intent(str(len(step.options) + 1), expect)
        assert too_far is None or too_far.kind != "choice"


def test_every_rating_and_yes_no_question_is_answered_by_keys() -> None:
    questions = [(n, p, s) for n, p, s in _question_steps()
                 if isinstance(s, (AskRating, AskYesNo))]
    assert any(isinstance(s, AskRating) for _, _, s in questions)
    for name, plan, step in questions:
        state = _asked(plan, step.id)
        expect = engine.expectation(plan, state)
        keys = [str(n) for n in range(11)] if isinstance(step, AskRating) else ["y", "n"]
        for key in keys:
            typed = key_text(key) if len(key) == 1 else key  # "10" comes as one text
            assert typed is not None
            intent = typed_intent(typed, expect)
            assert intent is not None, (name, step.id, key)
            assert intent.kind in (("rating",) if isinstance(step, AskRating)
                                   else ("yes", "no")), (name, step.id, key)
            _, actions = engine.advance(plan, state, Heard(intent))
            assert any(getattr(a, "event", "") == "intent" for a in actions), (name, key)


def test_the_question_mark_key_and_help_words_are_the_help_intent() -> None:
    assert key_text("?") == "help"
    expectations = [Expectation(), RATING, YES_NO,
                    Expectation(frozenset({"choice"}), (("a", ("apple",)),))]
    for expect in expectations:
        for text in ("help", "what can I say", "What can I say?"):
            intent = typed_intent(text, expect)
            assert intent is not None and intent.kind == HELP_KIND, (text, expect)


def test_a_question_mark_piped_in_reaches_the_session_as_help() -> None:
    read, write = os.pipe()
    got: list[str] = []
    done = threading.Event()

    def deliver(text: str) -> None:
        got.append(text)
        done.set()

    with os.fdopen(read) as stream:
        reader = KeyReader(deliver, stream).start()
        try:
            os.write(write, b"?\n")
            assert done.wait(5.0)
        finally:
            os.close(write)
            reader.close()
    assert got == ["help"]


def test_the_hint_names_the_keys_once_per_question() -> None:
    helper = AskChoice("who", "Who would you like to bring in?", options=(
        ChoiceOption("therapist", ("therapist",)), ChoiceOption("adult", ("my adult self",))))
    offered = [(o.value, o.phrases) for o in helper.options]
    assert choice_hint(offered) == "Or press 1 for therapist, or 2 for my adult self."
    hints = KeyHints()
    assert hints.hint(helper) == choice_hint(offered)
    assert hints.hint(helper) is None  # asked again: not said again
    rating = AskRating("r", "How distressed?")
    assert hints.hint(rating) == RATING_HINT
    assert hints.hint(AskRating("r2", "And now?")) is None  # the same keys: said once
    from voice_imrs.session.conversations import menu_script

    menu = menu_script(builtin_scripts().values()).steps[0]
    assert isinstance(menu, AskChoice)
    assert choice_hint([(o.value, o.phrases) for o in menu.options]) is None  # numbered
    # The keys number what the engine offers now, the client's own figures included.
    own = Expectation(frozenset({"choice"}), (*offered, ("my gran", ("my gran",))))
    assert KeyHints().hint(helper, own) == (
        "Or press 1 for therapist, 2 for my adult self, or 3 for my gran.")


async def _silence(seconds: float, typed: asyncio.Queue[str],
                   at_s: float, text: str) -> AsyncIterator[np.ndarray]:
    for tick in range(int(seconds * 50)):
        if tick == int(at_s * 50):
            typed.put_nowait(text)
        yield np.zeros(BLOCK, np.int16)
        await asyncio.sleep(0)


def test_a_session_says_the_hint_once_and_a_key_answers_the_choice() -> None:
    script = Script("keys", "Keys", (
        AskChoice("who", "Who would you like to bring in?", var="figure", options=(
            ChoiceOption("therapist", ("therapist",)),
            ChoiceOption("adult", ("my adult self",)))),
        Say("grounding_close_words", "Notice the room around you."),
        End("end"),
    ))
    timeline = Timeline()
    speech = parts.make_speech("espeak")
    profile = Profile()
    events: list = []
    try:
        async def go() -> str:
            typed: asyncio.Queue[str] = asyncio.Queue()
            runner = SessionRunner(
                parts.plan_for(script, profile), parts.variables_for(profile),
                renderer=RecordedVoice.plain(speech.renderer), voice=parts.voice_for(profile),
                sink=TimelineSink(timeline, speech.sample_rate),
                blocks=_silence(60.0, typed, 12.0, "2"), listener=NobodySpeaks(),
                typed=typed, observers=Observers(events=[events.append],
                                                 lines=Captions(timeline)),  # type: ignore[arg-type]
                echo_gate=False, key_hints=KeyHints())
            return await asyncio.wait_for(runner.run(), 60.0)

        assert asyncio.run(go()) == "completed"
    finally:
        speech.close()
    captions = [str(text) for kind, text in timeline.items if kind == "caption"]
    assert captions[0] == ("Who would you like to bring in? "
                           "Or press 1 for therapist, or 2 for my adult self.")
    assert sum("Or press" in line for line in captions) == 1  # reprompts leave it out
    chosen = [e.fields.get("value") for e in events
              if e.event == "intent" and e.fields.get("intent") == "choice"]
    assert chosen == ["adult"]


def _subcommands(parser: argparse.ArgumentParser, path: str = "") -> list[tuple[str, object]]:
    found = []
    for action in parser._actions:  # argparse keeps subparsers only here
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                found.append((f"{path} {name}".strip(), sub))
                found += _subcommands(sub, f"{path} {name}")
    return found


def test_every_subcommand_has_a_description() -> None:
    commands = _subcommands(build_parser())
    assert len(commands) > 10
    missing = [name for name, sub in commands if not getattr(sub, "description", None)]
    assert not missing, f"no description: {missing}"


def test_run_help_lists_the_keys_and_the_voice_commands(capsys: pytest.CaptureFixture[str]
                                                        ) -> None:
    with pytest.raises(SystemExit):
        build_parser().parse_args(["run", "--help"])
    text = capsys.readouterr().out
    for shown in ("space or s: stop", "?: what can I say now", "y / n", '"slower"',
                  '"i need a break"', '"what can I say"', "--captions", "--plain"):
        assert shown in text, shown
