"""Levels in the session mix: bells below the voice with a soft onset, and no clipping.

The voice, a bell and the background bed are summed block by block. Hard clipping of that
sum (``np.clip``) is what made the grounding bell crack at 0 dBFS; a limiter that lowers
the whole block instead keeps every sample in range without distortion, and recovers
slowly so that the level does not pump.
"""

from __future__ import annotations

import numpy as np

from voice_imrs.ports import PCM

#: Peak a mixed block may reach (-0.5 dBFS): a little headroom for later resampling.
CEILING = 32767 * 0.944
#: A bell's gain relative to full scale at volume 1: the shipped bell peaks at -3 dBFS,
#: so this puts it near -15 dBFS, 12 dB under the voice's peaks (espeak-ng peaks at about
#: -2 dBFS) and its sound well under the voice's loudness.
BELL_LEVEL = 0.25
#: The louder alerting bell (a check-in after silence) may be at most this much louder.
MAX_BELL_GAIN = 1.5
#: A bell fades in over this long: no click, no start for a client with eyes closed.
BELL_ONSET_S = 0.03
#: The limiter's gain climbs back by at most this factor per block (about 1 dB per 20 ms).
_RELEASE_PER_BLOCK = 1.12


def bell_gain(gain: float, volume: float) -> float:
    """The linear gain for a bell asked at ``gain`` (1 normal, more for alerting) when the
    voice is at ``volume`` (0..1): always below the voice.
    """
    return BELL_LEVEL * min(max(gain, 0.0), MAX_BELL_GAIN) * min(max(volume, 0.0), 1.0)


def soft_onset(audio: PCM, rate: int, seconds: float = BELL_ONSET_S) -> PCM:
    """``audio`` with a raised-cosine fade-in over its first ``seconds``."""
    n = min(len(audio), max(1, int(rate * seconds)))
    out = np.array(audio, dtype=np.float32)
    out[:n] *= 0.5 - 0.5 * np.cos(np.linspace(0.0, np.pi, n, dtype=np.float32))
    return np.round(out).astype(np.int16)


class Limiter:
    """Keeps a float mix within ``CEILING``: a block that would exceed it is scaled down as a
    whole (no sample is clipped), and the gain recovers gradually over later blocks.

    ``limited_blocks`` counts the blocks it had to turn down; ``clipped_samples`` stays 0
    (it is there so that tests and benches can say so).
    """

    def __init__(self, ceiling: float = CEILING) -> None:
        self.ceiling = float(ceiling)
        self.gain = 1.0
        self.limited_blocks = 0
        self.clipped_samples = 0

    def process(self, mix: np.ndarray) -> PCM:
        """The float block ``mix`` as int16, turned down where it would clip."""
        if len(mix) == 0:
            return np.zeros(0, np.int16)
        peak = float(np.abs(mix).max())
        allowed = self.ceiling / peak if peak > self.ceiling else 1.0
        target = min(allowed, self.gain * _RELEASE_PER_BLOCK, 1.0)
        if allowed < 1.0:
            self.limited_blocks += 1
        if target <= self.gain:
            gains: np.ndarray | float = target  # attack: at once, for the whole block
        else:
            # Release: a ramp from the old gain up to the new one, every step <= target.
            gains = np.linspace(self.gain, target, len(mix), dtype=np.float32)
        self.gain = target
        out = np.round(mix * gains)
        over = np.abs(out) > 32767
        if over.any():  # only rounding can get here; counted, never wrapped
            self.clipped_samples += int(over.sum())
            out = np.clip(out, -32768, 32767)
        return out.astype(np.int16)
