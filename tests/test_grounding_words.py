"""The grounding a stop leads into never says what would stop it again.

With loudspeakers and the echo gate off the microphone hears the voice: a grounding that
said "stop" heard itself and started over, for ever ("Okay, we stop here." did).
"""

from __future__ import annotations

import re

import pytest

from voice_imrs.core.intents import NOTHING, interpret
from voice_imrs.core.safety import SafetyPolicy, safety_steps
from voice_imrs.core.script import AskRating, Say

GROUNDING = [step for step in safety_steps(SafetyPolicy())
             if isinstance(step, (Say, AskRating)) and step.id.startswith("grounding")
             and step.id not in ("grounding_close", "grounding_crisis")]


def test_the_grounding_steps_are_found() -> None:
    assert {"grounding_stop_words", "grounding_stop_body", "grounding_check"} <= {
        step.id for step in GROUNDING}


@pytest.mark.parametrize("step", GROUNDING, ids=[step.id for step in GROUNDING])
def test_no_grounding_sentence_is_heard_as_a_stop(step: Say | AskRating) -> None:
    text = re.sub(r"\{[a-z_]+\}", "", step.text)
    for sentence in re.split(r"(?<=[.?!])\s+", text):
        heard = interpret(sentence, NOTHING)
        assert heard is None or heard.kind != "stop", sentence


def test_the_sentence_after_a_stop_answers_no_question_of_any_script() -> None:
    # It is said while the client may still be answering: it must count as nothing.
    from voice_imrs.core.engine import Plan, State, expectation
    from voice_imrs.script_files import builtin_scripts

    (words,) = [step for step in GROUNDING if step.id == "grounding_stop_words"]
    for script in builtin_scripts().values():
        plan = Plan.of(script)
        for step_id in plan.steps:
            heard = interpret(words.text, expectation(plan, State(step=step_id, phase="listen")))
            assert heard is None or heard.kind == "unknown", (script.name, step_id, heard)
