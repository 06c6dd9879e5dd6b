"""``voice-imrs run`` on the virtual device speaks soon after it starts and stays small
(``bench startup``: a real child process, timed from a monitor of the speaker)."""

from __future__ import annotations

import pytest


def test_run_speaks_soon_and_stays_small(pulse: str, capsys: pytest.CaptureFixture[str]) -> None:
    from voice_imrs.bench.startup import measure

    summary = measure(1)
    with capsys.disabled():
        print(f"\n[startup] {summary}")
    # Generous bounds: the goal is 0.8 s and 150 MB; the benchmark reports the figures.
    assert summary["first_word_max_s"] < 3.0, summary
    assert summary["peak_rss_mb"] is not None and summary["peak_rss_mb"] < 150, summary
