"""Console controls in the pure engine: each is logged, and none skips a grounded ending."""

from __future__ import annotations

import pytest

from voice_imrs.core import engine
from voice_imrs.core.controls import ACTIONS, Control
from voice_imrs.core.events import Interrupt
from voice_imrs.core.intents import Intent
from voice_imrs.core.messages import Heard, Log, Setting, Speak, SpeechDone, TimerDone, Wait
from voice_imrs.core.safety import GROUNDING_CLOSE, GROUNDING_HIGH, GROUNDING_STOP
from voice_imrs.script_files import builtin_scripts


@pytest.fixture()
def plan() -> engine.Plan:
    return engine.Plan.of(builtin_scripts()["safe_place"])


def started(plan: engine.Plan) -> engine.State:
    state, _ = engine.start(plan, {"safe_place": "a beach", "stop_word": "stop"})
    return state


def logs(actions: list) -> list[Log]:
    return [a for a in actions if isinstance(a, Log)]


def test_every_control_is_logged_with_its_action(plan: engine.Plan) -> None:
    for action in sorted(ACTIONS):
        control = Control(action, step="see", value=3, text="Take a breath with me.")
        _, actions = engine.advance(plan, started(plan), control)
        first = logs(actions)[0]
        assert first.event == "control" and first.fields["action"] == action


def test_pause_and_resume_act_as_the_spoken_commands(plan: engine.Plan) -> None:
    state, actions = engine.advance(plan, started(plan), Control("pause"))
    spoken_state, spoken = engine.advance(plan, started(plan), Heard(Intent("pause", text="pause")))
    assert state.phase == spoken_state.phase == "paused"
    assert [log.event for log in logs(actions)] == \
        ["control", *[log.event for log in logs(spoken)]]
    state, actions = engine.advance(plan, state, Control("resume"))
    assert "resumed" in [log.event for log in logs(actions)]
    assert state.phase in ("speak", "rejoin") and state.step == "welcome"


def test_grounding_now_is_a_stop(plan: engine.Plan) -> None:
    state, actions = engine.advance(plan, started(plan), Control("grounding"))
    assert state.step == GROUNDING_STOP and state.stopped
    # As after a spoken stop: a brief quiet, then the grounding speaks.
    assert any(isinstance(a, Interrupt) for a in actions)
    assert any(isinstance(a, Wait) for a in actions)
    state, actions = engine.advance(plan, state, TimerDone())
    assert any(isinstance(a, Speak) for a in actions)


def test_skip_back_and_jump_move_between_script_steps(plan: engine.Plan) -> None:
    state, _ = engine.advance(plan, started(plan), Control("skip"))
    assert state.step == "rating_start"
    state, _ = engine.advance(plan, state, Control("back"))
    assert state.step == "welcome"
    state, actions = engine.advance(plan, state, Control("jump", step="see"))
    assert state.step == "see"
    assert {"to": "see", "reason": "console jump"}.items() <= \
        next(log for log in logs(actions) if log.event == "branch").fields.items()


def test_moves_never_reach_the_end_without_grounding(plan: engine.Plan) -> None:
    last = plan.script.steps[-1].id
    state, _ = engine.advance(plan, started(plan), Control("jump", step=last))
    assert state.step == GROUNDING_CLOSE
    # Inside the closing grounding, nothing moves on and "end" changes nothing.
    for action in ("skip", "back", "jump", "end", "safe_place"):
        after, actions = engine.advance(plan, state, Control(action, step="welcome"))
        assert after == state
        assert "refused" in logs(actions)[0].fields


def test_moves_are_refused_inside_the_safety_steps(plan: engine.Plan) -> None:
    state, _ = engine.advance(plan, started(plan), Control("grounding"))
    after, actions = engine.advance(plan, state, Control("skip"))
    assert after == state and logs(actions)[0].fields["refused"]


def test_end_closes_through_grounding(plan: engine.Plan) -> None:
    state, actions = engine.advance(plan, started(plan), Control("end"))
    assert state.step == GROUNDING_CLOSE and state.ending == "stopped"
    while state.phase != "ended":
        state, actions = engine.advance(plan, state, SpeechDone()) if state.phase in (
            "speak", "closing") else engine.advance(plan, state, engine.TimerDone())
    assert [log.fields["reason"] for log in logs(actions) if log.event == "session_end"] \
        == ["stopped"]


def test_unknown_step_and_action_are_refused(plan: engine.Plan) -> None:
    state = started(plan)
    for control in (Control("jump", step="nowhere"), Control("jump", step=GROUNDING_CLOSE),
                    Control("fly"), Control("rating", value=11), Control("say", text=" ")):
        after, actions = engine.advance(plan, state, control)
        assert after == state and "refused" in logs(actions)[0].fields


def test_a_high_rating_from_the_console_grounds_whenever_it_comes(plan: engine.Plan) -> None:
    state, actions = engine.advance(plan, started(plan), Control("rating", value=9))
    assert state.step == GROUNDING_HIGH
    ratings = [log for log in logs(actions) if log.event == "rating"]
    assert ratings[0].fields == {"value": 9, "scale": "distress", "source": "console"}


def test_a_rating_when_asked_answers_the_question(plan: engine.Plan) -> None:
    state, _ = engine.advance(plan, started(plan), Control("skip"))
    state, _ = engine.advance(plan, state, SpeechDone())  # the question was asked
    state, actions = engine.advance(plan, state, Control("rating", value=3))
    assert [log.fields["value"] for log in logs(actions) if log.event == "rating"] == [3]
    assert [a.text for a in actions if isinstance(a, Speak)] == ["Three."]  # read back
    state, _ = engine.advance(plan, state, SpeechDone())
    assert state.step == "settle"


def test_said_line_text_is_logged_only_when_transcripts_are_kept(plan: engine.Plan) -> None:
    line = "You are doing well."
    state, actions = engine.advance(plan, started(plan), Control("say", text=line))
    assert "text" not in logs(actions)[0].fields
    assert [a.text for a in actions if isinstance(a, Speak)] == [line]
    assert state.phase == "paused"
    _, actions = engine.advance(plan, started(plan), Control("say", text=line, keep_text=True))
    assert logs(actions)[0].fields["text"] == line


def test_wording_and_mute_settings(plan: engine.Plan) -> None:
    state, _ = engine.advance(plan, started(plan), Control("third_person"))
    state, _ = engine.advance(plan, state, Control("eyes_open"))
    assert (state.variables["perspective"], state.variables["eyes"]) == ("third", "open")
    assert state.step == "welcome"  # a wording change does not move the session
    _, actions = engine.advance(plan, state, Control("mute"))
    assert Setting("muted", 1.0) in actions
