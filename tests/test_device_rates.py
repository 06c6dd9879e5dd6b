"""A device that runs only at 48 kHz (``speaker48`` of the virtual audio set-up).

The voice is synthesized at 22,050 Hz. On a 48 kHz-only device the sink opens the stream
at 48 kHz and resamples block by block; the microphone side opens its source at 48 kHz and
resamples to 16 kHz on the reader's thread. Both must be seamless: a tone played through
the sink into ``speaker48`` and heard back from ``speaker48.monitor`` through the source
must show no step at any block edge.
"""

from __future__ import annotations

import threading
import time

import numpy as np

TONE_HZ = 440.0
PEAK = 12000.0


def _steps(heard: np.ndarray, rate: int) -> int:
    """Samples where the tone jumps by more than a 440 Hz sine can move in one sample,
    leaving out the edges of stretches of digital silence (an underrun of a busy machine
    inserts those, and the stream's start and end are such edges too)."""
    audio = heard.astype(np.float64)
    limit = 1.5 * 2 * np.pi * TONE_HZ / rate * PEAK
    jumps = np.flatnonzero(np.abs(np.diff(audio)) > limit)
    silent = np.abs(audio) < 1
    near_silence = np.convolve(silent, np.ones(17), mode="same") > 4
    return int(sum(1 for j in jumps if not near_silence[j] and not near_silence[j + 1]))


def test_a_48_khz_only_device_plays_and_records_without_seams(pulse: str) -> None:
    from voice_imrs.audio.input import SoundDeviceSource
    from voice_imrs.audio.output import SoundDeviceSink

    source = SoundDeviceSource("pulse:speaker48.monitor", device_rate=48000)
    heard: list[np.ndarray] = []
    done = threading.Event()

    def listen() -> None:
        while not done.is_set():
            block = source.read()
            if block is None:
                return
            heard.append(block)

    reader = threading.Thread(target=listen)
    reader.start()
    try:
        with SoundDeviceSink("pulse:speaker48", 22050, device_rate=48000,
                             max_queued_s=0.3) as sink:
            assert sink.device_rate == 48000 and source.device_rate == 48000
            t = np.arange(int(22050 * 2.0)) / 22050
            tone = (np.sin(2 * np.pi * TONE_HZ * t) * PEAK).astype(np.int16)
            for start in range(0, len(tone), 441):  # 20 ms blocks, as a session writes
                sink.write(tone[start:start + 441])
            sink.drain()
        time.sleep(0.3)
    finally:
        done.set()
        source.close()
        reader.join(timeout=5)
    audio = np.concatenate(heard)
    loud = np.flatnonzero(np.abs(audio) > PEAK / 2)
    assert len(loud) > 16000, "the tone was not heard back"  # over a second of it
    middle = audio[loud[0] + 800:loud[-1] - 800]
    assert _steps(middle, 16000) == 0
    assert np.abs(middle).max() < 32767
