"""Captions: every spoken line as plain text, timed so that a screen reader can follow.

A screen reader and the session's voice both speak; if a line is printed while the voice
says it, the two talk over each other. So the caption's moment is a choice:

- ``before`` (the default): printed just before the voice begins the line, so a reader
  (or a therapist watching) has it first;
- ``after``: printed once the voice has finished the line (or was cut off), so a screen
  reader speaks in the gap that follows instead of over the voice;
- ``off``: nothing printed (``--quiet``).

Output is one line per spoken line, no colour, no redrawing. Repeated breathing cues are
left out by the runner (each cue text is captioned once per exercise).
"""

from __future__ import annotations

import sys
from typing import Literal, Protocol, TextIO

CaptionTiming = Literal["before", "after", "off"]
CAPTION_TIMINGS: tuple[CaptionTiming, ...] = ("before", "after", "off")


class CaptionLines(Protocol):
    """Told when a spoken line begins and when its voice has ended (played or cut off)."""

    def begin(self, text: str) -> None: ...

    def end(self) -> None: ...


class Captions:
    """Prints each spoken line to ``stream`` before or after the voice says it."""

    def __init__(self, stream: TextIO | None = None, when: CaptionTiming = "before") -> None:
        if when not in ("before", "after"):
            raise ValueError(f"caption timing {when!r}: use before or after (off: no Captions)")
        self.stream = stream or sys.stdout
        self.when = when
        self._pending: str | None = None
        self._gone = False

    def begin(self, text: str) -> None:
        self.end()  # a line still waiting (after mode) comes first
        if self.when == "before":
            self._print(text)
        else:
            self._pending = text

    def end(self) -> None:
        if self._pending is not None:
            text, self._pending = self._pending, None
            self._print(text)

    def _print(self, text: str) -> None:
        if self._gone:
            return
        try:
            print(text, file=self.stream, flush=True)
        except OSError:
            # The terminal was closed (SIGHUP, a dropped SSH link): the voice goes on and
            # grounds; a caption nobody can read must not turn that into a fault.
            self._gone = True


def make_captions(when: str, stream: TextIO | None = None) -> Captions | None:
    """The captions for a ``--captions`` choice: None for off."""
    if when == "off":
        return None
    return Captions(stream, "after" if when == "after" else "before")
