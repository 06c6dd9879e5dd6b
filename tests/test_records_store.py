"""The record store on a real SQLite file: round trip, privacy, migrations, permissions, cost.

Also home of the helpers the other record tests share (``session_events``, ``record``, ``cli``).
"""

from __future__ import annotations

import os
import sqlite3
import stat
import subprocess
import sys
import time
from collections.abc import Iterator, Sequence
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from voice_imrs.core.events import LogEvent
from voice_imrs.errors import RecordError, UnknownChoiceError
from voice_imrs.records.migrations import CURRENT_VERSION, schema_version
from voice_imrs.records.store import (
    DB_NAME,
    RecordStore,
    SessionRecorder,
    stored_fields,
)

ROOT = Path(__file__).resolve().parent.parent
SECRET_PROMPT = "your safe place by the blue lake with Grandma Hilde"
SECRET_SPEECH = "the attic at my uncle's house"


def session_events(ratings: Sequence[int] = (7, 8, 3), *, stop: bool = True,
                   end: str = "completed", script: str = "safe_place") -> list[LogEvent]:
    """A session's event log in the format of core/events.py, as the engine writes it."""
    E = LogEvent
    events = [
        E(0.0, "session_start", None, {"script": script, "mode": "homework",
                                       "perspective": "first", "eyes": "closed"}),
        E(0.05, "step", "intro", {"kind": "say"}),
        E(0.1, "say_start", "intro", {"text": f"Picture {SECRET_PROMPT}."}),
        E(9.0, "say_end", "intro"),
    ]
    t = 10.0
    for i, value in enumerate(ratings):
        step = f"rate{i + 1}"
        events += [
            E(t, "step", step, {"kind": "askrating"}),
            E(t + 0.1, "say_start", step, {"text": "How strong is the distress now?"}),
            E(t + 3.0, "say_end", step),
            E(t + 5.0, "intent", step, {"intent": "rating", "value": value, "text": str(value),
                                        "confidence": 0.82}),
            E(t + 5.0, "rating", step, {"value": value, "scale": "distress"}),
        ]
        if value >= 8:
            events += [
                E(t + 5.1, "branch", step, {"to": "grounding_high", "reason": "distress"}),
                E(t + 5.2, "step", "grounding_high", {"kind": "say"}),
                E(t + 40.0, "noinput", "grounding_high", {"count": 1}),
                E(t + 50.0, "nomatch", "grounding_high", {"count": 1, "text": SECRET_SPEECH}),
                E(t + 70.0, "branch", "grounding_high", {"to": "scene2", "reason": "jump"}),
            ]
        if stop and i == 0:
            events += [
                E(t + 20.0, "step", "scene", {"kind": "say"}),
                E(t + 21.0, "say_start", "scene", {"text": "Now see the room."}),
                E(t + 24.0, "intent", "scene", {"intent": "stop", "value": None,
                                                "text": "stop", "confidence": 0.9}),
                E(t + 24.0, "interrupted", "scene", {"by": "stop"}),
                E(t + 24.1, "branch", "scene", {"to": "grounding_stop", "reason": "stop"}),
                E(t + 24.2, "step", "grounding_stop", {"kind": "say"}),
            ]
        t += 90.0
    events += [
        E(t, "step", "belief", {"kind": "askrating"}),
        E(t + 4.0, "rating", "belief", {"value": 6, "scale": "belief"}),
        E(t + 10.0, "step", "grounding_close", {"kind": "say"}),
        E(t + 30.0, "session_end", "grounding_close", {"reason": end}),
    ]
    return events


def record(folder: Path, events: Sequence[LogEvent], *, store_transcripts: bool = False,
           started_days_ago: float | None = None) -> int:
    """Record one session through the recorder's public API; returns its id."""
    recorder = SessionRecorder.open(data_dir=folder, store_transcripts=store_transcripts)
    start = events[0].fields
    session_id = recorder.begin(str(start["script"]), str(start["mode"]))
    for event in events:
        recorder.add(event)
    recorder.close()
    if started_days_ago is not None:
        when = datetime.now().astimezone() - timedelta(days=started_days_ago)
        with sqlite3.connect(folder / DB_NAME) as conn:
            conn.execute("UPDATE sessions SET started_at = ? WHERE id = ?",
                         (when.isoformat(timespec="seconds"), session_id))
    return session_id


def cli(folder: Path, *args: str, stdin: str = "",
        timeout: float = 120) -> subprocess.CompletedProcess[str]:
    """Run ``voice-imrs ARGS`` as a user does, with its data in ``folder``."""
    env = {**os.environ, "VOICE_IMRS_DATA_DIR": str(folder), "PYTHONPATH": str(ROOT),
           "VOICE_IMRS_CONFIG_DIR": str(folder.parent / "config")}
    env.pop("VOICE_IMRS_DEBUG", None)
    return subprocess.run([sys.executable, "-m", "voice_imrs", *args], cwd=ROOT, env=env,
                          input=stdin, capture_output=True, text=True, timeout=timeout)


def all_bytes(folder: Path) -> bytes:
    """Every byte of every file under ``folder`` (database, WAL, shared memory...)."""
    return b"".join(p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file())


@pytest.fixture
def folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    data = tmp_path / "data"
    monkeypatch.setenv("VOICE_IMRS_DATA_DIR", str(data))
    yield data


# ---------------------------------------------------------------- round trip


def test_round_trip_keeps_allowed_fields_in_order(folder: Path) -> None:
    events = session_events()
    session_id = record(folder, events)
    with RecordStore.open() as store:  # from VOICE_IMRS_DATA_DIR
        stored = store.events(session_id)
        summary = store.session(session_id)
    assert [(e.t, e.event, e.step) for e in stored] == [(round(e.t, 3), e.event, e.step)
                                                        for e in events]
    assert [e.fields for e in stored] == [stored_fields(e) for e in events]
    rating = next(e for e in stored if e.event == "rating")
    assert rating.fields == {"value": 7, "scale": "distress"}
    intent = next(e for e in stored if e.event == "intent")
    assert intent.fields == {"intent": "rating", "value": 7, "confidence": 0.82}
    branch = next(e for e in stored if e.event == "branch")
    assert branch.fields == {"to": "grounding_stop", "reason": "stop"}
    assert stored[-1].fields == {"reason": "completed"}

    assert summary.script == "safe_place" and summary.mode == "homework"
    assert summary.end_reason == "completed"          # taken from the session_end event
    assert summary.ratings == (7, 8, 3)               # the belief rating is not distress
    assert (summary.first, summary.peak, summary.last) == (7, 8, 3)
    assert summary.stops == 1
    assert summary.duration_s == pytest.approx(events[-1].t)
    assert summary.pid == os.getpid()
    assert summary.ended_at is not None and summary.ended_at >= summary.started_at
    assert summary.started_at.tzinfo is not None


def test_recognized_and_prompt_text_never_reach_the_file(folder: Path) -> None:
    record(folder, session_events())
    raw = all_bytes(folder)
    assert SECRET_SPEECH.encode() not in raw
    assert b"Grandma Hilde" not in raw
    with RecordStore.open(folder) as store:
        assert not store.session(1).transcripts


def test_transcripts_kept_only_when_the_profile_allows(folder: Path) -> None:
    session_id = record(folder, session_events(), store_transcripts=True)
    with RecordStore.open(folder) as store:
        stored = store.events(session_id)
        assert store.session(session_id).transcripts
    nomatch = next(e for e in stored if e.event == "nomatch")
    assert nomatch.fields == {"count": 1, "text": SECRET_SPEECH}
    assert next(e for e in stored if e.event == "intent").fields["text"] == "7"
    # The prompt text is the script's, filled with the profile's personal details: never kept.
    assert b"Grandma Hilde" not in all_bytes(folder)
    assert all("text" not in e.fields for e in stored if e.event == "say_start")


def test_session_start_event_begins_a_session_and_close_ends_an_open_one(folder: Path) -> None:
    recorder = SessionRecorder.open(folder)
    recorder(LogEvent(0.0, "session_start", None, {"script": "breathing", "mode": "homework"}))
    recorder(LogEvent(1.5, "step", "breathe", {"kind": "timed"}))
    session_id = recorder.session_id
    assert session_id is not None
    recorder.close()  # no session_end: something went wrong in the runner
    with RecordStore.open(folder) as store:
        summary = store.session(session_id)
    assert (summary.script, summary.end_reason) == ("breathing", "fault")


def test_an_event_before_any_session_is_a_clear_error(folder: Path) -> None:
    recorder = SessionRecorder.open(folder)
    try:
        with pytest.raises(RecordError, match="before the session began"):
            recorder.add(LogEvent(0.0, "step", "x"))
        recorder.begin("safe_place", "homework")
        with pytest.raises(UnknownChoiceError, match="completed"):
            recorder.end("exploded")
        recorder.end("stopped")
    finally:
        recorder.close()


def test_a_failed_write_does_not_break_the_session(folder: Path,
                                                   capfd: pytest.CaptureFixture[str]) -> None:
    recorder = SessionRecorder.open(folder)
    recorder.begin("safe_place", "homework")
    recorder.conn.close()  # the disk went away under us
    recorder.add(LogEvent(1.0, "step", "a"))
    recorder.add(LogEvent(2.0, "step", "b"))
    assert recorder.write_error
    assert capfd.readouterr().err.count("could not be written") == 1
    recorder.session_id = None
    recorder.close()


def test_unknown_session_names_the_id_and_the_known_ones(folder: Path) -> None:
    record(folder, session_events())
    with RecordStore.open(folder) as store, pytest.raises(RecordError) as error:
        store.session(42)
    assert "42" in str(error.value) and "1" in str(error.value)


# ---------------------------------------------------------------- schema


V1_SCHEMA = """
CREATE TABLE schema_version (version INTEGER NOT NULL, applied_at TEXT NOT NULL);
CREATE TABLE sessions (id INTEGER PRIMARY KEY, script TEXT NOT NULL, mode TEXT NOT NULL,
  started_at TEXT NOT NULL, ended_at TEXT, end_reason TEXT, pid INTEGER);
CREATE TABLE events (session_id INTEGER NOT NULL REFERENCES sessions(id) ON DELETE CASCADE,
  seq INTEGER NOT NULL, t REAL NOT NULL, event TEXT NOT NULL, step TEXT,
  fields TEXT NOT NULL DEFAULT '{}', PRIMARY KEY (session_id, seq));
INSERT INTO schema_version VALUES (1, '2024-05-01T10:00:00+00:00');
INSERT INTO sessions VALUES (1, 'grounding', 'homework', '2024-05-01T10:00:00+02:00',
  '2024-05-01T10:05:00+02:00', 'completed', 4242);
INSERT INTO events VALUES (1, 1, 0.0, 'session_start', NULL, '{"script":"grounding"}');
INSERT INTO events VALUES (1, 2, 12.5, 'rating', 'r1', '{"value":6,"scale":"distress"}');
INSERT INTO events VALUES (1, 3, 250.0, 'rating', 'r2', '{"value":2,"scale":"distress"}');
INSERT INTO events VALUES (1, 4, 300.0, 'session_end', 'grounding_close',
  '{"reason":"completed"}');
"""


def test_a_version_1_database_is_migrated_and_keeps_its_sessions(folder: Path) -> None:
    folder.mkdir()
    with sqlite3.connect(folder / DB_NAME) as conn:
        conn.executescript(V1_SCHEMA)
    recorder = SessionRecorder.open(folder)
    assert schema_version(recorder.conn) == CURRENT_VERSION == 3
    old = recorder.session(1)
    assert (old.script, old.ratings, old.end_reason, old.transcripts) == (
        "grounding", (6, 2), "completed", False)
    assert old.duration_s == 300.0
    new_id = recorder.begin("safe_place", "homework")
    recorder.add(LogEvent(0.0, "rating", "r", {"value": 4}))
    recorder.end("completed")
    recorder.close()
    with RecordStore.open(folder) as store:
        assert [s.id for s in store.sessions()] == [1, new_id]
        versions = [r[0] for r in store.conn.execute(
            "SELECT version FROM schema_version ORDER BY version")]
        assert versions == [1, 2, 3]
        columns = {r[1] for r in store.conn.execute("PRAGMA table_info(sessions)")}
        assert {"boot_id", "proc_start", "transcripts", "client", "notes"} <= columns
    assert stat.S_IMODE((folder / DB_NAME).stat().st_mode) == 0o600


def test_a_database_from_a_newer_version_is_refused_clearly(folder: Path) -> None:
    folder.mkdir()
    with sqlite3.connect(folder / DB_NAME) as conn:
        conn.executescript(V1_SCHEMA + "INSERT INTO schema_version VALUES (99, 'x');")
    with pytest.raises(RecordError, match="newer voice-imrs"):
        RecordStore.open(folder)


def test_a_file_that_is_not_a_database_is_set_aside_not_deleted(
        folder: Path, capsys: pytest.CaptureFixture[str]) -> None:
    folder.mkdir()
    (folder / DB_NAME).write_bytes(b"this is not sqlite" * 100)
    with RecordStore.open(folder) as store:
        assert store.sessions() == []  # a fresh store: the next session is recorded
    aside = [p for p in folder.iterdir() if ".damaged-" in p.name]
    assert len(aside) == 1 and aside[0].read_bytes() == b"this is not sqlite" * 100
    said = capsys.readouterr().err
    assert "was set aside" in said and "voice-imrs recover" in said
    assert "forget" not in said


def test_wal_mode_and_synchronous_normal(folder: Path) -> None:
    with RecordStore.open(folder) as store:
        assert store.conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert store.conn.execute("PRAGMA synchronous").fetchone()[0] == 1  # NORMAL


def test_files_and_folder_are_readable_by_the_user_only(folder: Path) -> None:
    folder.mkdir(mode=0o755)  # an existing folder with loose permissions is tightened
    os.chmod(folder, 0o755)
    recorder = SessionRecorder.open(folder)
    recorder.begin("safe_place", "homework")
    recorder.add(LogEvent(0.0, "step", "a"))
    names = {p.name for p in folder.iterdir()}
    assert {DB_NAME, f"{DB_NAME}-wal", f"{DB_NAME}-shm"} <= names  # checked while open
    for path in folder.iterdir():
        assert stat.S_IMODE(path.stat().st_mode) == 0o600, path
    assert stat.S_IMODE(folder.stat().st_mode) == 0o700
    recorder.close()
    for path in folder.iterdir():
        assert stat.S_IMODE(path.stat().st_mode) == 0o600, path


def test_data_folder_comes_from_the_environment(folder: Path) -> None:
    from voice_imrs.records import data_dir

    assert data_dir() == folder


# ---------------------------------------------------------------- cost


def test_adding_an_event_is_cheap(folder: Path) -> None:
    recorder = SessionRecorder.open(folder)
    recorder.begin("safe_place", "homework")
    costs = []
    for i in range(3000):  # past SQLite's default checkpoint mark (1000 WAL pages)
        event = LogEvent(i * 0.1, "rating", f"s{i}", {"value": i % 11, "scale": "distress"})
        start = time.perf_counter()
        recorder.add(event)
        costs.append(time.perf_counter() - start)
    wal = folder / f"{DB_NAME}-wal"
    assert wal.stat().st_size > 3000 * 4096  # no checkpoint stalled a commit mid-session
    recorder.end("completed")
    assert wal.stat().st_size == 0           # checkpointed once the session ended
    recorder.close()
    costs.sort()
    median, p99 = costs[len(costs) // 2], costs[int(len(costs) * 0.99)]
    print(f"per-event add: median {median * 1e6:.0f} us, p99 {p99 * 1e6:.0f} us, "
          f"max {costs[-1] * 1e6:.0f} us")
    # An audio block is 20 ms: one event must cost a small fraction of it.
    assert median < 0.002
    assert p99 < 0.020
