"""The therapist's console controls as engine events. Pure, like the engine.

A ``Control`` is what a button on the console (or its keyboard shortcut) asks for. The
engine hands it here from ``advance``; this module answers with the same
``(state, actions)`` the engine gives for anything else, and every answer starts with a
``control`` log event naming the action.

Where a control means the same as something the client can say (pause, repeat, slower,
go to grounding = stop, a rating when one is asked), it is turned into that ``Heard``
intent and goes through the engine's own rules, so the safety rules cannot differ
between the voice and the console. The rest move between steps, and here the one rule
is: nothing skips a grounded ending. Skip, back and jump are refused inside the safety
steps and while the session is closing; a move that would reach the script's end goes to
the closing grounding instead; "end" always closes through grounding.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from types import MappingProxyType
from typing import TYPE_CHECKING

from voice_imrs.core.intents import Intent, IntentKind
from voice_imrs.core.messages import Action, Heard, Log, Setting, Speak
from voice_imrs.core.safety import GROUNDING_CLOSE, GROUNDING_HIGH, SAFETY_IDS
from voice_imrs.core.script import End
from voice_imrs.core.step_graph import is_detour

if TYPE_CHECKING:  # the engine imports this module: types only, no cycle at run time
    from voice_imrs.core.engine import Plan, State

    Result = tuple[State, list[Action]]
    Enter = Callable[[Plan, State, str | None], Result]

#: Controls that mean what a spoken command means: the engine's own rules apply.
SPOKEN_EQUIVALENT: dict[str, IntentKind] = {
    "pause": "pause", "resume": "resume", "repeat": "repeat", "slower": "slower",
    "faster": "faster", "louder": "louder", "softer": "softer", "grounding": "stop",
}
#: Controls that change the wording from the next prompt on: (variable, value).
WORDING: dict[str, tuple[str, str]] = {
    "first_person": ("perspective", "first"), "third_person": ("perspective", "third"),
    "eyes_open": ("eyes", "open"), "eyes_closed": ("eyes", "closed"),
}
MOVES = frozenset({"skip", "back", "jump", "safe_place"})
ACTIONS: frozenset[str] = frozenset({
    *SPOKEN_EQUIVALENT, *MOVES, *WORDING, "mute", "unmute", "say", "rating", "hot_spot", "end",
})
"""Every action the console may send (docs/CONSOLE.md lists them with their meaning)."""


@dataclass(frozen=True)
class Control:
    """One console action.

    action: one of ``ACTIONS``.
    step: the target of ``jump`` (a step id of the script).
    value: the rating for ``rating`` (0-10).
    text: the line for ``say``.
    keep_text: the profile keeps transcripts: the said line may go into the log.
    """

    action: str
    step: str | None = None
    value: int | None = None
    text: str = ""
    keep_text: bool = False


def handle(plan: Plan, state: State, control: Control, enter: Enter) -> Result:
    """What ``control`` does now; ``enter`` is the engine's way into a step."""
    from voice_imrs.core import engine  # a cycle at import time otherwise

    action = control.action
    fields: dict[str, object] = {"action": action}
    if action == "jump":
        fields["to"] = control.step
    if action == "rating":
        fields["value"] = control.value
    if action == "say" and control.keep_text:
        fields["text"] = control.text
    log = Log("control", state.step, fields)

    refusal = _refusal(plan, state, control)
    if refusal is not None:
        return state, [Log("control", state.step, {**fields, "refused": refusal})]
    if action in SPOKEN_EQUIVALENT:
        intent = Intent(SPOKEN_EQUIVALENT[action], text="console", confidence=1.0)
        state, actions = engine.advance(plan, state, Heard(intent))
        return state, [log, *actions]
    if action in WORDING:
        name, value = WORDING[action]
        state = replace(state, variables=MappingProxyType({**state.variables, name: value}))
        return state, [log, Log("setting", state.step, {"name": name, "value": value})]
    if action in ("mute", "unmute"):
        muted = 1.0 if action == "mute" else 0.0
        return state, [log, Setting("muted", muted),
                       Log("setting", state.step, {"name": "muted", "value": muted == 1.0})]
    if action == "hot_spot":
        return state, [log, Log("hot_spot", state.step)]
    if action == "say":
        after = state.after_pause if state.phase == "paused" else state.phase
        # The session waits after the therapist's line: they resume when ready.
        state = replace(state, phase="paused", after_pause=after)
        return state, [log, Log("paused", state.step, {"by": "console"}),
                       Speak(control.text)]
    if action == "rating":
        return _rating(plan, state, int(control.value or 0), log, enter)
    if action == "end":
        state = replace(state, stopped=True, ending="stopped")
        more_state, more = enter(plan, state, GROUNDING_CLOSE)
        return more_state, [log, Log("branch", state.step, {"to": GROUNDING_CLOSE,
                                                            "reason": "console end"}), *more]
    return _move(plan, state, control, log, enter)


def _refusal(plan: Plan, state: State, control: Control) -> str | None:
    """Why ``control`` cannot be done now (None: it can)."""
    action = control.action
    if action not in ACTIONS:
        return "unknown action"
    closing = state.phase == "closing" or state.step == GROUNDING_CLOSE or (
        state.ending is not None)
    if action in MOVES or action == "say":
        if closing:
            return "the session is closing through grounding"
        if action != "safe_place" and action != "say" and state.step in SAFETY_IDS:
            return "grounding in progress"
    if action == "end" and closing:
        return "already ending"
    if action == "jump":
        target = plan.steps.get(control.step or "")
        if target is None or target not in plan.script.steps:
            return "no such step in this script"
    if action == "rating" and (control.value is None or not 0 <= control.value <= 10):
        return "a rating is a whole number from 0 to 10"
    if action == "say" and not control.text.strip():
        return "nothing to say"
    return None


def _rating(plan: Plan, state: State, value: int, log: Log, enter: Enter) -> Result:
    """A rating the therapist heard: an answer when one is asked, else logged as said."""
    from voice_imrs.core import engine

    if state.phase == "confirm":  # the therapist's number settles the check
        state = replace(state, phase="listen", pending=None)
    if "rating" in engine.expectation(plan, state).kinds:
        intent = Intent("rating", value, text="console", confidence=1.0)
        state, answered = engine.advance(plan, state, Heard(intent))
        return state, [log, *answered]
    actions: list[Action] = [log, Log("rating", state.step, {"value": value,
                                                            "scale": "distress",
                                                            "source": "console"})]
    state = replace(state, last_distress=value)
    in_safety = is_detour(state.step)
    if value >= plan.policy.high and not in_safety:
        # The same rule as for a spoken rating: high distress grounds at once.
        state = replace(state, resume_to=state.step)
        more_state, more = enter(plan, state, GROUNDING_HIGH)
        return more_state, [*actions, Log("branch", state.step, {"to": GROUNDING_HIGH,
                                                                 "reason": "safety"}), *more]
    return state, actions


def _move(plan: Plan, state: State, control: Control, log: Log, enter: Enter) -> Result:
    """Skip, back, jump or safe place: into another step, never past the grounding."""
    from voice_imrs.core.safety import SAFETY_SAFE_PLACE

    steps = [step.id for step in plan.script.steps]
    current = state.step or steps[0]
    target: str | None
    if control.action == "safe_place":
        target = SAFETY_SAFE_PLACE
        # From the safe place the engine offers to go on, and going on comes back here.
        state = replace(state, resume_to=current if current not in SAFETY_IDS
                        else state.resume_to)
    elif control.action == "jump":
        target = control.step
    elif control.action == "skip":
        target = plan.following(current)
    else:  # back
        position = steps.index(current) if current in steps else 0
        target = steps[max(0, position - 1)]
    if target is None or isinstance(plan.steps[target], End):
        target = GROUNDING_CLOSE  # the script's end is reached through grounding only
    more_state, more = enter(plan, state, target)
    return more_state, [log, Log("branch", state.step, {"to": target, "reason":
                                                        f"console {control.action}"}), *more]
