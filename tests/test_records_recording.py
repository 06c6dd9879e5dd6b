"""One recording path (``records.recording.recorded``) and one crash-recovery path
(``RecordStore.recover_killed``): the rules every command records by."""

from __future__ import annotations

import sqlite3
import subprocess
from pathlib import Path

import pytest
from test_records_store import cli, session_events

from voice_imrs.core.events import LogEvent
from voice_imrs.records.recording import recorded
from voice_imrs.records.store import DB_NAME, RecordStore, SessionRecorder


def _sessions(folder: Path, client: str | None = None) -> list[tuple[str, str | None]]:
    with RecordStore.open(folder) as store:
        store.client = client
        return [(s.script, s.end_reason) for s in store.sessions()]


def test_a_session_that_fails_before_its_first_event_leaves_no_record(tmp_path: Path) -> None:
    recorder = SessionRecorder.open(tmp_path)
    with pytest.raises(RuntimeError), recorded(recorder, "safe_place", "homework"):
        raise RuntimeError("no sound device")
    recorder.close()
    assert _sessions(tmp_path) == []


def test_its_own_end_wins_and_a_missing_end_is_a_signal(tmp_path: Path) -> None:
    recorder = SessionRecorder.open(tmp_path)
    with recorded(recorder, "safe_place", "homework") as recording:
        assert recording is not None
        for event in session_events((4,), end="stopped"):
            recording.observe(event)
        recording.end_reason = "completed"  # what the runner returned: too late to count
    with pytest.raises(KeyboardInterrupt), \
            recorded(recorder, "grounding_54321", "homework") as recording:
        assert recording is not None
        recording.observe(LogEvent(0.0, "session_start", None,
                                   {"script": "grounding_54321", "mode": "homework"}))
        raise KeyboardInterrupt  # Ctrl-C before the runner could log the end
    recorder.close()
    assert _sessions(tmp_path) == [("safe_place", "stopped"), ("grounding_54321", "signal")]


def _killed_session(folder: Path, client: str | None) -> None:
    """A session row whose process is gone and whose end was never written."""
    dead = subprocess.Popen(["true"])
    dead.wait()
    with sqlite3.connect(folder / DB_NAME) as conn:
        conn.execute("INSERT INTO sessions (script, mode, started_at, pid, client) VALUES "
                     "('safe_place', 'homework', '2026-12-01T10:00:00+00:00', ?, ?)",
                     (dead.pid, client))


def test_recovery_marks_every_client_and_offers_grounding_to_its_own(tmp_path: Path) -> None:
    SessionRecorder.open(tmp_path).close()  # the database, empty
    _killed_session(tmp_path, "A17")
    _killed_session(tmp_path, None)
    with RecordStore.open(tmp_path) as store:
        store.client = "B02"  # another client's session was cut off: nothing to offer B02
        assert store.recover_killed() == []
    assert _sessions(tmp_path) == [("safe_place", "killed"), ("safe_place", "killed")]
    _killed_session(tmp_path, "B02")
    with RecordStore.open(tmp_path) as store:
        store.client = "B02"
        assert [s.client for s in store.recover_killed()] == ["B02"]


def test_simulate_record_that_fails_at_start_records_nothing(tmp_path: Path) -> None:
    data = tmp_path / "data"
    scenario = tmp_path / "client.toml"
    scenario.write_text('[[reply]]\ntext = "stop"\n')
    failed = cli(data, "simulate", "safe_place", "--client", str(scenario), "--record",
                 "--recognizer", "vosk", "--model", str(tmp_path / "no-model-here"))
    assert failed.returncode != 0 and "Traceback" not in failed.stderr, failed.stderr
    assert "no-model-here" in failed.stderr
    history = cli(data, "history")
    assert "1 session" not in history.stdout and "safe_place" not in history.stdout, \
        history.stdout
