"""Where session events go besides the engine: a JSON-lines file or stream, and captions."""

from __future__ import annotations

import json
import sys
from typing import IO, TextIO

from voice_imrs.core.events import LogEvent


class JsonLinesLog:
    """Writes each event as one JSON line and flushes it, so a crash loses nothing written."""

    def __init__(self, stream: IO[str]) -> None:
        self.stream = stream

    def __call__(self, event: LogEvent) -> None:
        self.stream.write(json.dumps(event.to_dict(), ensure_ascii=False) + "\n")
        self.stream.flush()


class Captions:
    """Prints every spoken line as plain text: what screen readers and therapists read."""

    def __init__(self, stream: TextIO | None = None) -> None:
        self.stream = stream or sys.stdout

    def __call__(self, text: str) -> None:
        print(text, file=self.stream, flush=True)
