"""The generated sound assets: present, identical to a fresh generation, audible, shaped."""

from __future__ import annotations

import itertools
import subprocess
import sys

import numpy as np
import pytest
from conftest import ROOT

from voice_imrs.errors import UnknownChoiceError
from voice_imrs.render.assets import BELLS, TEXTURES, asset_names, assets_dir, load_asset


def rms_db(samples: np.ndarray) -> float:
    x = samples.astype(np.float64) / 32768
    return float(20 * np.log10(np.sqrt(np.mean(x ** 2)) + 1e-12))


def test_every_asset_is_shipped_and_committed_copy_matches_generator():
    assert set(asset_names()) == set(BELLS) | set(TEXTURES)
    for name in asset_names():
        shipped = (assets_dir() / f"{name}.wav").read_bytes()
        assert (ROOT / "audio_assets" / f"{name}.wav").read_bytes() == shipped
    done = subprocess.run([sys.executable, str(ROOT / "scripts" / "make_audio_assets.py"),
                           "--check"], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr


@pytest.mark.parametrize("name", [*BELLS, *TEXTURES])
def test_asset_is_audible_and_not_clipped(name):
    audio = load_asset(name, 22050)
    assert len(audio) >= 22050 * 2
    assert -30 < rms_db(audio) < -8
    assert np.max(np.abs(audio.astype(np.int32))) < 32000


def test_resampled_on_load_and_cached_read_only():
    at16 = load_asset("bell", 16000)
    at22 = load_asset("bell", 22050)
    assert abs(len(at16) / 16000 - len(at22) / 22050) < 0.01
    assert load_asset("BELL", 16000) is at16
    assert not at16.flags.writeable


def test_bell_rings_then_decays():
    bell = load_asset("bell", 22050)
    # One-second windows: the bowl's beating shimmers within a second but decays overall.
    seconds = [rms_db(bell[i:i + 22050]) for i in range(0, len(bell) - 22049, 22050)]
    assert all(later < earlier for earlier, later in itertools.pairwise(seconds))
    assert seconds[0] - seconds[-1] > 25
    # Its fundamental and first (inharmonic) overtone are where the generator put them.
    spectrum = np.abs(np.fft.rfft(bell[:22050].astype(np.float64)))
    freqs = np.fft.rfftfreq(22050, 1 / 22050)
    peak = freqs[np.argmax(spectrum)]
    assert abs(peak - 196) < 3
    band = (freqs > 480) & (freqs < 600)
    assert abs(freqs[band][np.argmax(spectrum[band])] - 196 * 2.71) < 4


@pytest.mark.parametrize("name", TEXTURES)
def test_texture_seam_is_like_any_other_step(name):
    loop = load_asset(name, 22050).astype(np.float64)
    steps = np.abs(np.diff(loop))
    seam = abs(loop[0] - loop[-1])
    assert seam <= np.percentile(steps, 99.5)


def test_unknown_asset_lists_the_choices():
    with pytest.raises(UnknownChoiceError) as caught:
        load_asset("gong", 22050)
    assert "bell" in str(caught.value) and "rain" in str(caught.value)
