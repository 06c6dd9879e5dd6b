"""Where session events go besides the engine: a JSON-lines file or stream, and captions."""

from __future__ import annotations

import contextlib
import json
import sys
from datetime import datetime
from typing import IO

from voice_imrs.core.events import LogEvent


class JsonLinesLog:
    """Writes each event as one JSON line and flushes it, so a crash loses nothing written."""

    def __init__(self, stream: IO[str]) -> None:
        self.stream = stream
        self.write_error: str | None = None

    def __call__(self, event: LogEvent) -> None:
        if self.write_error is not None:
            return
        # ``t`` is the session's own clock; ``clock`` says when it was on the wall, so a
        # therapist can put the log beside their notes of the call.
        clock = datetime.now().astimezone().isoformat(timespec="milliseconds")
        line = {**event.to_dict(), "clock": clock}
        try:
            self.stream.write(json.dumps(line, ensure_ascii=False) + "\n")
            self.stream.flush()
        except OSError as error:
            # A full disk or a closed pipe must not become a fault of the session (which
            # would cut its grounding short): the log stops, told once, the session goes on.
            self.write_error = str(error)
            name = getattr(self.stream, "name", None)
            where = f" {name}" if isinstance(name, str) else ""
            print(f"voice-imrs: the event log{where} could not be written ({error}); the "
                  "session goes on without it.", file=sys.stderr)


def close_log(stream: IO[str]) -> None:
    """Close an event log; a write that already failed (told once) fails again here."""
    with contextlib.suppress(OSError):
        stream.close()
