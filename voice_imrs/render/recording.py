"""Recording takes from the microphone: a therapist's prompts, or the client's message.

For each prompt the text is shown, the microphone records until Enter, a pause after
speech (``silence_after_s``) or ``max_seconds``, the silence around the speech is trimmed,
and the person chooses: k keep (the default), r redo, s skip, q quit. Everything is
driven by lines on standard input, so the walk-through also works from a script.

The microphone is opened for each take and closed after it, so nothing is heard while the
next prompt is being read.
"""

from __future__ import annotations

import queue
import sys
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import TextIO

import numpy as np

from voice_imrs.core.script import Script
from voice_imrs.ports import PCM, AudioSource
from voice_imrs.render.takes import TakeLibrary, prompts, recordable

#: A block this loud (int16 RMS, about -40 dBFS) or louder counts as speech...
MIN_SPEECH_RMS = 330.0
#: ...and so does one this many times the quiet floor (about 12 dB) on a noisy microphone.
OVER_FLOOR = 4.0
#: Margins kept around the trimmed speech: a breath before, the decay after.
LEAD_S = 0.15
TAIL_S = 0.30
_BLOCK_S = 0.02


class LineReader:
    """Lines from a text stream, read on a daemon thread so a recording can poll for Enter.

    A daemon thread because a blocking ``readline`` cannot be interrupted; it ends with the
    process (or at the end of the input).
    """

    def __init__(self, stream: TextIO | None = None) -> None:
        self._lines: queue.Queue[str | None] = queue.Queue()
        self._stream = stream or sys.stdin
        self._thread = threading.Thread(target=self._read, name="stdin-lines", daemon=True)
        self._thread.start()

    def _read(self) -> None:
        try:
            for line in self._stream:
                self._lines.put(line.strip().lower())
        finally:
            self._lines.put(None)  # end of input

    def poll(self) -> str | None:
        """A line typed since the last call ("" for a bare Enter), or None if none was."""
        try:
            line = self._lines.get_nowait()
        except queue.Empty:
            return None
        if line is None:
            self._lines.put(None)  # keep reporting the end
            return None
        return line

    def get(self) -> str | None:
        """The next line (waits); None at the end of the input."""
        line = self._lines.get()
        if line is None:
            self._lines.put(None)
        return line


@dataclass
class Take:
    """One recording: the trimmed take, how long the raw one was, whether speech was heard."""

    audio: PCM
    rate: int
    raw_seconds: float
    heard_speech: bool

    @property
    def seconds(self) -> float:
        return len(self.audio) / self.rate


def microphone_opener(device: str | None = None) -> Callable[[], AudioSource]:
    """A function that opens the microphone (``device`` as in ``voice-imrs devices``)."""

    def open_source() -> AudioSource:
        from voice_imrs.audio.input import SoundDeviceSource

        return SoundDeviceSource(device)

    return open_source


def block_levels(pcm: PCM, rate: int) -> np.ndarray:
    """RMS of each 20 ms block (int16 units)."""
    block = max(1, int(_BLOCK_S * rate))
    usable = len(pcm) // block * block
    if usable == 0:
        return np.zeros(0)
    frames = pcm[:usable].astype(np.float64).reshape(-1, block)
    return np.sqrt(np.mean(frames ** 2, axis=1))


def speech_threshold(levels: np.ndarray) -> float:
    """The level above which a block counts as speech, from the quiet floor heard."""
    floor = float(np.percentile(levels, 10)) if len(levels) else 0.0
    return max(MIN_SPEECH_RMS, OVER_FLOOR * floor)


def trim_silence(pcm: PCM, rate: int) -> PCM:
    """The speech in ``pcm`` with short margins; empty when nothing rose above silence."""
    levels = block_levels(pcm, rate)
    if len(levels) == 0:
        return pcm[:0]
    # Relative to the loudest block too, so a hum under loud speech is not kept as speech.
    threshold = max(speech_threshold(levels), float(levels.max()) * 10 ** (-35 / 20))
    loud = np.flatnonzero(levels >= threshold)
    if len(loud) == 0:
        return pcm[:0]
    block = int(_BLOCK_S * rate)
    start = max(0, loud[0] * block - int(LEAD_S * rate))
    end = min(len(pcm), (loud[-1] + 1) * block + int(TAIL_S * rate))
    return pcm[start:end].copy()


class PromptRecorder:
    """Walks someone through prompts, recording each from the microphone.

    open_source: opens the microphone (a fresh source per take; closed after it).
    lines: where k/r/s/q and Enter come from (standard input by default).
    out: where prompts and questions are printed.
    """

    def __init__(self, open_source: Callable[[], AudioSource], max_seconds: float = 60.0,
                 silence_after_s: float = 1.5, lines: LineReader | None = None,
                 out: TextIO | None = None) -> None:
        self.open_source = open_source
        self.max_seconds = max_seconds
        self.silence_after_s = silence_after_s
        self.lines = lines or LineReader()
        self.out = out or sys.stdout

    def say(self, text: str, end: str = "\n") -> None:
        self.out.write(text + end)
        self.out.flush()

    def record(self) -> Take:
        """One take: until Enter, a pause after speech, ``max_seconds`` or the input's end."""
        source = self.open_source()
        rate = source.sample_rate
        blocks: list[PCM] = []
        levels: list[float] = []
        heard = False
        quiet_s = 0.0
        self.lines.poll()  # a stray Enter typed before recording does not end it
        try:
            self.say("  Recording: speak now; press Enter when done.")
            total = 0
            while total < self.max_seconds * rate:
                block = source.read()
                if block is None:
                    break
                blocks.append(block)
                total += len(block)
                level = float(np.sqrt(np.mean(block.astype(np.float64) ** 2))) if len(
                    block) else 0.0
                levels.append(level)
                if level >= speech_threshold(np.array(levels)):
                    heard, quiet_s = True, 0.0
                elif heard:
                    quiet_s += len(block) / rate
                    if quiet_s >= self.silence_after_s:
                        break
                if self.lines.poll() is not None:
                    break
        finally:
            source.close()
        raw = np.concatenate(blocks) if blocks else np.zeros(0, np.int16)
        trimmed = trim_silence(raw, rate)
        return Take(trimmed, rate, len(raw) / rate, heard and len(trimmed) > 0)

    def record_one(self, step_id: str, text: str, library: TakeLibrary,
                   shown: str | None = None) -> bool | None:
        """Record one prompt until kept or skipped: True kept, False skipped, None quit."""
        self.say(f'  "{shown or text}"')
        while True:
            take = self.record()
            if not take.heard_speech:
                self.say(f"  Heard nothing in {take.raw_seconds:.1f} s; check the microphone "
                         "(voice-imrs devices). r redo, s skip, q quit [r]: ", end="")
                choice = self._choice(default="r")
            else:
                self.say(f"  Recorded {take.seconds:.1f} s (trimmed from {take.raw_seconds:.1f}"
                         " s). k keep, r redo, s skip, q quit [k]: ", end="")
                choice = self._choice(default="k")
            if choice == "k" and take.heard_speech:
                library.store(step_id, text, take.audio, take.rate)
                self.say("  Kept.")
                return True
            if choice == "s":
                self.say("  Skipped.")
                return False
            if choice == "q":
                return None
            self.say("  Again.")

    def _choice(self, default: str) -> str:
        while True:
            line = self.lines.get()
            if line is None:
                self.say("")
                return "q"  # the input ended: nothing more can be confirmed
            answer = (line or default)[:1]
            if answer in "krsq":
                return answer
            self.say("  Type k, r, s or q: ", end="")

    def record_script(self, script: Script, library: TakeLibrary,
                      redo_all: bool = False) -> str:
        """Record every prompt of ``script`` that lacks an up-to-date take; a summary line."""
        wanted = recordable(script)
        missing = set(library.missing(script))
        todo = [(step_id, text) for step_id, text in wanted if redo_all or step_id in missing]
        synthetic = len(prompts(script)) - len(wanted)
        self.say(f"Voice {library.name!r}, script {script.name!r}: {len(todo)} of "
                 f"{len(wanted)} prompts to record"
                 + (f" ({synthetic} with placeholders stay synthetic)" if synthetic else "")
                 + ". Takes go to " + str(library.folder) + ".")
        kept = skipped = 0
        for number, (step_id, text) in enumerate(todo, start=1):
            self.say(f"[{number}/{len(todo)}] {step_id}")
            result = self.record_one(step_id, text, library)
            if result is None:
                break
            kept += int(result)
            skipped += int(not result)
        left = len(library.missing(script))
        return (f"Kept {kept} takes, skipped {skipped}; {left} prompts of {script.name!r} "
                f"still without a take for voice {library.name!r}.")
