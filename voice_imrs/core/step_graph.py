"""What follows each step, and which steps are grounding or safety detours. Pure.

One place for the step semantics the engine, validation (``core/script_checks.py``) and
rendering (through ``core/walker.py``) all rely on:

- a step without a target goes to the step after it in its own list: the script's steps
  in file order, or the built-in safety steps of ``voice_imrs.core.safety`` in theirs;
- running off the end of a list closes through ``grounding_close`` (a session always
  ends grounded);
- a *grounding* step is one whose id starts with ``grounding``; a *detour* is a grounding
  step or a safety step (the built-in ``safety_*`` steps, or a script's own step named
  ``safety...``): the places a session goes to settle, not the exercise itself.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from types import MappingProxyType

from voice_imrs.core.safety import GROUNDING_CLOSE, SAFETY_IDS, SafetyPolicy, safety_steps
from voice_imrs.core.script import (
    AskChoice,
    AskRating,
    AskYesNo,
    End,
    Jump,
    RepeatUntil,
    Script,
    Step,
)

GROUNDING_PREFIX = "grounding"
SAFETY_PREFIX = "safety"
#: Where a session goes when it runs off the end of the script (or of the safety steps).
OFF_THE_END = GROUNDING_CLOSE


def is_grounding(step_id: str | None) -> bool:
    """A grounding step (by its id): the ones a high rating and every end pass through."""
    return bool(step_id) and str(step_id).startswith(GROUNDING_PREFIX)


def is_detour(step_id: str | None) -> bool:
    """A grounding or safety step: where a session goes to settle, outside the exercise."""
    if not step_id:
        return False
    return is_grounding(step_id) or step_id in SAFETY_IDS or step_id.startswith(SAFETY_PREFIX)


class StepGraph:
    """A script's steps with the safety steps merged in, and the edges between them.

    A script step wins over a safety step of the same id (validation forbids that), and
    of two script steps with one id the first counts (validation reports the second).
    """

    def __init__(self, script: Script, safety: Sequence[Step] | None = None) -> None:
        self.script = script
        self.safety = tuple(safety if safety is not None else safety_steps(SafetyPolicy()))
        self._script_ids = [step.id for step in script.steps]
        self._safety_ids = [step.id for step in self.safety]
        steps: dict[str, Step] = {step.id: step for step in self.safety}
        own: dict[str, Step] = {}
        for step in script.steps:
            own.setdefault(step.id, step)
        steps.update(own)
        self.steps: Mapping[str, Step] = MappingProxyType(steps)

    @classmethod
    def of(cls, script: Script, policy: SafetyPolicy | None = None) -> StepGraph:
        return cls(script, safety_steps(policy or SafetyPolicy()))

    def following(self, step_id: str) -> str | None:
        """The step after ``step_id`` in its own list; None after the last one."""
        order = self._script_ids if step_id in self._script_ids else self._safety_ids
        position = order.index(step_id) + 1
        return order[position] if position < len(order) else None

    def default_next(self, step: Step) -> str | None:
        """Where ``step`` goes when it is done: its ``next``, else the following step."""
        explicit: str | None = getattr(step, "next", None)
        return explicit if explicit is not None else self.following(step.id)

    def successors(self, step: Step) -> list[str]:
        """Every step ``step`` may lead to, running off the end resolved to ``OFF_THE_END``.

        A rating whose branches leave some values uncovered also goes on by default.
        """
        def after(explicit: str | None) -> str:
            target = explicit if explicit is not None else self.following(step.id)
            return target if target is not None else OFF_THE_END

        if isinstance(step, End):
            return []
        if isinstance(step, Jump):
            return [step.goto]
        if isinstance(step, RepeatUntil):
            return [step.start, after(step.next)]
        if isinstance(step, AskYesNo):
            return [after(step.yes), after(step.no)]
        if isinstance(step, AskChoice):
            return [option.goto or after(step.next) for option in step.options]
        if isinstance(step, AskRating):
            found = [branch.goto or after(step.next) for branch in step.branches]
            covered = {v for b in step.branches for v in range(b.low, b.high + 1)}
            if not set(range(11)) <= covered:
                found.append(after(step.next))
            return found
        return [after(step.next)]


__all__ = ["GROUNDING_PREFIX", "OFF_THE_END", "SAFETY_PREFIX", "StepGraph", "is_detour",
           "is_grounding"]
