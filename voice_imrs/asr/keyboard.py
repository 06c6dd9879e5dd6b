"""Typed text as a recognizer: each line typed (``stop``, ``7``, ``yes``) is a final result.

For users who cannot or prefer not to speak, for demos without a microphone, and for
tests (lines given as a list). Audio fed to it is ignored. Standard input is polled with
``select`` where the platform allows (no thread at all); elsewhere one daemon thread
reads it and stops at end of input.
"""

from __future__ import annotations

import os
import queue
import sys
import threading
from collections.abc import Iterable
from typing import TextIO

import numpy as np

from voice_imrs.core.intents import Expectation, normalize
from voice_imrs.ports import PCM, Hypothesis

_NO_AUDIO: PCM = np.zeros(0, np.int16)


class KeyboardRecognizer:
    """``ports.Recognizer`` over typed lines.

    lines: the lines to "hear" (tests); when None, lines come from ``stream`` (stdin).
    """

    name = "keyboard"

    def __init__(self, lines: Iterable[str] | None = None, stream: TextIO | None = None) -> None:
        self._queue: queue.Queue[str | None] = queue.Queue()
        self.at_end = False
        self._fd: int | None = None
        self._buffer = b""
        self._thread: threading.Thread | None = None
        if lines is not None:
            for line in lines:
                self._queue.put(line)
            self._queue.put(None)
            return
        stream = stream or sys.stdin
        try:
            fd = stream.fileno()
        except (AttributeError, OSError, ValueError):
            fd = -1
        if fd >= 0 and os.name == "posix":
            self._fd = fd
        else:
            self._thread = threading.Thread(target=self._read_stream, args=(stream,),
                                            name="keyboard-reader", daemon=True)
            self._thread.start()

    def _read_stream(self, stream: TextIO) -> None:
        for line in stream:
            self._queue.put(line)
        self._queue.put(None)

    def _poll_fd(self) -> None:
        import select

        assert self._fd is not None
        while not self.at_end and select.select([self._fd], [], [], 0)[0]:
            chunk = os.read(self._fd, 4096)
            if not chunk:
                if self._buffer:
                    self._queue.put(self._buffer.decode(errors="replace"))
                self._buffer = b""
                self._queue.put(None)
                self._fd = None
                return
            self._buffer += chunk
            *lines, self._buffer = self._buffer.split(b"\n")
            for line in lines:
                self._queue.put(line.decode(errors="replace"))

    def accept(self, block: PCM) -> list[Hypothesis]:
        """Ignore the audio; return the lines typed since the last call."""
        if self._fd is not None:
            self._poll_fd()
        heard: list[Hypothesis] = []
        while True:
            try:
                line = self._queue.get_nowait()
            except queue.Empty:
                return heard
            if line is None:
                self.at_end = True
                return heard
            text = normalize(line)
            if text:
                heard.append(Hypothesis(text, final=True))

    def finish(self) -> list[Hypothesis]:
        return self.accept(_NO_AUDIO)

    #: Vosk/typed text has no detector of its own: the listener runs one.
    detector = None

    def expect(self, expectation: Expectation) -> None:
        """Listens for everything; the intent rules decide what counts."""

    def reset(self) -> None:
        """Typed lines are whole answers already: nothing in progress to forget."""
