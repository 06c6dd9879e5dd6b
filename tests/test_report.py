"""``voice-imrs report``: a self-contained, accessible HTML page with real, non-blank charts."""

from __future__ import annotations

import base64
import io
import stat
from html.parser import HTMLParser
from pathlib import Path

import numpy as np
from test_records_store import cli, record, session_events


class PageReader(HTMLParser):
    """Collects what the tests look at: the html tag, headings, and each chart section."""

    def __init__(self) -> None:
        super().__init__()
        self.lang = ""
        self.tags: list[str] = []
        self.headings: list[tuple[str, str]] = []
        self.charts: list[dict[str, object]] = []   # one per <h3> section
        self._heading: str | None = None
        self._text = ""

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        self.tags.append(tag)
        if tag == "html":
            self.lang = values.get("lang") or ""
        if tag in ("h1", "h2", "h3"):
            self._heading, self._text = tag, ""
        if tag == "h3":
            self.charts.append({"imgs": [], "tables": 0, "cells": []})
        if tag == "img" and self.charts:
            imgs = self.charts[-1]["imgs"]
            assert isinstance(imgs, list)
            imgs.append((values.get("src") or "", values.get("alt") or ""))
        # The console's per-part table (class "parts") sits under a session's chart too.
        if tag == "table" and self.charts and values.get("class") != "parts":
            self.charts[-1]["tables"] = int(str(self.charts[-1]["tables"])) + 1

    def handle_data(self, data: str) -> None:
        if self._heading:
            self._text += data

    def handle_endtag(self, tag: str) -> None:
        if tag == self._heading:
            self.headings.append((tag, self._text.strip()))
            self._heading = None


def _decode_png(src: str) -> np.ndarray:
    prefix = "data:image/png;base64,"
    assert src.startswith(prefix)
    data = base64.b64decode(src[len(prefix):])
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    from matplotlib.image import imread

    return np.asarray(imread(io.BytesIO(data), format="png"))


def _assert_not_blank(pixels: np.ndarray) -> None:
    assert pixels.ndim == 3 and pixels.shape[0] > 100 and pixels.shape[1] > 200
    rgb = pixels[..., :3].reshape(-1, 3)
    assert float(rgb.std()) > 0.05                       # not one flat colour
    inked = np.mean(rgb.mean(axis=1) < 0.9)
    assert inked > 0.01                                  # lines, bars and text drawn
    assert len(np.unique((rgb * 255).astype(np.uint8), axis=0)) > 20


def _record_month(folder: Path) -> None:
    record(folder, session_events((7, 8, 3)), started_days_ago=9)
    record(folder, session_events((6, 4), stop=False, script="grounding"), started_days_ago=5)
    record(folder, session_events((5, 9, 2)), started_days_ago=1)


def test_report_has_an_image_and_a_table_per_chart(tmp_path: Path) -> None:
    folder = tmp_path / "data"
    _record_month(folder)
    out = tmp_path / "report.html"
    result = cli(folder, "report", "--days", "30", "--out", str(out))
    assert result.returncode == 0, result.stderr
    assert str(out) in result.stdout
    page = out.read_text(encoding="utf-8")
    assert stat.S_IMODE(out.stat().st_mode) == 0o600

    # Self-contained: no address to fetch, no script, no external style.
    lowered = page.lower()
    for outside in ("http://", "https://", "<script", "<link", "url(", "src=\"//"):
        assert outside not in lowered, outside

    reader = PageReader()
    reader.feed(page)
    assert reader.lang == "en"
    assert [level for level, _ in reader.headings].count("h1") == 1
    assert ("h2", "Distress during the sessions") in reader.headings
    assert ("h2", "Across days") in reader.headings
    # Three sessions drawn one by one, then ratings across days and practice per week.
    assert len(reader.charts) == 5
    for chart in reader.charts:
        imgs = chart["imgs"]
        assert isinstance(imgs, list) and len(imgs) == 1
        src, alt = imgs[0]
        assert len(alt) > 40
        _assert_not_blank(_decode_png(src))
        assert chart["tables"] == 1
    assert page.count('<th scope="col">') >= 5 * 3

    # The alt text and the table carry the data the picture shows.
    h3 = [text for level, text in reader.headings if level == "h3"]
    assert h3[0].startswith("Session 1: safe_place")
    assert "first 7" in page and "highest 8" in page and "last 3" in page
    assert "Stop at 0:34" in page                      # the stop 34 s into session 1
    assert "Grounding from" in page
    assert "<td>grounding_high" not in page            # step ids sit in the event column
    assert "<td>to grounding_high (distress)</td>" in page
    assert "week of" in page


def test_report_for_one_session_and_for_the_last(tmp_path: Path) -> None:
    folder = tmp_path / "data"
    _record_month(folder)
    out = tmp_path / "one.html"
    result = cli(folder, "report", "--session", "2", "--out", str(out))
    assert result.returncode == 0, result.stderr
    reader = PageReader()
    reader.feed(out.read_text(encoding="utf-8"))
    h3 = [text for level, text in reader.headings if level == "h3"]
    assert h3[0].startswith("Session 2: grounding") and len(h3) == 3
    assert ("h2", "Distress during the session") in reader.headings

    last = tmp_path / "last.html"
    result = cli(folder, "report", "--last", "--out", str(last))
    assert result.returncode == 0, result.stderr
    assert "Session 3: safe_place" in last.read_text(encoding="utf-8")


def test_report_bad_input_is_one_clear_line(tmp_path: Path) -> None:
    folder = tmp_path / "data"
    record(folder, session_events((7, 3)), started_days_ago=3)
    cases = [
        (("report", "--session", "99", "--out", str(tmp_path / "r.html")),
         "no recorded session 99"),
        (("report", "--last", "--out", str(tmp_path / "missing" / "dir" / "r.html")),
         "Cannot write the report"),
        (("report", "--last", "--out", str(tmp_path)), "Cannot write the report"),
        (("report", "--days", "1", "--out", str(tmp_path / "r.html")),
         "No sessions were recorded"),
    ]
    for args, words in cases:
        result = cli(folder, *args)
        assert result.returncode == 8, (args, result.stderr)
        assert "Traceback" not in result.stderr
        assert words in result.stderr, result.stderr
        assert len(result.stderr.strip().splitlines()) == 1
    empty = cli(tmp_path / "none", "report", "--last", "--out", str(tmp_path / "r.html"))
    assert empty.returncode == 8 and "No session has been recorded" in empty.stderr
