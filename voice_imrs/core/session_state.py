"""What a session is made of and where it stands: ``Plan``, ``State``, what counts now. Pure.

Kept apart from the decision function (``voice_imrs.core.engine``, which re-exports these
names) so each module stays small: this one is data and the listening expectation; the
engine decides.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cached_property
from types import MappingProxyType
from typing import Literal

from voice_imrs.core.intents import NOTHING, RATING, READY, YES_NO, Expectation
from voice_imrs.core.profile import spoken_helper
from voice_imrs.core.safety import SafetyPolicy, safety_steps
from voice_imrs.core.script import (
    AskChoice,
    AskRating,
    AskYesNo,
    ChoiceOption,
    Script,
    Step,
)
from voice_imrs.core.step_graph import StepGraph

# ---------------------------------------------------------------- plan and state

#: Where within its step a session is (see ``State``).
Phase = Literal["speak", "pause", "listen", "reprompt", "cue", "confirm", "readback",
                "check", "quiet_check", "ready", "paused", "clarify", "helping", "closing",
                "ended"]


@dataclass(frozen=True)
class Plan:
    """What does not change during a session: the script with the safety steps merged in."""

    script: Script
    policy: SafetyPolicy
    steps: Mapping[str, Step]

    @classmethod
    def of(cls, script: Script, policy: SafetyPolicy | None = None) -> Plan:
        policy = policy or SafetyPolicy()
        steps: dict[str, Step] = {step.id: step for step in safety_steps(policy)}
        steps.update({step.id: step for step in script.steps})
        return cls(script, policy, MappingProxyType(steps))

    @cached_property
    def graph(self) -> StepGraph:
        """What follows each step (``voice_imrs.core.step_graph``)."""
        return StepGraph(self.script, safety_steps(self.policy))

    def following(self, step_id: str) -> str | None:
        """The step after ``step_id`` in its own list (script or safety steps)."""
        return self.graph.following(step_id)


@dataclass(frozen=True)
class State:
    """Where a session is.

    step: the current step id (None once ended).
    phase: "speak" (its prompt is playing), "pause" (silence after it), "listen" (waiting
      for an answer), "reprompt" (a question asked again), "cue" (a timed exercise),
      "confirm" (checking a rating), "readback" (saying back the rating taken), "check"
      (the dissociation check after silence at a question), "quiet_check" (the soft check
      after long imagery pauses), "ready" (a client-paced step waits for "ready"),
      "paused" (the user said pause), "clarify" (speech barge-in: asking what was meant),
      "helping" (answering "help"), "closing" (the last words), "ended".
    variables: placeholder values and answers (perspective, eyes, helper, ratings...).
    resume_to: where ``$resume`` goes after a stop, a detour or a pause.
    after_pause: the phase to restore on resume.
    noinput / nomatch: counts for the current question.
    rounds: passes through each repeat step.
    last_distress: the last distress rating, for the rise rule and the end guard.
    pending: a rating waiting for confirmation or being read back (-1: a doubtful yes
      waiting for confirmation, at a question whose yes leads deeper).
    cue_index: position within a timed exercise.
    stopped: a stop or signal happened: a later natural end is "stopped", not "completed".
    ending: the reason to finish with once the closing grounding is over.
    rate_wpm / volume: the voice settings in force.
    quiet_s: seconds of imagery pauses since the client was last heard.
    """

    step: str | None = None
    phase: Phase = "speak"
    variables: Mapping[str, str] = field(default_factory=dict)
    resume_to: str | None = None
    after_pause: Phase = "speak"
    noinput: int = 0
    nomatch: int = 0
    rounds: Mapping[str, int] = field(default_factory=dict)
    last_distress: int | None = None
    pending: int | None = None
    cue_index: int = 0
    stopped: bool = False
    ending: str | None = None
    rate_wpm: int = 125
    volume: float = 0.8
    quiet_s: float = 0.0


# ---------------------------------------------------------------- what counts now


def options_of(plan: Plan, state: State, step: AskChoice) -> tuple[ChoiceOption, ...]:
    """The options of a choice now: a helper choice also offers the client's own figures.

    The profile's helper figures (in the client's words, ``own_helpers``: one a line) are
    added after the script's options, unless a script option already answers to them.
    """
    if step.var != "helper":
        return step.options
    own = [h for h in state.variables.get("own_helpers", "").splitlines() if h.strip()]
    known = {p.lower() for o in step.options for p in o.phrases}
    extra = []
    for helper in own:
        bare = " ".join(w for w in helper.split() if w.lower() not in ("my", "a", "an", "the"))
        phrases = tuple(dict.fromkeys(p for p in (helper, spoken_helper(helper), bare) if p))
        if not any(p.lower() in known for p in phrases):
            extra.append(ChoiceOption(spoken_helper(helper), phrases))
    return (*step.options, *extra)


def expectation(plan: Plan, state: State) -> Expectation:
    """What the runner's listener should accept now, beyond stop and the commands."""
    if state.phase in ("confirm", "check", "quiet_check"):
        return YES_NO
    if state.phase in ("paused", "clarify", "ready"):
        return READY
    if state.step is None or state.phase not in ("listen", "reprompt", "speak"):
        return NOTHING
    step = plan.steps[state.step]
    if isinstance(step, AskRating):
        return RATING
    if isinstance(step, AskYesNo):
        return YES_NO
    if isinstance(step, AskChoice):
        return Expectation(frozenset({"choice"}),
                           tuple((o.value, o.phrases) for o in options_of(plan, state, step)))
    return NOTHING


