"""A real ``voice-imrs`` process on the virtual sound device, driven like a user would."""

from __future__ import annotations

import os
import queue
import subprocess
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SPEECH = ROOT / "tests/data/speech/dev"


def play_into_microphone(clip: Path) -> None:
    """Play a recording into the sink whose monitor is the session's microphone."""
    subprocess.run(["paplay", "--device=mic_feed", str(clip)], check=True, timeout=30)


def answer_aloud(cli: LiveCli, clip: Path) -> None:
    """Answer once the question is over, as a person does: the voice is silent then.

    The profile's ``silence_s`` should be short (2 s): the first reprompt ("Take your
    time...") marks the moment, and the answer is played after it has been said.
    """
    cli.wait_for("Take your time")
    time.sleep(3.0)
    play_into_microphone(clip)


class LiveCli:
    """One ``voice-imrs`` child on the virtual sound device, its captions read on a thread.

    Its profile and data live in ``folder``; keys go in as lines on standard input.
    """

    def __init__(self, folder: Path, *args: str) -> None:
        env = {**os.environ, "PYTHONPATH": str(ROOT), "VOICE_IMRS_CONFIG_DIR": str(folder),
               "VOICE_IMRS_DATA_DIR": str(folder / "data")}
        for variable in ("PULSE_SINK", "PULSE_SOURCE"):
            env.pop(variable, None)
        self.child = subprocess.Popen(
            [sys.executable, "-m", "voice_imrs", *args],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
            env=env)
        self.lines: queue.Queue[str] = queue.Queue()
        self.captions: list[str] = []
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self.child.stdout is not None
        for line in self.child.stdout:
            self.lines.put(line.rstrip("\n"))

    def wait_for(self, words: str, timeout: float = 30.0) -> str:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                line = self.lines.get(timeout=0.2)
            except queue.Empty:
                continue
            self.captions.append(line)
            if words.lower() in line.lower():
                return line
        raise AssertionError(f"no caption with {words!r} in {timeout} s: {self.captions}")

    def type(self, text: str) -> None:
        assert self.child.stdin is not None
        self.child.stdin.write(text + "\n")
        self.child.stdin.flush()

    def finish(self, timeout: float = 60.0) -> int:
        code = self.child.wait(timeout=timeout)
        self._reader.join(timeout=5)
        while not self.lines.empty():
            self.captions.append(self.lines.get_nowait())
        return code

    def kill(self) -> None:
        if self.child.poll() is None:
            self.child.kill()
            self.child.wait(timeout=10)
