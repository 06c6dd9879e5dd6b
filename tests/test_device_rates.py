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


#: Samples either side of a stretch of silence that are left out: the input resampler
#: (48 -> 16 kHz) spreads the silence's edges over its half filter, ten samples at 16 kHz.
EDGE = 10 + 8


def _steps(heard: np.ndarray, rate: int) -> int:
    """Samples where the tone jumps by more than a 440 Hz sine can move in one sample,
    leaving out the edges of stretches of digital silence (an underrun of a busy machine
    inserts those before the monitor is resampled, and the stream's start and end are such
    edges too). A seam of the resamplers would show at block edges, 50 times a second."""
    audio = heard.astype(np.float64)
    limit = 1.5 * 2 * np.pi * TONE_HZ / rate * PEAK
    jumps = np.flatnonzero(np.abs(np.diff(audio)) > limit)
    silent = np.abs(audio) < 1
    near_silence = np.convolve(silent, np.ones(2 * EDGE + 1), mode="same") > 4
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


def test_silence_a_busy_machine_inserts_is_not_counted_as_a_seam() -> None:
    # An underrun puts 10 ms of digital silence into the 48 kHz monitor, which is then
    # resampled to 16 kHz: its smeared edges are the machine's, not a seam of ours.
    from voice_imrs.audio.resampler import StreamResampler

    rate = 48000
    tone = (np.sin(2 * np.pi * TONE_HZ * np.arange(2 * rate) / rate) * PEAK).astype(np.int16)
    for gap_at in (30011, 45007, 50123):
        gapped = np.concatenate([tone[:gap_at], np.zeros(480, np.int16), tone[gap_at:]])
        resampler = StreamResampler(rate, 16000)
        heard = np.concatenate([resampler.process(gapped[i:i + 960])
                                for i in range(0, len(gapped), 960)])
        assert _steps(heard[2000:-2000], 16000) == 0
    # ...while a real seam (a block resampled on its own, as wav.resample does) still is.
    from voice_imrs.audio.wav import resample

    seamed = np.concatenate([resample(tone[i:i + 960], rate, 16000)
                             for i in range(0, len(tone), 960)])
    assert _steps(seamed[2000:-2000], 16000) > 10
