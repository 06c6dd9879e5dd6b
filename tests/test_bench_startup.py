"""``voice-imrs run`` on the virtual device speaks soon after it starts and stays small
(``bench startup``: a real child process, timed from a monitor of the speaker)."""

from __future__ import annotations

import pytest


def test_run_speaks_soon_and_stays_small(pulse: str, capsys: pytest.CaptureFixture[str]) -> None:
    from benchmarks.startup import measure

    summary = measure(1)
    with capsys.disabled():
        print(f"\n[startup] {summary}")
    # Generous bounds against a hang or a leak; the benchmark reports the figures. The
    # goals (0.8 s, 350 MB) are not met with the neural voice as the default: it takes
    # about 1.4 s of CPU to load and 230-250 MB (docs/BENCHMARKS.md, "Start-up").
    assert summary["first_word_max_s"] < 8.0, summary
    assert summary["peak_rss_mb"] is not None and summary["peak_rss_mb"] < 700, summary
