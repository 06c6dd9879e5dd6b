"""One walker: the pure engine driven to its end by a client who answers by rule. Pure.

Every non-interactive run goes through here: a rendered track (``render/track.py``), the
estimated length `voice-imrs list` gives, and the tests that check whole sessions. The
walker completes each awaiting action as the runner would (a ``Speak`` with
``SpeechDone``, a ``Wait`` with ``TimerDone``) and answers each ``Listen`` with an
``Answer``:

- ``calm_answer``: a steady client (a rating of 2, the first option, yes, ready);
- ``track_answer``: the gentlest answer for a recording nobody answers: the
  lowest-distress branch (rating 0 on a distress scale, 10 on a belief scale), "yes"
  unless "yes" leads into a grounding or safety detour and "no" does not, the option the
  profile already holds for a choice's variable (the helper) else the first, "ready";
  and ``walk`` runs each repeat's body once (nobody is there to need it again).

``Run.trace`` keeps the actions in the order the engine gave them with the events the
walker answered with, so an adapter can translate the session action by action.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from types import MappingProxyType

from voice_imrs.core import engine
from voice_imrs.core.intents import Intent, IntentKind
from voice_imrs.core.messages import Action, Event, Finish, Heard, Listen, Log, Speak, Wait
from voice_imrs.core.script import AskRating, AskYesNo, RepeatUntil
from voice_imrs.core.step_graph import is_detour
from voice_imrs.errors import ScriptError

Answer = Callable[[engine.State, Listen], Event]
#: The confidence of every answer the walker gives: above ``confirm_below``, so a rating
#: is read back (as in a session) and not confirmed first.
CONFIDENCE = 0.9


@dataclass
class Run:
    """What a driven session did: the logged events and the actions, in order.

    trace: the actions as the engine gave them, each awaiting one followed by the event
        that completed or answered it.
    """

    logs: list[Log] = field(default_factory=list)
    actions: list[Action] = field(default_factory=list)
    state: engine.State = field(default_factory=engine.State)
    trace: list[Action | Event] = field(default_factory=list)

    def events(self, name: str | None = None) -> list[Log]:
        return [log for log in self.logs if name is None or log.event == name]

    def steps(self) -> list[str]:
        return [str(log.step) for log in self.logs if log.event == "step"]

    @property
    def reason(self) -> str | None:
        ends = self.events("session_end")
        return ends[-1].fields["reason"] if ends else None

    @property
    def finished(self) -> bool:
        return any(isinstance(action, Finish) for action in self.actions)

    def spoken(self) -> list[str]:
        return [a.text for a in self.actions if isinstance(a, Speak)]


class Stalled(Exception):
    """The engine awaits nothing and has not finished: a defect in the engine."""


def calm_answer(state: engine.State, listen: Listen) -> Event:
    """Answers that keep a session on its calm path."""
    kinds = listen.expect.kinds
    if "rating" in kinds:
        return Heard(Intent("rating", 2, "two", CONFIDENCE))
    if "choice" in kinds:
        return Heard(Intent("choice", listen.expect.choices[0][0], "", CONFIDENCE))
    if "yes" in kinds:
        return Heard(Intent("yes", None, "yes", CONFIDENCE))
    return Heard(Intent("ready", None, "ready", CONFIDENCE))


def track_answer(plan: engine.Plan) -> Answer:
    """The gentlest answers (rules in the module doc); a choice's text is the option said."""
    def answer(state: engine.State, listen: Listen) -> Event:
        kinds = listen.expect.kinds
        step = plan.steps.get(state.step or "")
        if "rating" in kinds:
            value = _gentlest_rating(step) if isinstance(step, AskRating) else 0
            return Heard(Intent("rating", value, str(value), CONFIDENCE))
        if "choice" in kinds:
            option, said = _held_choice(listen.expect.choices, state.variables,
                                        getattr(step, "var", None))
            return Heard(Intent("choice", option, said, CONFIDENCE))
        if "yes" in kinds:
            word: IntentKind = "yes"
            if state.phase == "listen" and isinstance(step, AskYesNo) \
                    and is_detour(step.yes) and not is_detour(step.no):
                word = "no"
            return Heard(Intent(word, None, word, CONFIDENCE))
        return Heard(Intent("ready", None, "ready", CONFIDENCE))
    return answer


def _gentlest_rating(step: AskRating) -> int:
    """0 on a distress scale (10 on a belief scale), within the step's branches if any."""
    if step.scale == "belief":
        return max((branch.high for branch in step.branches), default=10)
    return min((branch.low for branch in step.branches), default=0)


def _held_choice(choices: Sequence[tuple[str, tuple[str, ...]]], variables: Mapping[str, str],
                 var: str | None) -> tuple[str, str]:
    """(value, how it is said) of the option the variable already holds, else the first."""
    def said(value: str, phrases: tuple[str, ...]) -> str:
        return phrases[0] if phrases else value.replace("_", " ")

    held = " ".join(variables.get(var or "", "").lower().replace("_", " ").split())
    if held:
        for value, phrases in choices:
            names = [value.lower().replace("_", " "), *(p.lower() for p in phrases)]
            if any(name and (name == held or f" {name} " in f" {held} ") for name in names):
                return value, said(value, phrases)
    value, phrases = choices[0]
    return value, said(value, phrases)


def drive(plan: engine.Plan, answer: Answer = calm_answer, *,
          inject: Callable[[int, Action], Event | None] | None = None,
          max_turns: int = 2000, max_steps: int | None = None,
          variables: Mapping[str, str] | None = None, loops_once: bool = False) -> Run:
    """Run a session to its end; ``inject(turn, awaiting)`` may replace a completion.

    Stops after ``max_turns`` completions or ``max_steps`` steps entered, unfinished
    (``Run.finished`` tells). ``loops_once``: every repeat step's body runs once the
    first time it is reached (its count starts at its last round), as in a recording.
    """
    run = Run()
    state, actions = engine.start(plan, variables if variables is not None
                                  else {"safe_place": "a quiet beach"})
    if loops_once:
        state = replace(state, rounds=MappingProxyType({
            step.id: step.max_rounds - 1 for step in plan.steps.values()
            if isinstance(step, RepeatUntil)}))
    run.trace.extend(actions)
    turn = entered = 0
    while turn < max_turns:
        turn += 1
        run.actions.extend(actions)
        run.logs.extend(a for a in actions if isinstance(a, Log))
        if any(isinstance(a, Finish) for a in actions):
            break
        entered += sum(1 for a in actions if isinstance(a, Log) and a.event == "step")
        if max_steps is not None and entered > max_steps:
            break
        awaiting = next((a for a in reversed(actions) if isinstance(a, engine.AWAITING)), None)
        if awaiting is None:
            raise Stalled(f"engine stalled at {state.step} ({state.phase}): {actions}")
        event = inject(turn, awaiting) if inject else None
        if event is None:
            if isinstance(awaiting, Speak):
                event = engine.SpeechDone()
            elif isinstance(awaiting, Wait):
                event = engine.TimerDone()
            elif isinstance(awaiting, Listen):
                event = answer(state, awaiting)
        assert event is not None  # AWAITING is Speak, Wait or Listen
        run.trace.append(event)
        new_state, actions = engine.advance(plan, state, event)
        run.trace.extend(actions)
        if not any(isinstance(a, (*engine.AWAITING, Finish)) for a in actions):
            # Nothing new to await (an ignored word): the previous awaiting action goes on.
            actions = [*actions, awaiting]
        state = new_state
    run.state = state
    return run


def walk(plan: engine.Plan, variables: Mapping[str, str]) -> Run:
    """The session a recording gives: ``track_answer`` from the first step to the end.

    A script that names a missing step, or loops without reaching an end, is a
    ScriptError naming its file (it cannot become a track).
    """
    script = plan.script
    where = script.source or script.name
    loops = ScriptError("the calm path loops without reaching an end.", file=where,
                        hint="Check the jumps and repeat steps.")
    try:
        # Every step at most a few times (a repeat runs its body again, a detour comes
        # back); timed steps take many turns, so turns alone do not bound a walk.
        run = drive(plan, track_answer(plan), max_turns=1_000_000,
                    max_steps=4 * len(plan.steps) + 10, variables=variables,
                    loops_once=True)
    except RuntimeError as error:  # the engine's guard: steps jump in a circle, silent
        raise loops from error
    except KeyError as error:  # the walk reached a target that is no step
        missing = error.args[0] if error.args else None
        if not isinstance(missing, str) or missing in plan.steps:
            raise  # not a missing step: a defect, not the script's fault
        raise ScriptError("a step jumps to a step that does not exist.", file=where,
                          step=missing, hint="Run `voice-imrs validate` on the script.") from error
    if not run.finished:
        raise loops
    return run


__all__ = ["Answer", "Run", "Stalled", "calm_answer", "drive", "track_answer", "walk"]
