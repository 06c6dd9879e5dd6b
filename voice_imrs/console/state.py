"""The console's live view of a session, and the push channel that sends it to pages.

``ConsoleState`` is an observer of the session's event log: each event is stamped with
the wall-clock time (the session log's ``t`` is the session's own audio clock, which is
not the time on the therapist's watch), added to the view, and pushed to every open page
with the small part of the state that changed. ``snapshot()`` is the whole view, for
``GET /api/state`` and for a page that connects late.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING, Any

from voice_imrs.console.phases import part_names, phase_of
from voice_imrs.core.events import LogEvent
from voice_imrs.core.wording import render_text
from voice_imrs.errors import VoiceImrsError

if TYPE_CHECKING:
    from voice_imrs.session.runner import SessionRunner

#: A page that stops reading is dropped rather than holding the session's memory.
QUEUE_LIMIT = 1000
#: How many prompts after the current one the console shows (teleprompter reading ahead).
NEXT_PROMPTS = 2


class ConsoleState:
    """What the console shows; fed by ``observe`` (a session observer)."""

    def __init__(self, *, notes_enabled: bool = False,
                 on_note: Callable[[str], None] | None = None,
                 devices: dict[str, str] | None = None, teleprompter: bool = False,
                 clock: Callable[[], float] = time.time) -> None:
        self.devices = dict(devices or {})
        self.teleprompter = teleprompter
        self.notes_enabled = notes_enabled
        self.notes = ""
        self._on_note = on_note
        self._clock = clock
        self._runner: SessionRunner | None = None
        self._parts: dict[str, str] = {}
        self.events: list[dict[str, Any]] = []
        self.ratings: list[dict[str, Any]] = []
        self.step: str | None = None
        self.text = ""
        self.phase = ""
        self.started_at = clock()
        self.phase_started_at = self.started_at
        self.ended: str | None = None
        self._pages: set[asyncio.Queue[dict[str, Any] | None]] = set()

    def attach(self, runner: SessionRunner) -> None:
        """Read the plan and live settings of ``runner`` (before it starts)."""
        self._runner = runner
        self._parts = part_names(runner.plan.script)

    # ------------------------------------------------------------ events in

    def observe(self, event: LogEvent) -> None:
        """A session observer: one logged event."""
        now = self._clock()
        entry = {**event.to_dict(), "clock": _clock_text(now), "at": round(now, 3)}
        self.events.append(entry)
        if event.event == "session_start":
            self.started_at = self.phase_started_at = now
        if event.event == "step":
            self.step = event.step
            phase = phase_of(self._parts, event.step)
            if phase != self.phase:
                self.phase, self.phase_started_at = phase, now
        elif event.event == "say_start":
            self.text = str(event.fields.get("text", ""))
        elif event.event == "rating":
            self.ratings.append({"t": entry["t"], "value": event.fields.get("value"),
                                 "clock": entry["clock"], "at": entry["at"],
                                 "step": event.step, "phase": self.phase})
        elif event.event == "session_end":
            self.ended = str(event.fields.get("reason", ""))
        self._push({"type": "event", "event": entry, "live": self.live()})

    def add_note(self, text: str) -> None:
        """Keep the therapist's note for this session (only when notes are on)."""
        if not self.notes_enabled:
            raise NotesOffError("notes are off for this session",
                                hint="Start the console with --notes to keep a note.")
        self.notes = text
        if self._on_note is not None:
            self._on_note(text)
        self._push({"type": "note", "notes": text})

    # ------------------------------------------------------------ views out

    def live(self) -> dict[str, Any]:
        """The small changing part: step, phase, prompt, next prompts, settings, timers."""
        runner = self._runner
        state = runner.state if runner else None
        return {
            "step": self.step, "phase": self.phase, "text": self.text,
            "next": self._next_prompts(), "started_at": self.started_at,
            "phase_started_at": self.phase_started_at, "ended": self.ended,
            "engine_phase": state.phase if state else None,
            "muted": bool(runner.muted) if runner else False,
            "rate_wpm": state.rate_wpm if state else None,
            "volume": state.volume if state else None,
            "perspective": state.variables.get("perspective") if state else None,
            "eyes": state.variables.get("eyes") if state else None,
        }

    def snapshot(self) -> dict[str, Any]:
        """Everything, for ``GET /api/state`` and a page that connects."""
        outline = []
        if self._runner is not None:
            for step in self._runner.plan.script.steps:
                outline.append({"id": step.id, "kind": type(step).__name__.lower(),
                                "phase": self._parts.get(step.id, "")})
        return {**self.live(), "ratings": list(self.ratings), "events": list(self.events),
                "outline": outline, "notes_enabled": self.notes_enabled,
                "devices": self.devices, "teleprompter": self.teleprompter,
                "notes": self.notes if self.notes_enabled else None}

    def _next_prompts(self) -> list[str]:
        runner = self._runner
        if runner is None or self.step is None or self.step not in runner.plan.steps:
            return []
        variables = dict(runner.state.variables)
        prompts: list[str] = []
        step_id: str | None = self.step
        for _ in range(10):  # walk past silent steps (pauses, settings) to the next words
            if len(prompts) >= NEXT_PROMPTS or step_id is None:
                break
            step_id = runner.plan.following(step_id)
            text = getattr(runner.plan.steps.get(step_id or ""), "text", "")
            if text:
                prompts.append(_wording(text, variables))
        return prompts

    # ------------------------------------------------------------ push

    def subscribe(self) -> asyncio.Queue[dict[str, Any] | None]:
        """A queue that receives every push from now on (``None``: the console closes)."""
        queue: asyncio.Queue[dict[str, Any] | None] = asyncio.Queue(QUEUE_LIMIT)
        self._pages.add(queue)
        return queue

    def unsubscribe(self, queue: asyncio.Queue[dict[str, Any] | None]) -> None:
        self._pages.discard(queue)

    def close(self) -> None:
        """Tell every page's stream to end."""
        for queue in list(self._pages):
            with contextlib.suppress(asyncio.QueueFull):
                queue.put_nowait(None)

    def _push(self, message: dict[str, Any]) -> None:
        for queue in list(self._pages):
            try:
                queue.put_nowait(message)
            except asyncio.QueueFull:  # a page that stopped reading: it reloads the state
                self._pages.discard(queue)


class NotesOffError(VoiceImrsError):
    """A note was sent while notes are off."""

    exit_code = 2


def _clock_text(now: float) -> str:
    return datetime.fromtimestamp(now).strftime("%H:%M:%S")


def _wording(text: str, variables: dict[str, str]) -> str:
    """The prompt as it will be said; as written when a value is only known later."""
    try:
        return render_text(text, variables, variables.get("perspective", "first"),
                           variables.get("eyes", "closed"))
    except VoiceImrsError:
        return text
