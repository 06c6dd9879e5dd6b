"""Log-mel spectrogram features for the keyword classifier, in numpy only.

The same function serves training (``scripts/train_keyword_model.py``) and the runtime
recognizer (``voice_imrs.asr.keyword_net``), so the model sees at run time exactly the
features it was trained on. 25 ms Hann windows every 10 ms, 40 mel bands from 60 Hz to
7.6 kHz, natural log with a floor so that digital silence stays finite.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np
import numpy.typing as npt

from voice_imrs.ports import ASR_RATE

Floats = npt.NDArray[np.float32]

WIN = 400       # 25 ms at 16 kHz
HOP = 160       # 10 ms
N_FFT = 512
N_MELS = 40
F_MIN = 60.0
F_MAX = 7600.0
#: Power floor (int16 scale squared); keeps log() finite on digital silence and makes
#: exact zeros look like a very quiet room rather than minus infinity.
POWER_FLOOR = 1e-2
#: Classifier input: one second of audio gives this many frames.
WINDOW_SAMPLES = ASR_RATE
WINDOW_FRAMES = 1 + (WINDOW_SAMPLES - WIN) // HOP  # 98


def _hz_to_mel(hz: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
    return 2595.0 * np.log10(1.0 + hz / 700.0)


def _mel_to_hz(mel: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
    return 700.0 * (10.0 ** (mel / 2595.0) - 1.0)


@lru_cache(maxsize=1)
def mel_filterbank() -> Floats:
    """Triangular mel filters, shape (N_FFT // 2 + 1, N_MELS)."""
    bins = np.fft.rfftfreq(N_FFT, 1.0 / ASR_RATE)
    edges = _mel_to_hz(np.linspace(_hz_to_mel(np.array(F_MIN)), _hz_to_mel(np.array(F_MAX)),
                                   N_MELS + 2))
    bank = np.zeros((len(bins), N_MELS), np.float32)
    for m in range(N_MELS):
        low, centre, high = edges[m], edges[m + 1], edges[m + 2]
        rising = (bins - low) / (centre - low)
        falling = (high - bins) / (high - centre)
        bank[:, m] = np.clip(np.minimum(rising, falling), 0.0, None)
    return bank


@lru_cache(maxsize=1)
def _window() -> Floats:
    return np.hanning(WIN).astype(np.float32)


def log_mel(samples: npt.ArrayLike) -> Floats:
    """Log-mel frames of int16-scaled mono 16 kHz audio, shape (frames, N_MELS).

    Audio shorter than one analysis window gives zero frames.
    """
    audio = np.asarray(samples, np.float32)
    if len(audio) < WIN:
        return np.zeros((0, N_MELS), np.float32)
    frames = np.lib.stride_tricks.sliding_window_view(audio, WIN)[::HOP]
    spectrum = np.fft.rfft(frames * _window(), N_FFT, axis=1)
    power = (spectrum.real ** 2 + spectrum.imag ** 2).astype(np.float32)
    return np.log(power @ mel_filterbank() + POWER_FLOOR).astype(np.float32)


def fit_window(samples: npt.ArrayLike, length: int = WINDOW_SAMPLES) -> npt.NDArray[np.int16]:
    """Exactly ``length`` samples: the centre of longer audio, shorter audio zero-padded
    evenly on both sides.
    """
    audio = np.asarray(samples, np.int16)
    if len(audio) >= length:
        start = (len(audio) - length) // 2
        return audio[start:start + length]
    before = (length - len(audio)) // 2
    return np.pad(audio, (before, length - len(audio) - before))
