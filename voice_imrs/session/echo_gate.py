"""Keep the assistant from hearing itself: a gate that mutes microphone audio that is
only the echo of what the speaker just played.

Prompts say "you can say stop at any time"; through loudspeakers the microphone hears that
"stop". The gate compares short-time energy envelopes (10 ms frames) of the microphone and
of the recent output over a range of lags. When the microphone's envelope follows the
output's closely, the block is echo and the recognizer gets silence in its place; when the
user speaks over the prompt the envelopes part and the block passes. Envelopes are cheap
(a few hundred numbers per block), so the gate costs next to nothing while listening.
"""

from __future__ import annotations

from collections import deque

import numpy as np

from voice_imrs.ports import ASR_RATE, PCM

FRAME = ASR_RATE // 100  # 10 ms


def _envelope(samples: np.ndarray, frame: int = FRAME) -> np.ndarray:
    usable = len(samples) // frame * frame
    frames = samples[:usable].astype(np.float32).reshape(-1, frame)
    return np.log10(np.mean(frames * frames, axis=1) + 1.0)


class EchoGate:
    """Decides, block by block, whether microphone audio is just our own output's echo.

    window_s: how much history the decision looks at.
    max_lag_s: the largest output-to-microphone delay expected (device latency).
    threshold: envelope correlation above which a block counts as echo.
    """

    def __init__(self, window_s: float = 0.4, max_lag_s: float = 0.3,
                 threshold: float = 0.85) -> None:
        self.window = int(window_s * 100)
        self.max_lag = int(max_lag_s * 100)
        self.threshold = threshold
        history = self.window + self.max_lag
        self._out: deque[float] = deque([0.0] * history, maxlen=history)
        self._mic: deque[float] = deque([0.0] * self.window, maxlen=self.window)
        self.gated_blocks = 0

    def played(self, block: PCM, rate: int = ASR_RATE) -> None:
        """Tell the gate what was just sent to the speaker, at the speaker's rate.

        Only 10 ms frame energies are kept, so no resampling is needed on this hot path.
        """
        self._out.extend(_envelope(block, rate // 100).tolist())

    def filter(self, mic_block: PCM) -> PCM:
        """The microphone block, or silence of the same length when it is only echo."""
        self._mic.extend(_envelope(mic_block).tolist())
        if self.is_echo():
            self.gated_blocks += 1
            return np.zeros_like(mic_block)
        return mic_block

    def is_echo(self) -> bool:
        mic = np.fromiter(self._mic, np.float32)
        if mic.max() < 2.5:  # quiet microphone (below about -45 dBFS): nothing to gate
            return False
        out = np.fromiter(self._out, np.float32)
        if out.max() < 2.5:  # we played nothing audible lately
            return False
        mic_c = mic - mic.mean()
        mic_norm = float(np.linalg.norm(mic_c)) or 1.0
        best = 0.0
        end = len(out)
        for lag in range(self.max_lag + 1):
            ref = out[end - lag - self.window:end - lag]
            ref_c = ref - ref.mean()
            ref_norm = float(np.linalg.norm(ref_c))
            if ref_norm == 0.0:
                continue
            best = max(best, float(mic_c @ ref_c) / (mic_norm * ref_norm))
        return best >= self.threshold
