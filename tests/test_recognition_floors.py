"""Floors on held-out real voices for the keyword recognizer: a regression fails CI.

The clips are every dev recording by a speaker held out of training
(``voice_imrs.bench.speakers``: a fixed rule, so a fixed subset), run through the same
path as ``voice-imrs bench recognition``. Floors sit a little below what was measured
with

    voice-imrs bench recognition --recognizer keyword --split heldout --no-peer

(figures and their date in docs/BENCHMARKS.md); they are not goals.
"""

from __future__ import annotations

import pytest

from voice_imrs.asr.keyword_net import CONFIRM_BELOW, KeywordNetRecognizer
from voice_imrs.bench.recognition import DEFAULT_MANIFEST, Tally, load_clips, score_ours

# Measured 2026-11-23 (two-network model): stop 47/52 = 0.904, false stops 4/152 = 0.026,
# ratings 59/75 = 0.787, yes/no 37/39 = 0.949, speech 179/182 = 0.984, noise called
# speech 3/22 = 0.136. Floors and ceilings sit one or two clips worse.
FLOORS = {
    "stop_recall": 45 / 52,
    "rating_acc": 56 / 75,
    "yesno_acc": 36 / 39,
    "speech_detect": 177 / 182,
}
CEILINGS = {
    "false_stop": 6 / 152,
    "noise_false_speech": 4 / 22,
}


@pytest.fixture(scope="module")
def held_out() -> Tally:
    clips = load_clips(DEFAULT_MANIFEST, "heldout")
    assert len(clips) == 204  # the split rule has not drifted
    return score_ours(clips, KeywordNetRecognizer, CONFIRM_BELOW)


@pytest.mark.parametrize("key", sorted(FLOORS))
def test_rate_stays_above_its_floor(held_out: Tally, key: str) -> None:
    assert held_out.rates()[key] >= FLOORS[key]


@pytest.mark.parametrize("key", sorted(CEILINGS))
def test_error_rate_stays_below_its_ceiling(held_out: Tally, key: str) -> None:
    assert held_out.rates()[key] <= CEILINGS[key]
