"""What a therapist reads in a report: a trend line per exercise, the peak, the kind of
grounding, stops and how each session ended; and a start that failed is not a session.
"""

from __future__ import annotations

import io
import os
import subprocess
import sys
from datetime import datetime, timedelta
from pathlib import Path

import numpy as np
from conftest import ROOT

from voice_imrs.core.events import LogEvent
from voice_imrs.records import report
from voice_imrs.records.store import SessionSummary

E = LogEvent
NOW = datetime(2026, 11, 20, 18, 0).astimezone()


def _session(ratings: tuple[int, ...], *, detour: bool, stop: bool = False) -> list[LogEvent]:
    """A session with ratings, maybe a distress detour or a stop, and the usual close."""
    events = [E(0.0, "session_start", None, {"script": "safe_place", "mode": "homework"}),
              E(0.1, "step", "welcome", {"kind": "say"})]
    t = 10.0
    for i, value in enumerate(ratings):
        events += [E(t, "step", f"rate{i}", {"kind": "askrating"}),
                   E(t + 4.0, "rating", f"rate{i}", {"value": value, "scale": "distress"})]
        if detour and value >= 8:
            events += [E(t + 4.1, "branch", f"rate{i}", {"to": "grounding_high",
                                                         "reason": "safety"}),
                       E(t + 4.2, "step", "grounding_high", {"kind": "say"}),
                       E(t + 60.0, "branch", "grounding_high", {"to": "place",
                                                                "reason": "jump"}),
                       E(t + 60.1, "step", "place", {"kind": "say"})]
        t += 90.0
    if stop:
        events += [E(t, "intent", "place", {"intent": "stop"}),
                   E(t, "interrupted", "place", {"by": "stop"}),
                   E(t + 0.1, "branch", "place", {"to": "grounding_stop", "reason": "stop"}),
                   E(t + 0.2, "step", "grounding_stop", {"kind": "say"}),
                   E(t + 20.0, "branch", "grounding_choice", {"to": "place",
                                                              "reason": "choice continue"}),
                   E(t + 20.1, "step", "place", {"kind": "say"})]
        t += 30.0
    # The script's own close: entered in its flow, no branch (or a calm one).
    events += [E(t, "step", "grounding_return", {"kind": "say"}),
               E(t + 20.0, "step", "finish", {"kind": "end"}),
               E(t + 25.0, "session_end", "finish", {"reason": "completed"})]
    return events


def _summary(session_id: int, script: str, ratings: tuple[int, ...], reason: str,
             days_ago: float) -> SessionSummary:
    started = NOW - timedelta(days=days_ago)
    return SessionSummary(session_id, script, "homework", started,
                          started + timedelta(minutes=5), reason, None, 300.0, ratings)


def _pixels(png: bytes | None) -> np.ndarray:
    from matplotlib.image import imread

    assert png is not None
    image = np.asarray(imread(io.BytesIO(png), format="png"))
    return (image[..., :3] * 255).round().astype(int)


def _has_colour(pixels: np.ndarray, hex_colour: str, alpha: float = 1.0,
                at_least: int = 30) -> bool:
    rgb = np.array([int(hex_colour[i:i + 2], 16) for i in (1, 3, 5)])
    shown = rgb * alpha + 255 * (1 - alpha)  # over the white background
    close = np.abs(pixels - shown).max(axis=-1) <= 6
    return int(close.sum()) >= at_least


def test_the_usual_closing_grounding_is_not_shaded_like_a_detour() -> None:
    calm = _session((3, 2), detour=False)
    spans = report._grounding_spans(calm)
    assert [span.kind for span in spans] == [report.CLOSING]
    chart = report.distress_chart(_summary(1, "safe_place", (3, 2), "completed", 1), calm)
    assert not _has_colour(_pixels(chart.png), report.DETOUR_COLOUR, 0.6)
    assert "as the usual close" in chart.alt and "after distress" not in chart.alt
    assert ("3:10", "closing grounding began", "") in chart.rows

    rough = _session((4, 8, 2), detour=True, stop=True)
    kinds = [span.kind for span in report._grounding_spans(rough)]
    assert kinds == [report.DETOUR, report.DETOUR, report.CLOSING]
    chart = report.distress_chart(_summary(2, "safe_place", (4, 8, 2), "stopped", 1), rough)
    assert _has_colour(_pixels(chart.png), report.DETOUR_COLOUR, 0.6, at_least=500)
    whats = [what for _, what, _ in chart.rows]
    assert whats.count("grounding after distress or a stop began") == 2
    assert whats.count("closing grounding began") == 1


def test_the_peak_is_drawn_and_said_and_the_end_reason_shown() -> None:
    events = _session((4, 8, 2), detour=True, stop=True)
    chart = report.distress_chart(_summary(3, "safe_place", (4, 8, 2), "stopped", 1), events)
    assert "highest 8 at 1:44" in chart.alt  # the second rating, 104 s in
    assert _has_colour(_pixels(chart.png), report.PEAK_COLOUR)  # the peak's star
    assert "Stop at 4:40" in chart.alt
    assert chart.rows[-1][1:] == ("session ended", report.ENDED["stopped"])
    assert "stopped by the client" in chart.title
    calm = report.distress_chart(_summary(4, "safe_place", (3, 3), "completed", 1),
                                 _session((3, 3), detour=False))
    assert calm.title.endswith(", completed")


def test_end_reasons_are_told_apart() -> None:
    reasons = ("completed", "stopped", "incomplete", "fault", "signal", "killed")
    words = [report.ended_words(_summary(1, "safe_place", (5,), reason, 1))
             for reason in reasons]
    assert len(set(words)) == len(reasons)
    assert words[2].startswith("incomplete") and words[1].startswith("stopped")
    summaries = [_summary(i, "safe_place", (5,), reason, 10 - i)
                 for i, reason in enumerate(("completed", "completed", "stopped",
                                             "incomplete", "fault"), start=1)]
    assert report.endings_line(summaries) == (
        "How they ended: 2 completed, 1 stopped, 1 incomplete, 1 fault.")


def test_one_trend_line_per_exercise_across_days() -> None:
    summaries = [
        _summary(1, "safe_place", (6, 7, 3), "completed", 9),
        _summary(2, "paced_breathing", (5, 2), "stopped", 8),
        _summary(3, "safe_place", (5, 5, 2), "completed", 6),
        _summary(4, "paced_breathing", (4, 1), "incomplete", 4),
        _summary(5, "safe_place", (4, 3), "fault", 2),
        _summary(6, "grounding_54321", (), "completed", 1),  # no ratings: table only
    ]
    chart = report.ratings_across_days_chart(summaries)
    assert "one line for each of 2 exercises" in chart.alt
    assert "safe_place: 3 rated sessions" in chart.alt and "peaks 7, 5, 4" in chart.alt
    assert "paced_breathing: 2 rated sessions" in chart.alt and "peaks 5, 4" in chart.alt
    # The table groups the sessions by exercise and says how each ended.
    assert [row[0] for row in chart.rows] == ["grounding_54321", "paced_breathing",
                                              "paced_breathing", "safe_place", "safe_place",
                                              "safe_place"]
    ended = {row[2]: row[-1] for row in chart.rows}
    assert ended["2"].startswith("stopped") and ended["4"].startswith("incomplete")
    assert ended["5"].startswith("ended by an error") and ended["6"] == "completed"
    pixels = _pixels(chart.png)
    for _, _, colour in report._STYLES[:2]:  # one line each, in its colour
        assert _has_colour(pixels, colour, at_least=60), colour
    assert not _has_colour(pixels, report._STYLES[2][2], at_least=60)


def test_a_session_whose_start_failed_is_not_recorded(tmp_path: Path) -> None:
    env = {**os.environ, "PYTHONPATH": str(ROOT),
           "VOICE_IMRS_DATA_DIR": str(tmp_path / "data"),
           "VOICE_IMRS_CONFIG_DIR": str(tmp_path / "config")}
    env.pop("PULSE_SERVER", None)

    def cli(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "voice_imrs", *args], cwd=ROOT, env=env,
                              capture_output=True, text=True, timeout=120,
                              stdin=subprocess.DEVNULL)

    assert cli("profile", "set", "screen_done", "true").returncode == 0
    failed = cli("run", "safe_place", "--input", "no-such-microphone", "--no-keyboard")
    assert failed.returncode != 0 and "Traceback" not in failed.stderr
    assert len(failed.stderr.strip().splitlines()) == 1, failed.stderr
    history = cli("history")
    assert history.returncode == 0
    assert "No sessions recorded" in history.stdout, history.stdout
