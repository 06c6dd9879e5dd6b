"""The decision function, table by table: every step kind and every handler."""

from __future__ import annotations

import pytest
from engine_driver import calm_answer, drive

from voice_imrs.core import engine
from voice_imrs.core.intents import Intent
from voice_imrs.core.messages import Bell, Heard, Listen, Setting, Speak, Wait
from voice_imrs.core.safety import SafetyPolicy
from voice_imrs.core.script import (
    AskChoice,
    AskRating,
    AskYesNo,
    ChoiceOption,
    End,
    Jump,
    Pause,
    RatingBranch,
    RepeatUntil,
    Say,
    Script,
    SetVar,
    Timed,
)

GROUND = Say("grounding_end", "Feel your feet on the floor.")


def plan(*steps, mode="homework", policy=None):
    return engine.Plan.of(Script("t", "Test", (*steps, GROUND, End("end")), mode=mode), policy)


def heard(kind, value=None, confidence=0.9):
    return Heard(Intent(kind, value, str(value or kind), confidence))


def answers(*events):
    queue = list(events)

    def answer(state, listen):
        return queue.pop(0) if queue else calm_answer(state, listen)
    return answer


def test_say_pause_and_end_complete_in_order():
    run = drive(plan(Say("a", "Hello.", pause_after_s=2.0), Pause("p", 3.0, bell="bell")))
    assert run.steps() == ["a", "p", "grounding_end", "end"]
    assert run.reason == "completed"
    waits = [a.seconds for a in run.actions if isinstance(a, Wait)]
    assert waits == [2.0, 3.0]
    assert any(isinstance(a, Bell) and a.name == "bell" for a in run.actions)


def test_stop_while_speaking_interrupts_and_grounds():
    p = plan(Say("a", "A long prompt."), Say("b", "More."))

    def inject(turn, awaiting):
        return heard("stop") if turn == 1 else None
    run = drive(p, answers(heard("rating", 1), heard("choice", "end")), inject=inject)
    names = [log.event for log in run.logs]
    assert "interrupted" in names
    steps = run.steps()
    assert steps[:2] == ["a", "grounding_stop"]
    assert "grounding_check" in steps and "grounding_close" in steps
    assert run.reason == "stopped"


def test_stop_then_continue_resumes_the_interrupted_step():
    p = plan(Say("a", "One."), Say("b", "Two."))

    def inject(turn, awaiting):
        return heard("stop") if turn == 2 else None
    run = drive(p, answers(heard("rating", 1), heard("choice", "continue")), inject=inject)
    steps = run.steps()
    assert steps.index("grounding_stop") < steps.index("grounding_choice") < len(steps)
    after = steps[steps.index("grounding_choice") + 1:]
    assert after[:2] == ["safety_lead_in", "b"]  # led back in, then the step again
    assert run.reason == "completed"  # going on after a stop and finishing completes


@pytest.mark.parametrize("value,grounded", [(8, True), (10, True), (7, False), (2, False)])
def test_high_rating_leads_to_grounding_even_when_script_forgets(value, grounded):
    p = plan(AskRating("r", "How distressed?", branches=(RatingBranch(0, 10, "b"),)),
             Say("b", "Next."))
    run = drive(p, answers(heard("rating", value), heard("rating", 1), heard("choice", "end")))
    assert ("grounding_high" in run.steps()) is grounded


def test_script_high_branch_to_its_own_grounding_is_followed():
    p = plan(AskRating("r", "How?", branches=(RatingBranch(8, 10, "grounding_own"),)),
             Say("b", "Next.", next="grounding_end"), Say("grounding_own", "Own grounding."))
    run = drive(p, answers(heard("rating", 9)))
    assert "grounding_own" in run.steps() and "grounding_high" not in run.steps()


def test_medium_rating_slows_down_and_offers_distance_in_therapist_mode():
    p = plan(AskRating("r", "How?"), Say("b", "Next."), mode="therapist")
    run = drive(p, answers(heard("rating", 6), heard("choice", "distance")))
    rates = [a.value for a in run.actions if isinstance(a, Setting) and a.name == "rate_wpm"]
    assert rates and rates[0] < 150
    assert "safety_medium_therapist" in run.steps()
    assert run.state.variables["perspective"] == "third"
    assert run.steps()[-3] == "b"  # then back to where the rating led


def test_rise_of_three_slows_down():
    p = plan(AskRating("r1", "How?"), AskRating("r2", "And now?"), Say("b", "Next."))
    run = drive(p, answers(heard("rating", 1), heard("rating", 4)))
    rates = [a for a in run.actions if isinstance(a, Setting) and a.name == "rate_wpm"]
    assert len(rates) == 1


def test_grounding_resumes_only_at_or_below_the_lower_threshold():
    p = plan(AskRating("r", "How?"), Say("b", "Next."))
    # 9 -> grounding; re-check 6 (above resume_at 4) -> more grounding; 3 -> choice.
    run = drive(p, answers(heard("rating", 9), heard("rating", 6), heard("rating", 3),
                           heard("choice", "continue")))
    steps = run.steps()
    assert steps.count("grounding_check") == 2 and "grounding_more" in steps
    assert steps[steps.index("grounding_choice") + 1:][:2] == ["safety_lead_in", "b"]


def test_silence_escalates_reprompt_then_check_then_eyes_open_grounding():
    p = plan(AskRating("r", "How distressed?"))
    silence = engine.Silence()
    run = drive(p, answers(silence, silence, silence, silence, heard("rating", 1),
                           heard("choice", "end")))
    noinputs = [log.fields["count"] for log in run.events("noinput")]
    assert noinputs[:4] == [1, 2, 3, 4]
    spoken = run.spoken()
    assert "Take your time" in spoken[1]
    assert "Or say stop" in spoken[2]
    assert "feet on the floor" in spoken[3]
    assert "grounding_noinput" in run.steps()
    assert any(isinstance(a, Bell) and a.gain > 1 for a in run.actions)
    assert run.state.variables["eyes"] == "open"
    assert run.reason == "stopped" or run.reason == "completed"


def test_silence_during_grounding_closes_instead_of_looping():
    p = plan(AskRating("r", "How?"))
    run = drive(p, lambda state, listen: engine.Silence())
    assert run.reason is not None
    assert "grounding_close" in run.steps()


def test_nomatch_names_the_valid_answers():
    p = plan(AskYesNo("q", "Ready?"))
    run = drive(p, answers(Heard(Intent("unknown", None, "banana"))))
    assert run.events("nomatch")[0].fields["count"] == 1
    assert any("yes or no" in text for text in run.spoken())


def test_low_confidence_rating_is_confirmed_first():
    p = plan(AskRating("r", "How?"), Say("b", "Next."))
    run = drive(p, answers(heard("rating", 8, confidence=0.2), heard("no"),
                           heard("rating", 3, confidence=0.9)))
    assert any("I heard eight" in t for t in run.spoken())
    assert [log.fields["value"] for log in run.events("rating")] == [3]
    assert "grounding_high" not in run.steps()


def test_signal_grounds_briefly_then_ends_and_a_second_signal_ends_at_once():
    p = plan(Say("a", "One."), Say("b", "Two."))
    run = drive(p, inject=lambda turn, a: engine.Signal() if turn == 1 else None)
    assert run.steps()[-2:] == ["grounding_close", "safety_end"]
    assert run.reason == "signal"
    twice = drive(p, inject=lambda turn, a: engine.Signal() if turn in (1, 2) else None)
    assert twice.reason == "signal" and "safety_end" not in twice.steps()


def test_fault_grounds_then_ends_with_fault():
    run = drive(plan(Say("a", "One.")),
                inject=lambda turn, a: engine.Fault("boom") if turn == 1 else None)
    assert run.events("fault") and run.reason == "fault"
    assert "grounding_close" in run.steps()


def test_pause_and_resume():
    p = plan(Say("a", "One."))
    run = drive(p, answers(heard("ready")),
                inject=lambda turn, a: heard("pause") if turn == 1 else None)
    names = [log.event for log in run.logs]
    assert names.index("paused") < names.index("resumed")
    assert run.steps().count("a") == 2


@pytest.mark.parametrize("kind,name,direction", [("louder", "volume", 1), ("softer", "volume", -1),
                                                 ("slower", "rate_wpm", -1),
                                                 ("faster", "rate_wpm", 1)])
def test_voice_commands_change_settings_without_interrupting(kind, name, direction):
    p = plan(Say("a", "One."))
    state, _ = engine.start(p, {})
    before = {"volume": state.volume, "rate_wpm": state.rate_wpm}[name]
    _new, actions = engine.advance(p, state, heard(kind))
    setting = next(a for a in actions if isinstance(a, Setting))
    assert setting.name == name and (setting.value - before) * direction > 0
    assert not any(isinstance(a, engine.AWAITING) for a in actions)


def test_answers_do_not_count_when_no_question_was_asked():
    p = plan(Say("a", "One."))
    state, _ = engine.start(p, {})
    assert engine.advance(p, state, heard("rating", 7)) == (state, [])


def test_breathing_cues_keep_their_rhythm():
    p = plan(Timed("breath", "breathing", duration_s=20, inhale_s=4, exhale_s=6))
    run = drive(p)
    cues = [a for a in run.actions if isinstance(a, Speak) and a.hold_s]
    assert [c.text for c in cues] == ["in", "out", "in", "out"]
    assert [c.hold_s for c in cues] == [4, 6, 4, 6]


def test_timer_rings_interval_bells():
    p = plan(Timed("timer", "timer", duration_s=60, interval_s=20, bell="chime"))
    run = drive(p)
    assert [a.seconds for a in run.actions if isinstance(a, Wait)] == [20, 20, 20]
    assert sum(isinstance(a, Bell) and a.name == "chime" for a in run.actions) == 3


def test_repeat_until_need_met_or_rounds_done():
    body = (Say("scene", "Run the scene again."), AskYesNo("met", "Is the need met?", var="need"),
            RepeatUntil("again", start="scene", until="need", max_rounds=3))
    met_second = drive(plan(*body), answers(heard("no"), heard("yes")))
    assert met_second.steps().count("scene") == 2
    never = drive(plan(*body), answers(heard("no"), heard("no"), heard("no")))
    assert never.steps().count("scene") == 3


def test_choice_sets_variable_and_jumps():
    p = plan(AskChoice("helper", "Who helps?", options=(
        ChoiceOption("protector", ("protector",), "p"),
        ChoiceOption("adult", ("adult self",), None))),
        Say("a", "Adult.", next="grounding_end"), Say("p", "Protector."))
    run = drive(p, answers(heard("choice", "protector")))
    assert "p" in run.steps() and "a" not in run.steps()


def test_set_and_jump_steps():
    p = plan(SetVar("s", "perspective", "third"), Jump("j", "b"), Say("skipped", "No."),
             Say("b", "{perspective}", next="grounding_end"))
    run = drive(p)
    assert "skipped" not in run.steps()
    assert "third" in run.spoken()[0]


def test_eyes_open_switches_to_eyes_open_grounding():
    p = plan(Say("a", "One."))
    run = drive(p, answers(heard("rating", 1), heard("choice", "end")),
                inject=lambda turn, a: heard("eyes_open") if turn == 1 else None)
    assert run.state.variables["eyes"] == "open"
    assert "grounding_stop" in run.steps()


def test_policy_thresholds_come_from_the_profile():
    strict = SafetyPolicy(high=6, medium=4, resume_at=2)
    p = plan(AskRating("r", "How?"), Say("b", "Next."), policy=strict)
    run = drive(p, answers(heard("rating", 6), heard("rating", 2), heard("choice", "end")))
    assert "grounding_high" in run.steps()


def test_expectation_narrows_what_counts():
    p = plan(AskRating("r", "How?"))
    state, _ = engine.start(p, {})
    assert "rating" in engine.expectation(p, state).kinds  # barge-in on the question
    state, actions = engine.advance(p, state, engine.SpeechDone())
    assert isinstance(actions[-1], Listen) and "rating" in actions[-1].expect.kinds


def test_a_doubtful_yes_is_confirmed_before_it_leads_deeper():
    p = plan(AskYesNo("q", "Go on?", no="grounding_end"), Say("deeper", "Deeper."))
    run = drive(p, answers(heard("yes", confidence=0.2), heard("no"), heard("no")))
    assert "I heard yes. Is that right?" in run.spoken()
    assert run.events("confirm")[0].fields == {"value": "yes", "confirmed": False}
    assert "deeper" not in run.steps()  # asked again, then a clear no
    run = drive(p, answers(heard("yes", confidence=0.2), heard("yes")))
    assert run.steps()[1] == "deeper"
    typed = drive(p, answers(Heard(Intent("yes", None, "yes", None))))
    assert typed.steps()[1] == "deeper" and not typed.events("confirm")  # typed: confident


@pytest.mark.parametrize("kind", ["unsure", "no"])
def test_unclear_or_no_never_leads_deeper(kind):
    p = plan(AskYesNo("q", "Go on?", yes="deeper", no="grounding_end"), Say("deeper", "D."))
    run = drive(p, answers(heard(kind)))
    assert "deeper" not in run.steps()
    assert run.events("branch")[0].fields["to"] == "grounding_end"


def test_a_doubtful_no_to_a_risk_question_is_confirmed():
    p = plan(AskYesNo("risk", "At risk?", yes="grounding_end", unclear="yes"),
             Say("on", "On."))
    run = drive(p, answers(heard("no", confidence=0.2), heard("yes")))
    assert "I heard no. Is that right?" in run.spoken()
    assert run.steps()[1] == "on"
    run = drive(p, answers(heard("no", confidence=0.2), heard("no"), heard("unsure")))
    assert run.steps()[1] == "grounding_end"  # asked again; "maybe" counts as yes here
