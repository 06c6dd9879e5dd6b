"""Integrated loudness (ITU-R BS.1770-4, LUFS) of a whole track, and the track's soft edges.

Streaming and podcast players expect speech at about -16 LUFS integrated; a rendered
track is brought there so that it sits beside other recordings without a jump in level.
The meter is the standard one (K-weighting, 400 ms blocks overlapping by 75 %, an
absolute gate at -70 LUFS and a relative gate 10 LU under the mean), computed chunk by
chunk with the filter state carried across chunks: a 15-minute track is never copied
whole into float64 (the tests check it against pyloudnorm, the reference meter).
"""

from __future__ import annotations

import math

import numpy as np

#: What the track is brought to (Apple, Spotify and podcast guidance for spoken word).
TARGET_LUFS = -16.0
_BLOCK_S = 0.4
_STEP_S = 0.1  # 75 % overlap
_ABSOLUTE_GATE = -70.0
_RELATIVE_GATE = -10.0
_CHUNK = 1 << 18  # samples filtered at a time


def _biquads(rate: int) -> list[tuple[np.ndarray, np.ndarray]]:
    """The two K-weighting stages at ``rate``: a +4 dB high shelf and a 38 Hz high pass."""
    stages = []
    for kind, gain_db, q, fc in (("shelf", 4.0, 1 / math.sqrt(2), 1500.0),
                                 ("pass", 0.0, 0.5, 38.0)):
        a_gain = 10 ** (gain_db / 40)
        w0 = 2 * math.pi * fc / rate
        alpha = math.sin(w0) / (2 * q)
        cos = math.cos(w0)
        if kind == "shelf":
            root = 2 * math.sqrt(a_gain) * alpha
            b = [a_gain * ((a_gain + 1) + (a_gain - 1) * cos + root),
                 -2 * a_gain * ((a_gain - 1) + (a_gain + 1) * cos),
                 a_gain * ((a_gain + 1) + (a_gain - 1) * cos - root)]
            a = [(a_gain + 1) - (a_gain - 1) * cos + root,
                 2 * ((a_gain - 1) - (a_gain + 1) * cos),
                 (a_gain + 1) - (a_gain - 1) * cos - root]
        else:
            b = [(1 + cos) / 2, -(1 + cos), (1 + cos) / 2]
            a = [1 + alpha, -2 * cos, 1 - alpha]
        stages.append((np.array(b) / a[0], np.array(a) / a[0]))
    return stages


def _step_energies(audio: np.ndarray, rate: int) -> np.ndarray:
    """Sum of squares of the K-weighted signal in each 100 ms step (float in -1..1)."""
    from scipy.signal import lfilter  # 2 s to import: only when a track is measured

    step = round(_STEP_S * rate)
    stages = _biquads(rate)
    states = [np.zeros(2) for _ in stages]
    sums: list[np.ndarray] = []
    carry = np.zeros(0)
    for begin in range(0, len(audio), _CHUNK):
        chunk = np.asarray(audio[begin:begin + _CHUNK], np.float64)
        for i, (b, a) in enumerate(stages):
            chunk, states[i] = lfilter(b, a, chunk, zi=states[i])
        squared = np.concatenate([carry, chunk * chunk])
        whole = len(squared) // step * step
        sums.append(squared[:whole].reshape(-1, step).sum(axis=1))
        carry = squared[whole:]
    return np.concatenate(sums) if sums else np.zeros(0)


def integrated_loudness(audio: np.ndarray, rate: int) -> float:
    """The integrated loudness of mono ``audio`` (int16 or float in -1..1) in LUFS.

    -inf for a track with nothing above the absolute gate (silence).
    """
    scaled = audio if audio.dtype.kind == "f" else audio.astype(np.float32) / 32768.0
    energies = _step_energies(scaled, rate)
    per_block = round(_BLOCK_S / _STEP_S)
    if len(energies) < per_block:
        return -math.inf
    # Each 400 ms block is four 100 ms steps: a running sum over the steps.
    cumulative = np.concatenate([[0.0], np.cumsum(energies)])
    blocks = (cumulative[per_block:] - cumulative[:-per_block]) / (
        per_block * round(_STEP_S * rate))
    with np.errstate(divide="ignore"):
        loudness = -0.691 + 10 * np.log10(blocks)
    kept = blocks[loudness > _ABSOLUTE_GATE]
    if not len(kept):
        return -math.inf
    relative = -0.691 + 10 * math.log10(kept.mean()) + _RELATIVE_GATE
    with np.errstate(divide="ignore"):
        kept = blocks[(loudness > _ABSOLUTE_GATE) & (loudness > relative)]
    return float(-0.691 + 10 * math.log10(kept.mean()))


def gain_to(audio: np.ndarray, rate: int, target: float = TARGET_LUFS) -> float:
    """The linear gain that brings ``audio`` to ``target`` LUFS (1.0 for silence)."""
    measured = integrated_loudness(audio, rate)
    if not math.isfinite(measured):
        return 1.0
    return float(10 ** ((target - measured) / 20))


def fade_edges(audio: np.ndarray, rate: int, fade_in_s: float, fade_out_s: float) -> None:
    """Fade float ``audio`` in and out in place (raised-cosine ramps: no click, no thump)."""
    for seconds, at_start in ((fade_in_s, True), (fade_out_s, False)):
        n = min(len(audio), int(seconds * rate))
        if n <= 0:
            continue
        ramp = (0.5 - 0.5 * np.cos(np.linspace(0.0, math.pi, n))).astype(audio.dtype)
        if at_start:
            audio[:n] *= ramp
        else:
            audio[len(audio) - n:] *= ramp[::-1]
