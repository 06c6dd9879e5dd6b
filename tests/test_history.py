"""``voice-imrs history``: the plain table and its JSON, from a real record file."""

from __future__ import annotations

import json
from pathlib import Path

from test_records_store import cli, record, session_events

from voice_imrs.records.history import HEADERS, history_table
from voice_imrs.records.store import RecordStore


def _three_sessions(folder: Path) -> None:
    record(folder, session_events((7, 8, 3)), started_days_ago=40)
    record(folder, session_events((5, 4), stop=False, end="stopped", script="grounding"),
           started_days_ago=2)
    record(folder, session_events((), stop=False, script="breathing"))


def test_table_rows_say_date_script_minutes_ratings_and_ending(tmp_path: Path) -> None:
    folder = tmp_path / "data"
    _three_sessions(folder)
    with RecordStore.open(folder) as store:
        text = history_table(store.sessions())
    lines = text.splitlines()
    assert lines[0].startswith("3 sessions recorded.")
    assert lines[1].split() == list(HEADERS)
    first = lines[2].split()
    assert first[0] == "1" and first[3] == "safe_place"
    assert first[4] == "5.2"                      # 310 s: the last event, in minutes
    assert first[5:8] == ["7", "8", "3"]          # first, peak, last
    assert first[8] == "completed"
    assert lines[3].split()[5:] == ["5", "5", "4", "stopped"]
    assert lines[4].split()[5:] == ["none", "none", "none", "completed"]
    for line in lines:                            # nothing a screen reader reads as noise
        assert not set(line) & set("|+=─│┼")


def test_cli_history_with_days_and_json(tmp_path: Path) -> None:
    folder = tmp_path / "data"
    _three_sessions(folder)
    recent = cli(folder, "history", "--days", "7")
    assert recent.returncode == 0, recent.stderr
    assert recent.stdout.startswith("2 sessions recorded in the last 7 days.")
    assert "safe_place" not in recent.stdout and "grounding" in recent.stdout

    as_json = cli(folder, "history", "--json")
    assert as_json.returncode == 0, as_json.stderr
    rows = json.loads(as_json.stdout)
    assert [r["script"] for r in rows] == ["safe_place", "grounding", "breathing"]
    assert rows[0]["first"] == 7 and rows[0]["peak"] == 8 and rows[0]["last"] == 3
    assert rows[0]["ratings"] == [7, 8, 3] and rows[0]["stops"] == 1
    assert rows[1]["end_reason"] == "stopped"
    assert rows[2]["first"] is None


def test_cli_history_when_nothing_was_recorded(tmp_path: Path) -> None:
    result = cli(tmp_path / "empty", "history")
    assert result.returncode == 0
    assert result.stdout == "No sessions recorded.\n"


def test_cli_history_bad_days_is_one_clear_line(tmp_path: Path) -> None:
    for bad in ("soon", "-3", "0"):
        result = cli(tmp_path / "data", "history", "--days", bad)
        assert result.returncode == 2
        assert "Traceback" not in result.stderr
        assert "--days" in result.stderr
