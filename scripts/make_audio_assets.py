#!/usr/bin/env python3
"""Generate the sound assets (bells and background textures) with numpy.

Deterministic: the same seed gives byte-identical files, so the committed WAVs can be
checked against this script (tests/test_assets.py does). Writes mono 16-bit WAV at
22050 Hz (espeak-ng's own rate, so sessions mix them without resampling) into
``audio_assets/`` and the identical copies the package ships in ``voice_imrs/data/assets/``.

Textures are synthesized *circularly*: noise is shaped in the frequency domain over the
whole loop (an inverse FFT is periodic by construction) and rain droplets that run past the
end wrap to the start. The last sample flows into the first as smoothly as any two
neighbours, so a bed loops without a click and needs no crossfade.

Usage: python3 scripts/make_audio_assets.py [--check]
  --check   regenerate in memory and exit 1 if a committed file differs.
"""

from __future__ import annotations

import argparse
import io
import sys
import wave
from collections.abc import Callable
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
OUT_DIRS = (ROOT / "audio_assets", ROOT / "voice_imrs" / "data" / "assets")
RATE = 22050
SEED = 20240611

# ------------------------------------------------------------------ parameters
# Kept here in one place; audio_assets/README.md lists the same values.

#: Singing bowl: partial ratios close to a measured bowl's (inharmonic), their levels,
#: 60 dB decay times, and the beat between the two near-degenerate modes of each partial.
BELL = {
    "seconds": 5.0,
    "f0_hz": 196.0,
    "ratios": (1.0, 2.71, 5.04, 7.92, 11.3),
    "levels": (1.0, 0.55, 0.30, 0.16, 0.08),
    "t60_s": (9.0, 6.0, 3.5, 2.2, 1.4),
    "beat_hz": (0.9, 1.7, 2.6, 3.1, 3.7),
    "strike_ms": 4.0,
    "fade_out_s": 0.6,
    "peak_dbfs": -3.0,
}
#: Soft chime: a free bar's partials (1 : 2.76 : 5.40), short and quieter than the bell.
CHIME = {
    "seconds": 2.5,
    "f0_hz": 880.0,
    "ratios": (1.0, 2.76, 5.40),
    "levels": (1.0, 0.35, 0.12),
    "t60_s": (2.4, 1.2, 0.6),
    "beat_hz": (0.6, 1.1, 1.9),
    "strike_ms": 8.0,
    "fade_out_s": 0.4,
    "peak_dbfs": -6.0,
}
TEXTURE_SECONDS = 10.0
TEXTURE_RMS_DBFS = -20.0
#: Rain: a hiss band (high-passed noise) plus a little brown rumble plus droplets.
RAIN = {
    "hiss_band_hz": (800.0, 7000.0),
    "rumble_level": 0.35,
    "drops_per_s": 35.0,
    "drop_hz": (1200.0, 5000.0),
    "drop_decay_ms": (4.0, 18.0),
    "drop_level_db": (-30.0, -8.0),
}


# ------------------------------------------------------------------ generators


def _db(value: float) -> float:
    return float(10.0 ** (value / 20.0))


def struck(params: dict, rng: np.random.Generator) -> np.ndarray:
    """A struck metal bowl or bar: decaying inharmonic partials, each a beating pair."""
    n = int(params["seconds"] * RATE)
    t = np.arange(n) / RATE
    out = np.zeros(n)
    for ratio, level, t60, beat in zip(params["ratios"], params["levels"], params["t60_s"],
                                       params["beat_hz"], strict=True):
        freq = params["f0_hz"] * ratio
        decay = np.exp(-t * np.log(1000.0) / t60)  # -60 dB after t60 seconds
        phase = rng.uniform(0, 2 * np.pi, 2)
        # Two modes a few tenths of a hertz apart: the slow shimmer of a real bowl.
        pair = (np.sin(2 * np.pi * (freq - beat / 2) * t + phase[0])
                + 0.8 * np.sin(2 * np.pi * (freq + beat / 2) * t + phase[1]))
        out += level * decay * pair
    attack = int(params["strike_ms"] / 1000 * RATE)
    out[:attack] *= np.linspace(0.0, 1.0, attack)  # a soft mallet, not a click
    fade = int(params["fade_out_s"] * RATE)
    out[-fade:] *= np.cos(np.linspace(0, np.pi / 2, fade)) ** 2
    return out / np.max(np.abs(out)) * _db(params["peak_dbfs"])


def _shaped_noise(n: int, rng: np.random.Generator,
                  gain: Callable[[np.ndarray], np.ndarray]) -> np.ndarray:
    """Periodic noise with magnitude ``gain(f)``: random phases, one inverse FFT."""
    freqs = np.fft.rfftfreq(n, 1 / RATE)
    spectrum = gain(freqs) * np.exp(1j * rng.uniform(0, 2 * np.pi, len(freqs)))
    spectrum[0] = 0.0
    noise = np.fft.irfft(spectrum, n)
    return noise / np.sqrt(np.mean(noise ** 2))


def _at_rms(samples: np.ndarray, dbfs: float) -> np.ndarray:
    return samples / np.sqrt(np.mean(samples ** 2)) * _db(dbfs)


def pink(rng: np.random.Generator) -> np.ndarray:
    """Pink noise (-3 dB per octave) from 20 Hz."""
    n = int(TEXTURE_SECONDS * RATE)
    return _at_rms(_shaped_noise(n, rng, lambda f: np.where(f >= 20, 1 / np.sqrt(
        np.maximum(f, 1.0)), 0.0)), TEXTURE_RMS_DBFS)


def _brown_gain(f: np.ndarray) -> np.ndarray:
    return np.where(f >= 20, 1 / np.maximum(f, 1.0), 0.0)


def brown(rng: np.random.Generator) -> np.ndarray:
    """Brown (red) noise (-6 dB per octave) from 20 Hz: a low, soft rumble."""
    n = int(TEXTURE_SECONDS * RATE)
    return _at_rms(_shaped_noise(n, rng, _brown_gain), TEXTURE_RMS_DBFS)


def rain(rng: np.random.Generator) -> np.ndarray:
    """Rain-like bed: band-limited hiss, a little rumble, and droplets that wrap around."""
    n = int(TEXTURE_SECONDS * RATE)
    low, high = RAIN["hiss_band_hz"]

    def hiss_gain(f: np.ndarray) -> np.ndarray:
        # Gentle slopes rather than a brick wall: a smooth band centred in the hiss.
        rise = 1 / (1 + (low / np.maximum(f, 1.0)) ** 4)
        fall = 1 / (1 + (f / high) ** 4)
        return rise * fall / np.sqrt(np.maximum(f, 1.0) / 1000.0)

    bed = _shaped_noise(n, rng, hiss_gain) + RAIN["rumble_level"] * _shaped_noise(
        n, rng, _brown_gain)
    drops = np.zeros(n)
    count = int(RAIN["drops_per_s"] * TEXTURE_SECONDS)
    for start in rng.integers(0, n, count):
        freq = rng.uniform(*RAIN["drop_hz"])
        decay_s = rng.uniform(*RAIN["drop_decay_ms"]) / 1000
        length = int(decay_s * 6 * RATE)
        t = np.arange(length) / RATE
        # A droplet: a quick upward glide (a bubble's resonance rising) dying away fast.
        glide = freq * (1 + 0.3 * t / (decay_s * 6))
        drop = np.sin(2 * np.pi * np.cumsum(glide) / RATE) * np.exp(-t / decay_s)
        drop[: min(20, length)] *= np.linspace(0, 1, min(20, length))
        positions = (start + np.arange(length)) % n  # wrap: the loop stays seamless
        drops[positions] += _db(rng.uniform(*RAIN["drop_level_db"])) * drop
    mixed = 0.5 * bed / np.sqrt(np.mean(bed ** 2)) + drops / max(np.sqrt(np.mean(drops ** 2)),
                                                                 1e-9) * 0.35
    return _at_rms(mixed, TEXTURE_RMS_DBFS)


# ------------------------------------------------------------------ output

ASSETS: dict[str, Callable[[np.random.Generator], np.ndarray]] = {
    "bell": lambda rng: struck(BELL, rng),
    "chime": lambda rng: struck(CHIME, rng),
    "pink_noise": pink,
    "brown_noise": brown,
    "rain": rain,
}


def wav_bytes(samples: np.ndarray) -> bytes:
    pcm = np.clip(np.round(samples * 32767), -32768, 32767).astype("<i2")
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as writer:
        writer.setnchannels(1)
        writer.setsampwidth(2)
        writer.setframerate(RATE)
        writer.writeframes(pcm.tobytes())
    return buffer.getvalue()


def generate() -> dict[str, bytes]:
    """Every asset's WAV bytes; each asset has its own seeded generator (order-free)."""
    return {name: wav_bytes(make(np.random.default_rng([SEED, index])))
            for index, (name, make) in enumerate(ASSETS.items())}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true",
                        help="exit 1 if a committed asset differs from a fresh one")
    args = parser.parse_args()
    made = generate()
    stale = []
    for folder in OUT_DIRS:
        for name, data in made.items():
            path = folder / f"{name}.wav"
            if args.check:
                if not path.is_file() or path.read_bytes() != data:
                    stale.append(str(path))
                continue
            folder.mkdir(parents=True, exist_ok=True)
            path.write_bytes(data)
            print(f"wrote {path.relative_to(ROOT)} ({len(data) // 1024} KiB)")
    if stale:
        print("stale assets (run scripts/make_audio_assets.py): " + ", ".join(stale),
              file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
