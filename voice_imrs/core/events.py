"""The session event log: what happened, when, at which step.

One ``LogEvent`` per line of JSON (``events.jsonl``, ``simulate`` output, the record store).
Required keys: ``t`` (seconds since the session started, monotonic), ``event`` and ``step``
(the step id, or null). Other keys are the event's own fields.

Event names:
  session_start  script, mode, perspective, eyes
  step           kind (the step kind) -- a new step began
  say_start      text                 -- a prompt began to play
  say_end        (none)               -- a prompt played to its end
  interrupted    by (stop, pause, speech, signal) -- a prompt was cut off
  intent         intent, value, text, confidence
  rating         value, scale
  confirm        value, confirmed      -- a low-confidence rating was checked
  noinput        count                 -- a question met silence
  nomatch        count, text           -- an answer matched nothing
  branch         to, reason            -- the script went somewhere other than next
  setting        name, value           -- rate/volume/perspective/eyes changed
  paused / resumed
  bell           name
  fault          error                 -- something broke inside the session
  session_end    reason: completed | stopped | incomplete | signal | fault
                 (incomplete: a declined, aborted or unfinished rescript, closed safely)
  control        action, to, value, text, refused -- a therapist's console control
                                       (text only when transcripts are kept)
  hot_spot       (none)                -- the therapist marked the hot spot
The JSON-lines log adds ``clock``, the wall-clock time (ISO 8601 with the UTC offset).
Grounding step ids start with ``grounding``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

EVENT_NAMES = frozenset({
    "session_start", "step", "say_start", "say_end", "interrupted", "intent", "rating",
    "confirm", "noinput", "nomatch", "branch", "setting", "paused", "resumed", "bell",
    "fault", "session_end", "control", "hot_spot",
})
END_REASONS = ("completed", "stopped", "incomplete", "signal", "fault")


@dataclass(frozen=True)
class LogEvent:
    """One thing that happened in a session; ``fields`` are the event's own keys."""

    t: float
    event: str
    step: str | None = None
    fields: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {"t": round(self.t, 3), "event": self.event, "step": self.step, **self.fields}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> LogEvent:
        rest = {k: v for k, v in data.items() if k not in ("t", "event", "step")}
        return cls(float(data["t"]), str(data["event"]), data.get("step"), rest)


@dataclass(frozen=True)
class Interrupt:
    """An action: silence everything being played now (voice, bells, background).

    The engine emits it on a stop, so that cutting the sound is an explicit decision and
    not a side effect of the next action replacing the current one. ``by`` says why
    (stop, eyes_open, signal, fault).
    """

    by: str = "stop"
