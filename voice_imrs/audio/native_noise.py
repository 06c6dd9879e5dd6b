"""Keep what native libraries print (ALSA, PortAudio, espeak-ng) off the terminal.

ALSA prints "underrun occurred", PortAudio "Expression ... failed" and espeak-ng its own
warnings straight to file descriptor 2, in the middle of the captions a screen reader is
reading (59 lines in one session). Python cannot catch these: they never pass through
``sys.stderr``. So for the process, fd 2 becomes a pipe read by a thread that counts each
line and appends it to ``native.log`` in the data folder; Python's own ``sys.stderr`` (our
one-sentence errors) is moved to a copy of the original descriptor and still reaches the
terminal. ``VOICE_IMRS_DEBUG=1`` leaves fd 2 alone.
"""

from __future__ import annotations

import contextlib
import io
import os
import sys
import threading
from collections import Counter
from pathlib import Path

#: The log keeps at most this much; older lines are dropped when it grows past it.
MAX_LOG_BYTES = 256 * 1024


class NativeNoise:
    """The fd 2 redirection of one process: ``lines`` counts what native code printed."""

    def __init__(self, log_path: Path | None) -> None:
        self.log_path = log_path
        self.lines = 0
        self.kinds: Counter[str] = Counter()
        self._lock = threading.Lock()
        self._terminal_fd = -1
        self._thread: threading.Thread | None = None

    def install(self) -> NativeNoise:
        sys.stderr.flush()
        self._terminal_fd = os.dup(2)
        read_end, write_end = os.pipe()
        os.dup2(write_end, 2)
        os.close(write_end)
        # Python's messages go to the terminal as before, past the pipe.
        sys.stderr = io.TextIOWrapper(os.fdopen(self._terminal_fd, "wb", buffering=0),
                                      encoding="utf-8", errors="replace",
                                      line_buffering=True, write_through=True)
        self._thread = threading.Thread(target=self._drain, args=(read_end,),
                                        name="native-stderr", daemon=True)
        self._thread.start()
        return self

    def _drain(self, fd: int) -> None:
        # Must never stop reading: a full pipe would block the native code that writes.
        with os.fdopen(fd, "rb", buffering=0) as pipe:
            pending = b""
            while chunk := pipe.read(4096):
                pending += chunk
                *complete, pending = pending.split(b"\n")
                for raw in complete:
                    self._note(raw.decode("utf-8", "replace"))

    def _note(self, line: str) -> None:
        if not line.strip():
            return
        with self._lock:
            self.lines += 1
            self.kinds[kind_of(line)] += 1
        if self.log_path is not None:
            with contextlib.suppress(OSError):  # an unwritable log must not stop a session
                _append(self.log_path, line)


def kind_of(line: str) -> str:
    """Which library a line came from, as far as its text tells."""
    lowered = line.lower()
    if "underrun" in lowered or "overrun" in lowered:
        return "xrun"
    if lowered.startswith("alsa lib") or "alsa" in lowered:
        return "alsa"
    if "pa_linux_alsa" in lowered or "portaudio" in lowered or lowered.startswith("expression"):
        return "portaudio"
    if "espeak" in lowered:
        return "espeak"
    return "other"


def _append(path: Path, line: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    if path.exists() and path.stat().st_size > MAX_LOG_BYTES:
        kept = path.read_bytes()[-MAX_LOG_BYTES // 2:]
        path.write_bytes(kept[kept.find(b"\n") + 1:])
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
    with os.fdopen(fd, "a", encoding="utf-8") as log:
        log.write(line + "\n")


_installed: NativeNoise | None = None


def quiet_native_output() -> NativeNoise | None:
    """Redirect fd 2 for the rest of the process (once); None when left alone."""
    global _installed
    if _installed is not None:
        return _installed
    if os.environ.get("VOICE_IMRS_DEBUG"):
        return None
    try:
        from voice_imrs.records.store import data_dir

        log: Path | None = data_dir() / "native.log"
    except Exception:  # no data folder: count only
        log = None
    try:
        _installed = NativeNoise(log).install()
    except OSError:
        return None
    return _installed


def native_lines() -> int:
    """How many lines native libraries printed so far in this process."""
    return _installed.lines if _installed is not None else 0
