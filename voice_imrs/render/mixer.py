"""Mixing for sessions and tracks: a looping background bed, a clip-free mix, even loudness.

``BackgroundBed`` hands out the texture block by block (for a live output callback or for
a rendered track) and can be turned down, up or off at any moment: a volume change is
ramped across one block, so it never clicks. ``mix`` adds voice and bed and tames peaks
with a soft limiter instead of clipping. ``normalize_loudness`` brings prompts to one
level (a gated RMS, close to what loudness meters do for speech) so that synthetic and
recorded prompts sound equally loud.
"""

from __future__ import annotations

import threading

import numpy as np

from voice_imrs.ports import PCM
from voice_imrs.render.assets import check_texture, load_asset

#: The bed's default gain: the textures sit at -20 dBFS, so this is about -32 dBFS, well
#: under speech normalized to -20 dBFS.
DEFAULT_BED_VOLUME = 0.25
#: "softer" and "louder" change the bed by this factor (6 dB).
BED_STEP = 0.5
#: Above this (of full scale) the limiter starts bending peaks down.
LIMIT_KNEE = 0.85
#: Block length for the loudness gate.
_GATE_BLOCK_S = 0.02
#: Blocks quieter than this are never counted (digital silence, hum).
_GATE_DBFS = -70.0
#: Blocks this far under the level of the counted ones are left out too (pauses, breaths).
#: Relative, as in loudness meters, so that the measure scales with the signal: a prompt
#: made 10 dB louder measures 10 dB louder.
_RELATIVE_GATE_DB = 20.0


class BackgroundBed:
    """A texture looped without end, at a volume that may change while it plays.

    name: a texture ("rain", "pink_noise", "brown_noise"; "pink"/"brown" also accepted).
    rate: the output sample rate.
    volume: linear gain 0..1 on the texture (0 is silent).
    """

    def __init__(self, name: str, rate: int, volume: float = DEFAULT_BED_VOLUME) -> None:
        self.name = check_texture(name)
        self.rate = rate
        self._loop = load_asset(self.name, rate).astype(np.float32) / 32768.0
        self._position = 0
        self._volume = _clamp(volume)
        self._applied = self._volume  # the gain at the end of the last block handed out
        self._lock = threading.Lock()

    @property
    def volume(self) -> float:
        return self._volume

    @volume.setter
    def volume(self, value: float) -> None:
        self._volume = _clamp(value)  # applied from the next block, ramped across it

    def softer(self) -> float:
        """Turn down by 6 dB; returns the new volume."""
        self.volume = self._volume * BED_STEP
        return self._volume

    def louder(self) -> float:
        """Turn up by 6 dB (at most 1); returns the new volume."""
        self.volume = max(self._volume, 0.01) / BED_STEP
        return self._volume

    def stop(self) -> None:
        """Silence the bed (faded out over the next block)."""
        self.volume = 0.0

    @property
    def silent(self) -> bool:
        return self._volume == 0.0 and self._applied == 0.0

    def next_block(self, n: int) -> PCM:
        """The next ``n`` samples of the loop at the current volume."""
        with self._lock:
            start_at = self._position
            self._position = (self._position + n) % len(self._loop)
            start, end = self._applied, self._volume
            self._applied = end
        if start == end == 0.0:
            return np.zeros(n, np.int16)
        block = self._take(start_at, n)
        if start == end:
            block *= end
        else:
            block *= np.linspace(start, end, n, dtype=np.float32)
        return _to_pcm(block)

    def _take(self, position: int, n: int) -> np.ndarray:
        """``n`` samples of the loop from ``position`` on, wrapping (slices, no index array:
        a whole rendered track's bed is one call).
        """
        out = np.empty(n, np.float32)
        filled = 0
        while filled < n:
            part = self._loop[position:position + n - filled]
            out[filled:filled + len(part)] = part
            filled += len(part)
            position = 0
        return out

    def render(self, seconds: float) -> PCM:
        """``seconds`` of the bed at the current volume (for rendered tracks)."""
        return self.next_block(round(seconds * self.rate))

    def render_float(self, n: int) -> np.ndarray:
        """``n`` samples as float32 in -1..1 at the current volume (a track's whole bed)."""
        with self._lock:
            start_at = self._position
            self._position = (self._position + n) % len(self._loop)
            self._applied = self._volume
        block = self._take(start_at, n)
        block *= self._volume
        return block


def mix(voice_block: PCM, bed_block: PCM) -> PCM:
    """Voice plus bed (the shorter padded with silence), peaks soft-limited, never clipped."""
    n = max(len(voice_block), len(bed_block))
    total = np.zeros(n, np.float32)
    total[:len(voice_block)] += voice_block.astype(np.float32) / 32768.0
    total[:len(bed_block)] += bed_block.astype(np.float32) / 32768.0
    return _to_pcm(soft_limit(total))


def soft_limit(samples: np.ndarray, in_place: bool = False) -> np.ndarray:
    """Float samples bent smoothly into -1..1: unchanged below the knee, never past 1.

    Per sample and without memory, so it works the same on live blocks and whole tracks.
    ``in_place`` changes ``samples`` itself (no copy of a long track).
    """
    over = np.flatnonzero(np.abs(samples) > LIMIT_KNEE)
    if len(over) == 0:
        return samples
    room = 1.0 - LIMIT_KNEE
    peaks = samples[over]
    bent = LIMIT_KNEE + room * np.tanh((np.abs(peaks) - LIMIT_KNEE) / room)
    out = samples if in_place else samples.copy()
    out[over] = np.sign(peaks) * bent * 0.999
    return out


def loudness_dbfs(pcm: PCM, rate: int) -> float:
    """Gated RMS level in dBFS over 20 ms blocks, pauses left out (see the gates above).

    -inf for silence.
    """
    samples = pcm.astype(np.float64) / 32768.0
    block = max(1, int(_GATE_BLOCK_S * rate))
    usable = len(samples) // block * block
    if usable == 0:
        usable, block = len(samples), max(1, len(samples))
    if usable == 0:
        return float("-inf")
    power = np.mean(samples[:usable].reshape(-1, block) ** 2, axis=1)
    loud = power[power > 10 ** (_GATE_DBFS / 10)]
    if len(loud) == 0:
        return float("-inf")
    loud = loud[loud > np.mean(loud) * 10 ** (-_RELATIVE_GATE_DB / 10)]
    return float(10 * np.log10(np.mean(loud)))


def normalize_loudness(pcm: PCM, rate: int, target_dbfs: float = -20.0,
                       peak_dbfs: float = -1.0) -> PCM:
    """``pcm`` scaled to ``target_dbfs`` gated RMS, its peak kept at or below ``peak_dbfs``.

    Silence is returned unchanged.
    """
    level = loudness_dbfs(pcm, rate)
    if not np.isfinite(level):
        return pcm.copy()
    samples = pcm.astype(np.float32) / 32768.0
    gain = 10 ** ((target_dbfs - level) / 20)
    peak = float(np.max(np.abs(samples))) * gain
    ceiling = 10 ** (peak_dbfs / 20)
    if peak > ceiling:
        gain *= ceiling / peak
    return _to_pcm(samples * gain)


def _to_pcm(samples: np.ndarray) -> PCM:
    return np.clip(np.round(samples * 32767.0), -32768, 32767).astype(np.int16)


def _clamp(volume: float) -> float:
    return float(min(max(volume, 0.0), 1.0))
