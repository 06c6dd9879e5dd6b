"""The messages between the session runner and the engine: events in, actions out.

Events tell the engine what happened; actions tell the runner what to do. Every action
list holds at most one *awaiting* action (``Speak``, ``Wait``, ``Listen``), always last.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from voice_imrs.core.events import Interrupt
from voice_imrs.core.intents import Expectation, Intent

# ---------------------------------------------------------------- events (runner -> engine)


@dataclass(frozen=True)
class Begin:
    """The session starts."""


@dataclass(frozen=True)
class SpeechDone:
    """The prompt being spoken was heard to its end."""


@dataclass(frozen=True)
class TimerDone:
    """A ``Wait`` ran its full time."""


@dataclass(frozen=True)
class Silence:
    """A ``Listen`` ran out of time with no answer."""


@dataclass(frozen=True)
class Heard:
    """The user said or typed something that counts (see ``expectation``).

    t: when a listener decided it, in seconds of audio fed so far (None when typed).
    """

    intent: Intent
    t: float | None = None


@dataclass(frozen=True)
class Signal:
    """Ctrl-C or SIGTERM: ground briefly, then end."""

    name: str = "SIGINT"


@dataclass(frozen=True)
class Fault:
    """Something broke inside the session: ground briefly, then end."""

    error: str


Event = Begin | SpeechDone | TimerDone | Silence | Heard | Signal | Fault

# ---------------------------------------------------------------- actions (engine -> runner)


@dataclass(frozen=True)
class Speak:
    """Say ``text`` (awaiting: ``SpeechDone``, no sooner than ``hold_s`` after it began).

    ``louder`` for urgent cues; ``hold_s`` keeps the rhythm of timed exercises.
    """

    text: str
    louder: bool = False
    hold_s: float = 0.0


@dataclass(frozen=True)
class Wait:
    """Stay silent ``seconds`` while listening for commands (awaiting: ``TimerDone``)."""

    seconds: float


@dataclass(frozen=True)
class Listen:
    """Listen for an answer up to ``timeout_s`` (awaiting: ``Heard`` or ``Silence``)."""

    expect: Expectation
    timeout_s: float


@dataclass(frozen=True)
class Bell:
    """Ring an asset sound (``gain`` above 1 for the louder alerting bell)."""

    name: str
    gain: float = 1.0


@dataclass(frozen=True)
class Setting:
    """A voice setting changed: ``rate_wpm`` or ``volume`` (the runner applies it)."""

    name: str
    value: float


@dataclass(frozen=True)
class Log:
    """An event for the session log (the runner stamps the time)."""

    event: str
    step: str | None
    fields: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Finish:
    """The session is over; ``reason`` is completed, stopped, signal or fault."""

    reason: str


Action = Speak | Wait | Listen | Bell | Setting | Log | Finish | Interrupt
AWAITING = (Speak, Wait, Listen)
