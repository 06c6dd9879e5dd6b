"""The background bed, the mix and loudness normalization."""

from __future__ import annotations

import numpy as np
import pytest

from voice_imrs.errors import UnknownChoiceError
from voice_imrs.render.assets import load_asset
from voice_imrs.render.mixer import (
    BackgroundBed,
    loudness_dbfs,
    mix,
    normalize_loudness,
)

RATE = 22050


def level_db(block: np.ndarray) -> float:
    x = block.astype(np.float64) / 32768
    return float(20 * np.log10(np.sqrt(np.mean(x ** 2)) + 1e-12))


def test_bed_loops_seamlessly_across_the_end():
    bed = BackgroundBed("rain", RATE, volume=1.0)
    loop = load_asset("rain", RATE)
    blocks = [bed.next_block(441) for _ in range(int(len(loop) * 2.5 / 441))]
    played = np.concatenate(blocks).astype(np.int32)
    expected = np.tile(loop, 3)[:len(played)].astype(np.int32)
    assert np.max(np.abs(played - expected)) <= 1  # the loop itself, start after end
    steps = np.abs(np.diff(played))
    seam = len(loop)
    assert steps[seam - 1] <= np.percentile(steps, 99.5)  # no click at the seam


def test_volume_changes_act_from_the_next_block_without_a_jump():
    bed = BackgroundBed("pink", RATE, volume=0.5)
    before = np.concatenate([bed.next_block(2205) for _ in range(10)])
    assert bed.softer() == pytest.approx(0.25)
    ramp = bed.next_block(2205)
    after = np.concatenate([bed.next_block(2205) for _ in range(10)])
    assert level_db(before) - level_db(after) == pytest.approx(6.02, abs=0.5)
    # The change is spread over the ramp block: its ends match the gains either side.
    assert level_db(ramp[:200]) == pytest.approx(level_db(before), abs=1.5)
    assert level_db(ramp[-200:]) == pytest.approx(level_db(after), abs=1.5)
    bed.louder()
    bed.next_block(2205)
    assert level_db(bed.next_block(22050)) == pytest.approx(level_db(before), abs=0.5)


def test_stop_silences_the_bed_after_a_fade():
    bed = BackgroundBed("brown_noise", RATE, volume=0.8)
    bed.next_block(1000)
    bed.stop()
    fade = bed.next_block(1000)
    assert np.any(fade != 0) and abs(int(fade[-1])) < 50
    assert bed.silent
    assert not np.any(bed.next_block(1000))


def test_unknown_bed_lists_textures():
    with pytest.raises(UnknownChoiceError) as caught:
        BackgroundBed("ocean", RATE)
    assert "rain" in str(caught.value)


def test_mix_adds_quiet_parts_exactly_and_never_clips():
    t = np.arange(RATE) / RATE
    quiet = (0.2 * 32767 * np.sin(2 * np.pi * 220 * t)).astype(np.int16)
    bed = BackgroundBed("rain", RATE, volume=0.25).next_block(RATE)
    mixed = mix(quiet, bed)
    plain = quiet.astype(np.int32) + bed.astype(np.int32)
    assert np.max(np.abs(mixed.astype(np.int32) - plain)) <= 1
    loud = np.full(RATE, 30000, np.int16)
    hot = mix(loud, np.full(RATE // 2, 30000, np.int16))
    assert len(hot) == RATE
    assert np.max(hot) < 32767 and np.min(hot) > -32768
    assert hot[0] > 30000  # bent down, still loud


def test_normalize_loudness_evens_prompts_and_keeps_the_peak():
    rng = np.random.default_rng(1)
    speechlike = rng.normal(0, 1, RATE) * np.repeat(rng.uniform(0, 1, 50), RATE // 50)
    soft = (speechlike * 800).astype(np.int16)
    loud = (speechlike * 6000).astype(np.int16)
    with_silence = np.concatenate([np.zeros(RATE, np.int16), soft])
    levels = [loudness_dbfs(normalize_loudness(x, RATE, -20.0), RATE)
              for x in (soft, loud, with_silence)]
    assert max(levels) - min(levels) < 0.5
    assert levels[0] == pytest.approx(-20.0, abs=0.5)
    spiky = np.zeros(RATE, np.int16)
    spiky[::2205] = 20000
    capped = normalize_loudness(spiky, RATE, -6.0, peak_dbfs=-1.0)
    assert np.max(np.abs(capped.astype(np.int32))) <= int(32767 * 10 ** (-1 / 20)) + 1
    silence = np.zeros(100, np.int16)
    assert not np.any(normalize_loudness(silence, RATE))
