"""Private cues for the therapist's headphones (``--cue-output``), which the client never hears.

In a therapist-led online session the voice goes into the call and these go only to the
therapist's own output, so they can keep their eyes closed too: a soft high tone and
the number when a rating is heard, two falling low tones when the client stops. The
two are told apart by pitch and shape, not loudness alone.

The cues play on their own thread: a sound device's ``write`` holds its caller while
audio is queued, and the session's loop must never wait for the therapist's headphones.
"""

from __future__ import annotations

import contextlib
import queue
import threading
from collections.abc import Callable
from typing import Protocol

import numpy as np

from voice_imrs.core.events import LogEvent
from voice_imrs.core.intents import NUMBER_NAMES
from voice_imrs.ports import PCM

RATING_TONE_HZ = 1320.0
STOP_TONES_HZ = (520.0, 390.0)
TONE_S = 0.18
CUE_GAIN = 0.25  # soft: the therapist is listening to the call at the same time


def tone(rate: int, hz: float, seconds: float = TONE_S, gain: float = CUE_GAIN) -> PCM:
    """A sine with 15 ms raised-cosine edges (no click at either end)."""
    n = int(rate * seconds)
    t = np.arange(n) / rate
    wave = np.sin(2 * np.pi * hz * t)
    edge = min(n // 2, int(rate * 0.015))
    ramp = 0.5 - 0.5 * np.cos(np.linspace(0, np.pi, edge))
    wave[:edge] *= ramp
    wave[n - edge:] *= ramp[::-1]
    return (wave * gain * 32767).astype(np.int16)


def rating_cue(rate: int) -> PCM:
    """The tone before a rating's number: one soft high tone."""
    return tone(rate, RATING_TONE_HZ)


def stop_cue(rate: int) -> PCM:
    """The stop cue: two falling low tones with a short gap."""
    gap = np.zeros(int(rate * 0.06), np.int16)
    return np.concatenate([tone(rate, STOP_TONES_HZ[0]), gap, tone(rate, STOP_TONES_HZ[1])])


class CueSink(Protocol):
    """Where cues play (``voice_imrs.audio.output.SoundDeviceSink``, a WAV file in tests)."""

    @property
    def sample_rate(self) -> int: ...

    def write(self, block: PCM) -> None: ...

    def wait_drained(self, timeout: float | None) -> bool: ...

    def close(self) -> None: ...


class CuePlayer:
    """A session observer that plays the cues on ``sink`` from its own thread.

    say: renders a word (the rating's number) at the sink's rate; None for tones only.
    """

    def __init__(self, sink: CueSink, say: Callable[[str], PCM] | None = None) -> None:
        self.sink = sink
        self.say = say
        self.played: list[str] = []  # what was cued, in order ("rating 4", "stop")
        self._queue: queue.Queue[tuple[str, int] | None] = queue.Queue()
        self._thread = threading.Thread(target=self._play, name="cue-output", daemon=True)
        self._thread.start()

    def __call__(self, event: LogEvent) -> None:
        if event.event == "rating" and event.fields.get("scale", "distress") == "distress":
            self._queue.put(("rating", int(event.fields.get("value", 0))))
        elif event.event == "intent" and event.fields.get("intent") in ("stop", "eyes_open"):
            self._queue.put(("stop", 0))

    def _play(self) -> None:
        rate = self.sink.sample_rate
        while (cue := self._queue.get()) is not None:
            kind, value = cue
            if kind == "stop":
                audio = stop_cue(rate)
            else:
                parts = [rating_cue(rate), np.zeros(int(rate * 0.12), np.int16)]
                if self.say is not None and 0 <= value <= 10:
                    parts.append(self.say(NUMBER_NAMES[value]))
                audio = np.concatenate(parts)
            # A headphone that fails must not end the session: the cue is lost, not it.
            with contextlib.suppress(Exception):
                self.sink.write(audio)
                self.played.append(f"{kind} {value}" if kind == "rating" else kind)

    def close(self) -> None:
        """Play what is queued, then stop the thread (every wait bounded: a headphone
        that stopped calling back must not hold the end of the session).
        """
        self._queue.put(None)
        self._thread.join(timeout=10.0)
        with contextlib.suppress(Exception):
            self.sink.wait_drained(3.0)


def speaker_for_numbers(tts: str, rate: int) -> Callable[[str], PCM]:
    """Say a number with its own synthesizer (the session's is busy on the loop)."""
    from voice_imrs.audio.wav import resample
    from voice_imrs.ports import VoiceSettings
    from voice_imrs.tts.registry import make_synthesizer

    synth = make_synthesizer(tts)
    lock = threading.Lock()

    def say(word: str) -> PCM:
        with lock:
            audio = np.concatenate([np.asarray(c, np.int16) for c in
                                    synth.synthesize(word, VoiceSettings(rate_wpm=170,
                                                                         volume=1.0))])
        audio = (audio.astype(np.float32) * 0.5).astype(np.int16)
        return resample(audio, synth.sample_rate, rate) if synth.sample_rate != rate else audio

    return say
