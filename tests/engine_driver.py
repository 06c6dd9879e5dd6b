"""Drive the pure engine without audio: a client that answers by rule, for tests."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from voice_imrs.core import engine
from voice_imrs.core.intents import Intent
from voice_imrs.core.messages import Action, Finish, Heard, Listen, Log, Speak, Wait

Answer = Callable[[engine.State, Listen], engine.Event]


@dataclass
class Run:
    """What a driven session did: the logged events and the actions, in order."""

    logs: list[Log] = field(default_factory=list)
    actions: list[Action] = field(default_factory=list)
    state: engine.State = field(default_factory=engine.State)

    def events(self, name: str | None = None) -> list[Log]:
        return [log for log in self.logs if name is None or log.event == name]

    def steps(self) -> list[str]:
        return [str(log.step) for log in self.logs if log.event == "step"]

    @property
    def reason(self) -> str | None:
        ends = self.events("session_end")
        return ends[-1].fields["reason"] if ends else None

    def spoken(self) -> list[str]:
        return [a.text for a in self.actions if isinstance(a, Speak)]


def calm_answer(state: engine.State, listen: Listen) -> engine.Event:
    """Answers that keep a session on its calm path."""
    kinds = listen.expect.kinds
    if "rating" in kinds:
        return Heard(Intent("rating", 2, "two", 0.9))
    if "choice" in kinds:
        return Heard(Intent("choice", listen.expect.choices[0][0], "", 0.9))
    if "yes" in kinds:
        return Heard(Intent("yes", None, "yes", 0.9))
    return Heard(Intent("ready", None, "ready", 0.9))


def drive(plan: engine.Plan, answer: Answer = calm_answer, *,
          inject: Callable[[int, Action], engine.Event | None] | None = None,
          max_turns: int = 2000, variables: dict[str, str] | None = None) -> Run:
    """Run a session to its end; ``inject(turn, awaiting)`` may replace a completion."""
    run = Run()
    state, actions = engine.start(plan, variables or {"safe_place": "a quiet beach"})
    turn = 0
    while turn < max_turns:
        turn += 1
        run.actions.extend(actions)
        run.logs.extend(a for a in actions if isinstance(a, Log))
        if any(isinstance(a, Finish) for a in actions):
            break
        awaiting = next((a for a in reversed(actions) if isinstance(a, engine.AWAITING)), None)
        if awaiting is None:
            raise AssertionError(f"engine stalled at {state.step} ({state.phase}): {actions}")
        event = inject(turn, awaiting) if inject else None
        if event is None:
            if isinstance(awaiting, Speak):
                event = engine.SpeechDone()
            elif isinstance(awaiting, Wait):
                event = engine.TimerDone()
            else:
                event = answer(state, awaiting)
        new_state, actions = engine.advance(plan, state, event)
        if not any(isinstance(a, engine.AWAITING + (Finish,)) for a in actions):
            # Nothing new to await (an ignored word): the previous awaiting action goes on.
            actions = [*actions, awaiting]
        state = new_state
    run.state = state
    return run
