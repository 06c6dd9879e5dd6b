"""The keyboard beside the voice: single keys on a terminal, whole lines from a pipe.

On a terminal the keys act at once (no Enter): space or s stops, digits answer a rating,
y/n answer a question, p pauses, c or Enter continues, r repeats, + and - change the
volume, < and > the rate, e switches to eyes open. From a pipe each line is read as if
spoken ("stop", "7", "yes"), and a line of one key means that key ("s", "y").
Keys become text for the session's typed queue, so they are interpreted exactly like
speech.
"""

from __future__ import annotations

import contextlib
import os
import select
import sys
import threading
from collections.abc import Callable, Iterator
from typing import TextIO

KEY_WORDS = {
    " ": "stop", "s": "stop", "y": "yes", "n": "no", "p": "pause", "c": "continue",
    "\n": "continue", "\r": "continue", "r": "repeat", "+": "louder", "=": "louder",
    "-": "softer", "<": "slower", ",": "slower", ">": "faster", ".": "faster",
    "e": "eyes open",
}
#: After a "1", wait this long for a "0" so that ten can be typed.
TEN_WINDOW_S = 0.5


def key_text(key: str) -> str | None:
    """The words a single key stands for, or None for a key with no meaning."""
    if key.isdigit():
        return key
    return KEY_WORDS.get(key.lower() if key.isalpha() else key)


class KeyReader:
    """Reads keys (terminal) or lines (pipe) on a thread and hands text to ``deliver``.

    ``deliver`` is called on the reader thread; pass ``loop.call_soon_threadsafe``-wrapped
    callables to reach an asyncio loop.
    """

    def __init__(self, deliver: Callable[[str], None], stream: TextIO | None = None) -> None:
        self.deliver = deliver
        self.stream = stream or sys.stdin
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._read, name="keyboard", daemon=True)

    def start(self) -> KeyReader:
        self._thread.start()
        return self

    def close(self) -> None:
        self._stop.set()
        self._thread.join(timeout=1.0)

    def _read(self) -> None:
        try:
            fd = self.stream.fileno()
        except (OSError, ValueError):
            return
        if os.isatty(fd):
            with _cbreak(fd):
                self._read_keys(fd)
        else:
            self._read_lines(fd)

    def _ready(self, fd: int, timeout: float) -> bool:
        try:
            return bool(select.select([fd], [], [], timeout)[0])
        except (OSError, ValueError):
            self._stop.set()
            return False

    def _read_keys(self, fd: int) -> None:
        while not self._stop.is_set():
            if not self._ready(fd, 0.1):
                continue
            key = os.read(fd, 1).decode(errors="ignore")
            if not key:
                return
            if key == "1" and self._ready(fd, TEN_WINDOW_S):
                following = os.read(fd, 1).decode(errors="ignore")
                if following == "0":
                    self.deliver("10")
                    continue
                self.deliver("1")
                key = following
            text = key_text(key)
            if text:
                self.deliver(text)

    def _read_lines(self, fd: int) -> None:
        buffer = b""
        while not self._stop.is_set():
            if not self._ready(fd, 0.1):
                continue
            chunk = os.read(fd, 1024)
            if not chunk:
                return  # end of input: the voice still works
            buffer += chunk
            while b"\n" in buffer:
                line, buffer = buffer.split(b"\n", 1)
                text = line.decode(errors="ignore").strip()
                if len(text) == 1:  # a lone key means what it means on a terminal
                    text = key_text(text) or text
                if text:
                    self.deliver(text)


@contextlib.contextmanager
def _cbreak(fd: int) -> Iterator[None]:
    """Keys without Enter and without echo, restored however the session ends."""
    import termios
    import tty

    saved = termios.tcgetattr(fd)
    try:
        tty.setcbreak(fd)
        yield
    finally:
        termios.tcsetattr(fd, termios.TCSADRAIN, saved)
