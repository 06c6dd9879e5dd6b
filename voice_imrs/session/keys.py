"""The keyboard beside the voice: single keys on a terminal, whole lines from a pipe.

On a terminal the keys act at once (no Enter): space or s stops, digits answer a rating
or pick the numbered option of a choice, y/n answer a question, p pauses, c or Enter
continues, r repeats, + and - change the volume, < and > the rate, e switches to eyes
open, ? says what works now. From a pipe each line is read as if spoken ("stop", "7",
"yes"), and a line of one key means that key ("s", "y").
Keys become text for the session's typed queue, and ``typed_intent`` reads that text as
speech is read, plus what only a key can mean (a digit for the third option).
"""

from __future__ import annotations

import contextlib
import os
import select
import sys
import threading
from collections.abc import Callable, Iterator
from typing import TextIO

from voice_imrs.core.intents import (
    DEFAULT_STOP_WORDS,
    Expectation,
    Intent,
    IntentKind,
    interpret,
    normalize,
)

KEY_WORDS = {
    " ": "stop", "s": "stop", "y": "yes", "n": "no", "p": "pause", "c": "continue",
    "\n": "continue", "\r": "continue", "r": "repeat", "+": "louder", "=": "louder",
    "-": "softer", "<": "slower", ",": "slower", ">": "faster", ".": "faster",
    "e": "eyes open", "?": "help",
}
#: The intent kind of "what can I say?" (the engine answers it with what works now).
HELP_KIND: IntentKind = "help"
#: Typed words that ask for help, also before the voice intents know them.
HELP_WORDS = ("help", "what can i say")
#: The keys, as ``run --help`` and the spoken help list them.
KEYS_HELP = ("space or s: stop", "digits: a rating from 0 to 10, or the numbered option",
             "y / n: yes / no", "p: pause", "c or Enter: continue", "r: repeat",
             "+ / -: louder / softer", "< / >: slower / faster", "e: eyes open",
             "?: what can I say now")
#: After a "1", wait this long for a "0" so that ten can be typed.
TEN_WINDOW_S = 0.5


def key_text(key: str) -> str | None:
    """The words a single key stands for, or None for a key with no meaning."""
    if key.isdigit():
        return key
    return KEY_WORDS.get(key.lower() if key.isalpha() else key)


def keys_and_commands() -> str:
    """The keys and the voice commands, as ``run --help`` lists them (one per line)."""
    from voice_imrs.core.intents import COMMAND_PHRASES

    said = {"stop": ", ".join(f'"{w}"' for w in DEFAULT_STOP_WORDS),
            **{kind: ", ".join(f'"{p}"' for p in phrases[:2])
               for kind, phrases in COMMAND_PHRASES.items()},
            "help": '"help", "what can I say"'}
    lines = ["keys (they work beside the voice, at any moment):",
             *(f"  {line}" for line in KEYS_HELP),
             "say (at any moment):",
             *(f"  {kind.replace('_', ' ')}: {words}" for kind, words in said.items()),
             "  and, when asked: a number from zero to ten, yes or no, or an option's name"]
    return "\n".join(lines)


def typed_intent(text: str, expect: Expectation,
                 stop_words: tuple[str, ...] = DEFAULT_STOP_WORDS) -> Intent | None:
    """What typed ``text`` means now: as if spoken, and a lone number picks that option.

    Every question can be answered by keys: digits for ratings, y/n, and for a choice the
    number of its option in the order it is offered ("or press 2 for ...").
    """
    said = normalize(text)
    if said in HELP_WORDS:  # before the commands: "what" alone means repeat
        return Intent(HELP_KIND, None, said)
    if "choice" in expect.kinds and "rating" not in expect.kinds and said.isdigit():
        number = int(said)
        if 1 <= number <= len(expect.choices):
            return Intent("choice", expect.choices[number - 1][0], said)
    return interpret(text, expect, stop_words)


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
