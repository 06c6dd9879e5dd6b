"""The one step graph and the one walker: what follows each step, detours, calm walks."""

from __future__ import annotations

import pytest

from voice_imrs.core import engine
from voice_imrs.core.messages import Speak
from voice_imrs.core.profile import Profile
from voice_imrs.core.safety import GROUNDING_CLOSE, SAFETY_END, SAFETY_IDS
from voice_imrs.core.script import AskYesNo, End, Say, Script
from voice_imrs.core.step_graph import OFF_THE_END, StepGraph, is_detour, is_grounding
from voice_imrs.core.walker import track_answer, walk
from voice_imrs.errors import ScriptError
from voice_imrs.render.track import Speech, StepStart, calm_path
from voice_imrs.script_files import builtin_scripts


def test_detours_are_grounding_and_every_safety_step():
    assert is_grounding("grounding_close") and not is_grounding("safety_slow")
    assert all(is_detour(step_id) for step_id in SAFETY_IDS)  # safety_* too, not only grounding
    assert is_detour("safety_own_step") and not is_detour("intro") and not is_detour(None)


def test_following_default_next_and_running_off_the_end():
    script = Script("g", "G", steps=(Say("a", "A."), Say("b", "B.", next="a"), Say("c", "C.")))
    graph = StepGraph.of(script)
    assert graph.following("a") == "b" and graph.following("c") is None
    assert graph.default_next(script.steps[1]) == "a"
    assert graph.successors(script.steps[2]) == [OFF_THE_END] == [GROUNDING_CLOSE]
    assert graph.following(GROUNDING_CLOSE) == SAFETY_END  # the safety steps' own order
    assert graph.successors(graph.steps[SAFETY_END]) == []
    assert engine.Plan.of(script).following("c") is None  # the engine reads the same graph


def test_the_track_answer_says_no_only_when_yes_is_a_detour():
    script = Script("y", "Y", steps=(
        AskYesNo("q", "Go on?", yes="safety_x", no="z"), Say("z", "Z.", next="end"),
        Say("safety_x", "X."), End("end")))
    run = walk(engine.Plan.of(script), {})
    assert "safety_x" not in run.steps() and "z" in run.steps()
    assert run.reason == "completed" and run.steps() == ["q", "z", "end"]
    assert callable(track_answer(engine.Plan.of(script)))


def test_a_walk_to_a_missing_step_is_a_script_error():
    script = Script("m", "M", steps=(Say("a", "A.", next="nowhere"),), source="m.toml")
    with pytest.raises(ScriptError) as caught:
        walk(engine.Plan.of(script), {})
    assert "m.toml" in str(caught.value) and "nowhere" in str(caught.value)


@pytest.mark.parametrize("name", sorted(builtin_scripts()))
def test_a_track_says_what_the_walked_session_says(name):
    """The rendered calm path is the engine's own session, minus its asides to a listener."""
    script = builtin_scripts()[name]
    variables = {**Profile().variables(), "delivery": "track"}
    plan = engine.Plan.of(script)
    run = walk(plan, variables)
    items = calm_path(script, variables)
    asides = {log.fields["text"] for log in run.events("say_start")
              if {"readback", "check", "reprompt", "confirm", "help"} & set(log.fields)}
    spoken = [a.text for a in run.actions if isinstance(a, Speak) and a.text not in asides]
    track = [i.text for i in items if isinstance(i, Speech)]
    assert [t for t in track if t in spoken] == spoken  # every spoken line, in order
    started = [i.step_id for i in items if isinstance(i, StepStart)]
    assert started == [s for s in run.steps() if s in started]
    assert is_grounding(started[-1]) or isinstance(plan.steps[started[-1]], End)  # grounded
