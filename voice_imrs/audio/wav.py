"""WAV files in and out, and sample-rate conversion.

Everything inside the program is mono int16 PCM. Reading accepts 8/16/24/32-bit integer
and 32-bit float WAV, mono or multi-channel (channels are averaged); anything else is an
``AudioFormatError`` that names the file and says what to do.
"""

from __future__ import annotations

import wave
from fractions import Fraction
from pathlib import Path

import numpy as np

from voice_imrs.errors import AudioFormatError
from voice_imrs.ports import PCM


def read_wav(path: str | Path) -> tuple[PCM, int]:
    """Samples (mono int16) and sample rate of a WAV file."""
    path = Path(path)
    if not path.is_file():
        raise AudioFormatError(f"Audio file {str(path)!r} does not exist.",
                               hint="Check the path.")
    if path.stat().st_size == 0:
        raise AudioFormatError(f"Audio file {str(path)!r} is empty.",
                               hint="Record or export it again as a WAV file.")
    try:
        with wave.open(str(path), "rb") as reader:
            rate, width, channels = (reader.getframerate(), reader.getsampwidth(),
                                     reader.getnchannels())
            raw = reader.readframes(reader.getnframes())
    except (wave.Error, EOFError) as error:
        raise AudioFormatError(
            f"Audio file {str(path)!r} is not a PCM WAV file ({error}).",
            hint="Convert it, for example: ffmpeg -i INPUT -ac 1 -ar 16000 OUTPUT.wav",
        ) from None
    samples = _to_float(raw, width, path)
    if channels > 1:
        samples = samples[: len(samples) // channels * channels].reshape(-1, channels).mean(axis=1)
    return to_int16(samples), rate


def _to_float(raw: bytes, width: int, path: Path) -> np.ndarray:
    if width == 1:
        return (np.frombuffer(raw, np.uint8).astype(np.float32) - 128.0) / 128.0
    if width == 2:
        return np.frombuffer(raw, "<i2").astype(np.float32) / 32768.0
    if width == 3:
        bytes3 = np.frombuffer(raw, np.uint8).reshape(-1, 3).astype(np.int32)
        value = bytes3[:, 0] | (bytes3[:, 1] << 8) | (bytes3[:, 2] << 16)
        value = np.where(value >= 1 << 23, value - (1 << 24), value)
        return value.astype(np.float32) / float(1 << 23)
    if width == 4:
        return np.frombuffer(raw, "<i4").astype(np.float32) / float(1 << 31)
    raise AudioFormatError(f"Audio file {str(path)!r} has {8 * width}-bit samples.",
                           hint="Use 16-bit PCM WAV.")


def to_int16(samples: np.ndarray) -> PCM:
    """Float samples in -1..1 to int16, clipped."""
    return np.clip(np.round(samples * 32767.0), -32768, 32767).astype(np.int16)


def write_wav(path: str | Path, samples: PCM, rate: int) -> None:
    """Write mono int16 samples as a 16-bit PCM WAV file."""
    with wave.open(str(path), "wb") as writer:
        writer.setnchannels(1)
        writer.setsampwidth(2)
        writer.setframerate(rate)
        writer.writeframes(np.asarray(samples, dtype="<i2").tobytes())


def resample(samples: PCM, from_rate: int, to_rate: int) -> PCM:
    """Polyphase resampling of int16 PCM (exact for rational ratios such as 22050 -> 16000)."""
    if from_rate == to_rate or len(samples) == 0:
        return samples
    from scipy.signal import resample_poly  # imported here: only callers that resample pay

    ratio = Fraction(to_rate, from_rate)
    out = resample_poly(samples.astype(np.float32), ratio.numerator, ratio.denominator)
    return np.clip(np.round(out), -32768, 32767).astype(np.int16)


def read_wav_at(path: str | Path, rate: int) -> PCM:
    """A WAV file's samples resampled to ``rate``."""
    samples, file_rate = read_wav(path)
    return resample(samples, file_rate, rate)
