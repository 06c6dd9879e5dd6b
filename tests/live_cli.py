"""A real ``voice-imrs`` process on the virtual sound device, driven like a user would."""

from __future__ import annotations

import json
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


def answer_aloud(cli: LiveCli, clip: Path, log: Path | None = None) -> None:
    """Answer once the question is over, as a person does: the voice is silent then.

    The profile's ``silence_s`` should be short (2 s): the first reprompt ("Take your
    time...") marks the moment, and the answer is played once the speaker has sounded and
    then been quiet for longer than the voice's pauses between sentences. (A fixed 3 s
    wait, or 0.5 or 1.2 s of quiet, overlapped the reprompt: another case, an answer said
    over the voice.)
    With the session's ``log`` (``--log``), the reprompt's own end in it is the moment.
    """
    cli.wait_for("Take your time")
    if log is not None:
        cli.reprompts_answered += 1
        wait_for_the_reprompt_to_end(log, cli.reprompts_answered)
    else:
        wait_until_the_voice_is_over()
    play_into_microphone(clip)


def wait_for_the_reprompt_to_end(log: Path, number: int, timeout_s: float = 20.0) -> None:
    """Read the session's JSON-lines log until reprompt ``number`` (from 1) has been said."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        events = []
        for line in log.read_text(encoding="utf-8").splitlines() if log.exists() else []:
            try:
                events.append(json.loads(line))
            except json.JSONDecodeError:
                break  # a line still being written
        starts = [i for i, e in enumerate(events)
                  if e["event"] == "say_start" and e.get("reprompt")]
        if len(starts) >= number and any(e["event"] == "say_end"
                                         for e in events[starts[number - 1] + 1:]):
            return
        time.sleep(0.05)
    raise AssertionError(f"no reprompt ended in {log} within {timeout_s} s")


def wait_until_the_voice_is_over(quiet_s: float = 2.0, timeout_s: float = 15.0) -> None:
    """Listen to the speaker's monitor until the voice has played and then stopped.

    quiet_s: longer than any pause inside a prompt. The neural voice breathes 1.2 s between
    sentences at the calm pace, and each sentence ends in a little silence of its own: at
    1.2 s a two-sentence reprompt ("Take your time. Say a number...") was taken for over,
    and the answer overlapped its second sentence. Where the session writes a log, the
    reprompt's end in it is exact (``answer_aloud(..., log)``).
    """
    rate, block = 16000, 320  # 20 ms
    listener = subprocess.Popen(
        ["parec", "--device=speaker.monitor", "--format=s16le", f"--rate={rate}",
         "--channels=1", "--latency-msec=20"], stdout=subprocess.PIPE)
    assert listener.stdout is not None
    deadline = time.monotonic() + timeout_s
    sounded, quiet = False, 0
    try:
        while time.monotonic() < deadline:
            chunk = listener.stdout.read(block * 2)
            if len(chunk) < block * 2:
                break
            loud = max(abs(v) for v in memoryview(chunk).cast("h")) > 300
            sounded = sounded or loud
            quiet = 0 if loud else quiet + 1
            if sounded and quiet * block >= quiet_s * rate:
                return
    finally:
        listener.terminate()
        listener.wait(timeout=10)
    raise AssertionError(f"the voice did not play and end within {timeout_s} s")


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
        self.reprompts_answered = 0  # see answer_aloud
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
