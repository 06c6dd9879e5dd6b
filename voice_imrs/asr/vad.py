"""Voice-activity detection over 16 kHz blocks: where speech starts and where it ends.

Used twice: to cut recognition down to the stretches that hold speech (the decoder is
not fed minutes of room noise), and for the "speech" barge-in mode, where any speech
onset pauses the voice. WebRTC's VAD judges each 20 ms frame; a start needs several
voiced frames close together (so a click does not count) and an end needs a hangover of
unvoiced frames (so the pause between "i need" and "a break" does not split the phrase).
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass
from typing import Literal

import numpy as np

from voice_imrs.ports import ASR_RATE, PCM

FRAME = ASR_RATE // 50  # 20 ms, a frame length WebRTC's VAD accepts
FRAME_S = FRAME / ASR_RATE


@dataclass(frozen=True)
class VadEvent:
    """A change of state: ``kind`` "start" or "end"; ``t`` seconds of audio fed so far."""

    kind: Literal["start", "end"]
    t: float


class SpeechDetector:
    """Speech start and end over a stream of 16 kHz int16 blocks of any length.

    aggressiveness: WebRTC VAD mode 0 (lenient) to 3 (strict about what is speech).
    start_frames / start_window: a start needs this many voiced frames among the last
        ``start_window`` frames (60 of 100 ms by default).
    hangover_s: unvoiced time that ends an utterance.
    min_energy: frames quieter than this RMS never count as voiced; WebRTC's VAD calls
        faint hiss speech at times.
    """

    def __init__(self, aggressiveness: int = 2, start_frames: int = 3, start_window: int = 5,
                 hangover_s: float = 0.5, min_energy: float = 60.0) -> None:
        import webrtcvad  # adapters import their native packages on use

        self._vad = webrtcvad.Vad(aggressiveness)
        self.start_frames = start_frames
        self.hangover_frames = max(1, round(hangover_s / FRAME_S))
        self.min_energy = min_energy
        self._recent: deque[bool] = deque(maxlen=start_window)
        self._pending = np.zeros(0, np.int16)
        self._frames = 0
        self._silent_run = 0
        self.in_speech = False

    @property
    def t(self) -> float:
        """Seconds of audio judged so far."""
        return self._frames * FRAME_S

    def reset(self) -> None:
        """Back to silence, keeping the clock running."""
        self._recent.clear()
        self._silent_run = 0
        self.in_speech = False

    def is_voiced(self, frame: PCM) -> bool:
        """One 20 ms frame: speech or not."""
        rms = float(np.sqrt(np.mean(frame.astype(np.float32) ** 2)))
        return rms >= self.min_energy and bool(self._vad.is_speech(frame.tobytes(), ASR_RATE))

    def feed(self, block: PCM) -> list[VadEvent]:
        """Judge ``block``; return the starts and ends it completes."""
        samples = np.concatenate([self._pending, np.asarray(block, np.int16)])
        usable = len(samples) // FRAME * FRAME
        self._pending = samples[usable:]
        events: list[VadEvent] = []
        for offset in range(0, usable, FRAME):
            voiced = self.is_voiced(samples[offset:offset + FRAME])
            self._frames += 1
            self._recent.append(voiced)
            if not self.in_speech:
                if sum(self._recent) >= self.start_frames:
                    self.in_speech = True
                    self._silent_run = 0
                    events.append(VadEvent("start", self.t))
            else:
                self._silent_run = 0 if voiced else self._silent_run + 1
                if self._silent_run >= self.hangover_frames:
                    self.in_speech = False
                    self._recent.clear()
                    events.append(VadEvent("end", self.t))
        return events
