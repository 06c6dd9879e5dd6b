"""The script model: a guided exercise as plain frozen data.

A script is an ordered tuple of steps. A step flows to the next one in order unless it
names ``next`` (or branches). Text may hold placeholders such as ``{safe_place}`` and
perspective alternatives (see ``voice_imrs.core.wording``). The loader in
``voice_imrs.script_files`` builds these from TOML and validates them; the engine in
``voice_imrs.core.engine`` walks them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

Mode = Literal["homework", "therapist"]


@dataclass(frozen=True)
class Say:
    """Speak ``text``, then stay silent ``pause_after_s`` seconds. ``bell`` rings before.

    ``until_ready_s`` > 0 makes the step client-paced: after the text it waits up to that
    long for "ready" (or Enter) instead of a fixed pause, with a gentle check-in on silence.
    """

    id: str
    text: str
    pause_after_s: float = 0.0
    bell: str | None = None
    next: str | None = None
    until_ready_s: float = 0.0


@dataclass(frozen=True)
class Pause:
    """Silence for ``seconds`` (listening for commands), with an optional bell at the start."""

    id: str
    seconds: float
    bell: str | None = None
    next: str | None = None


@dataclass(frozen=True)
class RatingBranch:
    """Ratings ``low``..``high`` (inclusive) go to step ``goto`` (None: the next step)."""

    low: int
    high: int
    goto: str | None = None


@dataclass(frozen=True)
class AskRating:
    """Ask for a 0-10 distress (or belief) rating; branch by range; store it in ``var``.

    ``scale`` is "distress" (SUD: the safety thresholds apply) or "belief" (0-10 how true a
    new meaning feels; no safety branching).
    """

    id: str
    text: str
    branches: tuple[RatingBranch, ...] = ()
    var: str | None = None
    scale: Literal["distress", "belief"] = "distress"
    next: str | None = None


@dataclass(frozen=True)
class AskYesNo:
    """Ask a yes/no question; ``yes``/``no`` name the step to go to (None: the next step).

    ``unclear``: what a hedge ("maybe", "not sure") counts as: "no" (the default: only a
    clear yes leads deeper) or "yes" (a risk question in the safety screen).
    """

    id: str
    text: str
    yes: str | None = None
    no: str | None = None
    var: str | None = None
    unclear: Literal["yes", "no"] = "no"


@dataclass(frozen=True)
class ChoiceOption:
    """One answer to a spoken choice: the value stored, the phrases that pick it, a jump."""

    value: str
    phrases: tuple[str, ...]
    goto: str | None = None


@dataclass(frozen=True)
class AskChoice:
    """Ask the user to pick one option by voice (for example the helper figure)."""

    id: str
    text: str
    options: tuple[ChoiceOption, ...]
    var: str | None = None
    next: str | None = None


@dataclass(frozen=True)
class Timed:
    """A timed exercise: paced breathing or a timer with interval bells.

    kind "breathing": cue ``inhale_cue`` for ``inhale_s``, optional hold, ``exhale_cue`` for
    ``exhale_s``, repeated until ``duration_s``. kind "timer": silence for ``duration_s``
    with ``bell`` every ``interval_s`` seconds (0: none).
    """

    id: str
    kind: Literal["breathing", "timer"]
    duration_s: float
    inhale_s: float = 4.0
    hold_s: float = 0.0
    exhale_s: float = 6.0
    inhale_cue: str = "in"
    exhale_cue: str = "out"
    interval_s: float = 0.0
    bell: str | None = None
    next: str | None = None


@dataclass(frozen=True)
class RepeatUntil:
    """Loop back to ``start`` until variable ``until`` is "yes" or ``max_rounds`` are done.

    Placed at the end of the loop body; the body asks the question that sets ``until``.
    """

    id: str
    start: str
    until: str | None = None
    max_rounds: int = 3
    next: str | None = None


@dataclass(frozen=True)
class Jump:
    """Go to step ``goto``."""

    id: str
    goto: str


@dataclass(frozen=True)
class SetVar:
    """Set variable ``name`` to ``value`` (for example the perspective "third")."""

    id: str
    name: str
    value: str
    next: str | None = None


@dataclass(frozen=True)
class End:
    """The session ends here. Every path must reach an End through a grounding step."""

    id: str
    text: str = ""


Step = Say | Pause | AskRating | AskYesNo | AskChoice | Timed | RepeatUntil | Jump | SetVar | End
ASK_STEPS = (AskRating, AskYesNo, AskChoice)


@dataclass(frozen=True)
class Script:
    """A whole guided exercise.

    name: the id used on the command line ("safe_place").
    title: spoken in menus ("Safe place").
    mode: "homework" scripts are offered to everyone; "therapist" ones only when the
      profile says a therapist enabled them.
    minutes: rough length, spoken in menus.
    variables: defaults for placeholders the script itself defines.
    source: the file it came from, for error messages.
    """

    name: str
    title: str
    steps: tuple[Step, ...]
    mode: Mode = "homework"
    minutes: float = 0.0
    description: str = ""
    variables: dict[str, str] = field(default_factory=dict)
    source: str = ""

    def index(self, step_id: str) -> int:
        """Position of ``step_id``; KeyError when absent."""
        for position, step in enumerate(self.steps):
            if step.id == step_id:
                return position
        raise KeyError(step_id)

    def step(self, step_id: str) -> Step:
        return self.steps[self.index(step_id)]

    def following(self, step_id: str) -> str | None:
        """The step after ``step_id`` in file order, or None after the last."""
        position = self.index(step_id) + 1
        return self.steps[position].id if position < len(self.steps) else None
