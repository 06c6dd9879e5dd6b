"""``voice-imrs devices --test``: check an online session's routing before it starts.

Plays a short tone on each chosen output (the call's, then the therapist's cue output)
while it listens on the chosen input, and reports the input's level during each tone
and in quiet. When the input is the call's return path, the client's voice should show
there; when it is a monitor of the output, the tone itself shows, which proves the loop.
"""

from __future__ import annotations

import argparse
import threading
import time
from dataclasses import dataclass

import numpy as np

from voice_imrs.console.cues import tone
from voice_imrs.ports import PCM

TONE_HZ = (440.0, 660.0)  # the call's output, then the cue output
TONE_S = 1.0
QUIET_S = 1.0
SILENT_DBFS = -60.0


@dataclass
class Level:
    """The input's loudness over some stretch of time."""

    rms_dbfs: float
    peak_dbfs: float

    def words(self) -> str:
        if self.rms_dbfs <= SILENT_DBFS:
            return f"silent ({self.rms_dbfs:.0f} dBFS)"
        return f"{self.rms_dbfs:.0f} dBFS average, {self.peak_dbfs:.0f} dBFS peak"


def level_of(blocks: list[PCM]) -> Level:
    """RMS and peak of ``blocks`` in dB below full scale (-120 for nothing)."""
    if not blocks:
        return Level(-120.0, -120.0)
    audio = np.concatenate(blocks).astype(np.float64) / 32768.0
    rms = float(np.sqrt(np.mean(audio ** 2))) if len(audio) else 0.0
    peak = float(np.max(np.abs(audio))) if len(audio) else 0.0
    return Level(_db(rms), _db(peak))


def _db(value: float) -> float:
    return max(-120.0, 20.0 * float(np.log10(max(value, 1e-6))))


class _Listening:
    """Collects input blocks on a thread, so a tone can play while it listens."""

    def __init__(self, device: str | None) -> None:
        from voice_imrs.audio.input import SoundDeviceSource

        self.source = SoundDeviceSource(device)
        self.blocks: list[tuple[float, PCM]] = []
        self._thread = threading.Thread(target=self._read, name="device-test", daemon=True)
        self._thread.start()

    def _read(self) -> None:
        while (block := self.source.read()) is not None:
            self.blocks.append((time.monotonic(), block))

    def between(self, start: float, end: float) -> list[PCM]:
        return [block for t, block in list(self.blocks) if start <= t <= end]

    def close(self) -> None:
        self.source.close()
        self._thread.join(timeout=2.0)


def run_device_test(args: argparse.Namespace) -> int:
    """Tone on each chosen output, input level during each and in quiet; 0 when heard."""
    from voice_imrs.audio.output import SoundDeviceSink

    outputs = [("output", args.output or None), ("cue output", args.cue_output)]
    chosen = [(label, device) for label, device in outputs
              if device is not None or label == "output"]
    listening = _Listening(args.input)
    try:
        time.sleep(0.5)  # a capture stream can take a moment to deliver
        start = time.monotonic()
        time.sleep(QUIET_S)
        quiet = level_of(listening.between(start, time.monotonic()))
        print(f"input {args.input or 'default'}: in quiet, {quiet.words()}", flush=True)
        heard_any = quiet.rms_dbfs > SILENT_DBFS
        for (label, device), hz in zip(chosen, TONE_HZ, strict=False):
            sink = SoundDeviceSink(device, 22050)
            try:
                print(f"{label} {device or 'default'}: playing a {hz:.0f} Hz tone", flush=True)
                start = time.monotonic()
                sink.write(tone(22050, hz, TONE_S, gain=0.3))
                sink.wait_drained(TONE_S + 2.0)
                during = level_of(listening.between(start, time.monotonic()))
            finally:
                sink.close()
            print(f"input during the tone on the {label}: {during.words()}", flush=True)
            heard_any = heard_any or during.rms_dbfs > SILENT_DBFS
    finally:
        listening.close()
    if not heard_any:
        print("The input heard nothing. In an online session it should be the call's "
              "output (or its monitor): see docs/ONLINE_SESSIONS.md.", flush=True)
        return 1
    return 0

