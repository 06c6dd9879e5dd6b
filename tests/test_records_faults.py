"""Records never block safety: damaged, locked, read-only and full stores, and bad rows.

Real SQLite files, real mounts (a tiny tmpfs, a read-only bind mount: the tests run as
root, as scripts/test.sh does) and real ``voice-imrs simulate --record`` sessions.
"""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from test_records_store import ROOT, cli, record, session_events

from voice_imrs.core.events import LogEvent
from voice_imrs.records.store import DB_NAME, RecordStore, SessionRecorder

SCENARIO = '[[reply]]\ntext = "stop"\n'


def simulate_recorded(data: Path, tmp: Path) -> subprocess.CompletedProcess[str]:
    """A short real session (safe place, stopped at once) with ``--record``."""
    scenario = tmp / "client.toml"
    scenario.write_text(SCENARIO)
    env = {**os.environ, "PYTHONPATH": str(ROOT), "VOICE_IMRS_DATA_DIR": str(data),
           "VOICE_IMRS_CONFIG_DIR": str(tmp / "config")}
    env.pop("VOICE_IMRS_DEBUG", None)
    return subprocess.run([sys.executable, "-m", "voice_imrs", "simulate", "grounding_54321",
                           "--client", str(scenario), "--record", "--log", str(tmp / "ev.jsonl")],
                          env=env, capture_output=True, text=True, timeout=300)


def grounded_end(log: Path) -> dict:
    events = [json.loads(line) for line in log.read_text().splitlines()]
    end = events[-1]
    assert end["event"] == "session_end", events[-3:]
    assert any(e["event"] == "step" and str(e["step"]).startswith("grounding")
               for e in events)
    return end


def assert_went_on_unrecorded(done: subprocess.CompletedProcess[str], tmp: Path) -> None:
    assert done.returncode == 0, done.stderr
    assert "Traceback" not in done.stderr and "internal error" not in done.stderr
    assert done.stderr.count("this session is not recorded") == 1, done.stderr
    assert "forget" not in done.stderr
    grounded_end(tmp / "ev.jsonl")


def require_root() -> None:
    assert os.geteuid() == 0, "these tests mount file systems: run them as root"


@pytest.fixture
def tiny_disk(tmp_path: Path) -> Iterator[Path]:
    """A 512 KB tmpfs (the data folder of a machine whose disk is full)."""
    require_root()
    where = tmp_path / "disk"
    where.mkdir()
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=512k", "tmpfs", str(where)],
                   check=True)
    try:
        yield where
    finally:
        subprocess.run(["umount", "-l", str(where)], check=True)


def fill(disk: Path) -> Path:
    filler = disk / "filler"
    fd = os.open(filler, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
    try:
        for size in (65536, 4096, 512, 1):  # to the last byte
            try:
                while True:
                    os.write(fd, b"\0" * size)
            except OSError:
                continue
    finally:
        os.close(fd)
    return filler


# ---------------------------------------------------------------- damaged


def corrupt_a_page(path: Path, page_from_end: int = 3) -> None:
    size = path.stat().st_size
    page = 4096
    with open(path, "r+b") as stream:
        stream.seek(size - page * page_from_end)
        stream.write(b"\xa5" * page)


def many_sessions(folder: Path, count: int = 12) -> None:
    for number in range(count):
        record(folder, session_events((7, 5, 2 + number % 5)))


def test_a_damaged_store_is_set_aside_and_what_is_readable_comes_back(tmp_path: Path) -> None:
    data = tmp_path / "data"
    many_sessions(data)
    with RecordStore.open(data) as store:
        total_events = store.conn.execute("SELECT COUNT(*) FROM events").fetchone()[0]
    original = (data / DB_NAME).read_bytes()
    corrupt_a_page(data / DB_NAME)
    damaged_bytes = (data / DB_NAME).read_bytes()
    assert damaged_bytes != original

    # The next session still runs, grounds and is recorded, in a fresh store.
    done = simulate_recorded(data, tmp_path)
    assert done.returncode == 0, done.stderr
    assert "Traceback" not in done.stderr and "forget" not in done.stderr
    assert "was set aside" in done.stderr and "voice-imrs recover" in done.stderr
    grounded_end(tmp_path / "ev.jsonl")
    aside = [p for p in data.iterdir() if ".damaged-" in p.name]
    assert len(aside) == 1 and aside[0].read_bytes() == damaged_bytes  # never deleted
    history = cli(data, "history")
    assert history.returncode == 0 and "1 session recorded" in history.stdout

    recovered = cli(data, "recover", str(aside[0]))
    assert recovered.returncode == 0, recovered.stderr
    assert "Recovered 12 sessions" in recovered.stdout, recovered.stdout
    assert aside[0].exists()
    with RecordStore.open(data) as store:
        sessions = store.sessions()
        assert len(sessions) == 13
        back = sum(len(store.events(s.id)) for s in sessions[1:])  # [0]: the new session
    # Every event not on the damaged page is back (one page holds a few dozen rows).
    print(f"{back} of {total_events} events recovered")
    assert total_events - 100 < back <= total_events


def test_recover_refuses_the_current_store_and_a_missing_file(tmp_path: Path) -> None:
    data = tmp_path / "data"
    record(data, session_events((4,)))
    same = cli(data, "recover", str(data / DB_NAME))
    assert same.returncode == 8 and "is the current record" in same.stderr
    missing = cli(data, "recover", str(data / "nothing.sqlite3"))
    assert missing.returncode == 8 and "does not exist" in missing.stderr
    for result in (same, missing):
        assert "Traceback" not in result.stderr


# ---------------------------------------------------------------- busy


def test_a_store_locked_for_more_than_5_s_does_not_stop_the_session(tmp_path: Path) -> None:
    data = tmp_path / "data"
    record(data, session_events((4,)))
    holder = sqlite3.connect(data / DB_NAME, isolation_level=None, check_same_thread=False)
    holder.execute("PRAGMA locking_mode=EXCLUSIVE")
    holder.execute("BEGIN EXCLUSIVE")
    holder.execute("INSERT INTO sessions (script, mode, started_at) VALUES "
                   "('other', 'homework', '2026-01-01T00:00:00+00:00')")
    try:
        done = simulate_recorded(data, tmp_path)
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    assert_went_on_unrecorded(done, tmp_path)
    assert "locked by another program for more than 5 s" in done.stderr
    assert not [p for p in data.iterdir() if ".damaged-" in p.name]  # busy is not damage
    history = cli(data, "history")
    assert "1 session recorded" in history.stdout


def test_a_locked_store_for_history_is_one_clear_line(tmp_path: Path) -> None:
    data = tmp_path / "data"
    record(data, session_events((4,)))
    holder = sqlite3.connect(data / DB_NAME, isolation_level=None)
    holder.execute("PRAGMA locking_mode=EXCLUSIVE")
    holder.execute("BEGIN EXCLUSIVE")
    holder.execute("DELETE FROM events WHERE seq = 1")
    try:
        result = cli(data, "history")
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    assert result.returncode == 8, result
    assert "locked by another program" in result.stderr
    assert "Traceback" not in result.stderr and "forget" not in result.stderr


def test_a_read_only_store_does_not_stop_the_session(tmp_path: Path) -> None:
    require_root()
    data = tmp_path / "data"
    record(data, session_events((4,)))
    subprocess.run(["mount", "--bind", str(data), str(data)], check=True)
    try:
        subprocess.run(["mount", "-o", "remount,ro,bind", str(data)], check=True)
        done = simulate_recorded(data, tmp_path)
        history = cli(data, "history")
    finally:
        subprocess.run(["umount", "-l", str(data)], check=True)
    assert_went_on_unrecorded(done, tmp_path)
    assert history.returncode == 8 and "Traceback" not in history.stderr


def test_a_full_disk_does_not_stop_the_session(tiny_disk: Path, tmp_path: Path) -> None:
    data = tiny_disk / "data"
    fill(tiny_disk)
    done = simulate_recorded(data, tmp_path)
    assert_went_on_unrecorded(done, tmp_path)


def test_a_disk_that_fills_mid_session_never_leaves_a_complete_looking_record(
        tiny_disk: Path) -> None:
    data = tiny_disk / "data"
    events = session_events((7, 3))
    recorder = SessionRecorder.open(data_dir=data)
    session_id = recorder.begin("safe_place", "homework")
    for event in events[:5]:
        recorder.add(event)
    filler = fill(tiny_disk)
    for event in events[5:-1]:
        recorder.add(event)  # fails on the full disk: told once, never raised
    assert recorder.write_error is not None
    filler.unlink()  # room again by the end: the end itself is written...
    recorder.add(events[-1])
    recorder.close()
    with RecordStore.open(data) as store:
        summary = store.session(session_id)
        assert summary.end_reason == "partial"  # ... but never as "completed"
    history = cli(data, "history")
    assert "ended, record incomplete" in history.stdout


def test_a_disk_full_to_the_end_leaves_no_end_and_history_says_ended_suddenly(
        tiny_disk: Path) -> None:
    data = tiny_disk / "data"
    recorder = SessionRecorder.open(data_dir=data)
    session_id = recorder.begin("safe_place", "homework")
    fill(tiny_disk)
    for event in session_events((7, 3)):
        recorder.add(event)
    recorder.close()
    (tiny_disk / "filler").unlink()
    with RecordStore.open(data) as store:
        assert store.session(session_id).end_reason != "completed"
    # As if this process had been the session's, and had gone.
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    with sqlite3.connect(data / DB_NAME) as conn:
        conn.execute("UPDATE sessions SET pid = ?, proc_start = NULL", (dead.pid,))
    history = cli(data, "history")
    assert "ended suddenly" in history.stdout and "still running" not in history.stdout


# ---------------------------------------------------------------- bad rows


def test_one_tampered_row_is_skipped_and_reported_never_fatal(tmp_path: Path) -> None:
    data = tmp_path / "data"
    for ratings in ((7, 3), (6, 2), (5, 1)):
        record(data, session_events(ratings))
    with sqlite3.connect(data / DB_NAME) as conn:
        conn.execute("UPDATE sessions SET started_at = 'the day after' WHERE id = 2")
        conn.execute("UPDATE events SET fields = '{not json' WHERE session_id = 3 AND seq = 2")
        conn.execute("UPDATE sessions SET pid = 'abc' WHERE id = 1")
    out = tmp_path / "out"
    out.mkdir()
    for args in (("history",), ("history", "--json"), ("report", "--out", str(out / "r.html")),
                 ("summary",), ("summary", "--session", "1"), ("export",),
                 ("export", "--format", "json")):
        result = cli(data, *args)
        assert result.returncode == 0, (args, result.stderr)
        assert "Traceback" not in result.stderr and "internal error" not in result.stderr
        if args[0] in ("history", "report"):
            assert "session 2: its date 'the day after' cannot be read" in result.stderr
    listed = cli(data, "history").stdout
    assert "1  " in listed and "3  " in listed
    exported = cli(data, "export", "--format", "json")
    sessions = json.loads(exported.stdout)["sessions"]
    assert [s["id"] for s in sessions] == [1, 3]
    assert "session 3: event 2 cannot be read" in exported.stderr


def test_still_running_only_while_the_process_is_alive(tmp_path: Path) -> None:
    data = tmp_path / "data"
    recorder = SessionRecorder.open(data_dir=data)
    recorder.begin("safe_place", "homework")
    recorder.add(LogEvent(0.0, "session_start", None, {"script": "safe_place"}))
    # This process is alive: its session is running.
    with RecordStore.open(data) as store:
        assert store.sessions()[0].ending == "running"
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    with sqlite3.connect(data / DB_NAME) as conn:
        conn.execute("UPDATE sessions SET pid = ?, proc_start = NULL", (dead.pid,))
    listed = cli(data, "history").stdout
    assert "ended suddenly" in listed and "still running" not in listed
    recorder.session_id = None  # not ours to end any more
    recorder.close()


def test_a_live_run_on_a_read_only_store_runs_grounds_and_says_so_once(
        tmp_path: Path, pulse: str) -> None:
    from test_live_run import TINY, Run

    require_root()
    (tmp_path / "profile.toml").write_text("screen_done = true\nspoken_summary = true\n")
    (tmp_path / "tiny.toml").write_text(TINY)
    data = tmp_path / "data"
    record(data, session_events((4,)))
    subprocess.run(["mount", "--bind", str(data), str(data)], check=True)
    try:
        subprocess.run(["mount", "-o", "remount,ro,bind", str(data)], check=True)
        run = Run(tmp_path, str(tmp_path / "tiny.toml"))
        try:
            run.wait_for("how strong is the feeling")
            run.type("3")
            run.wait_for("feet on the floor")
            code = run.finish(timeout=60)
        finally:
            run.kill()
    finally:
        subprocess.run(["umount", "-l", str(data)], check=True)
    stderr = run.child.stderr.read() if run.child.stderr else ""
    assert code == 0, stderr
    assert stderr.count("this session is not recorded") == 1, stderr
    assert "Traceback" not in stderr and "forget" not in stderr
    ends = [e for e in run.events() if e["event"] == "session_end"]
    assert [e["reason"] for e in ends] == ["completed"]


def test_an_event_log_on_a_full_disk_does_not_cut_the_grounding_short(
        tiny_disk: Path, tmp_path: Path) -> None:
    scenario = tmp_path / "client.toml"
    scenario.write_text('[[reply]]\ntext = "stop"\n')
    log = tiny_disk / "events.jsonl"
    log.write_text("")
    fill(tiny_disk)
    env = {**os.environ, "PYTHONPATH": str(ROOT), "VOICE_IMRS_DATA_DIR": str(tmp_path / "d"),
           "VOICE_IMRS_CONFIG_DIR": str(tmp_path / "config")}
    done = subprocess.run([sys.executable, "-m", "voice_imrs", "simulate", "grounding_54321",
                           "--client", str(scenario), "--record", "--log", str(log)],
                          env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    assert done.stderr.count("could not be written") == 1, done.stderr
    with RecordStore.open(tmp_path / "d") as store:
        summary = store.sessions()[-1]
        events = store.events(summary.id)
    assert summary.end_reason in ("completed", "stopped")
    assert not [e for e in events if e.event == "fault"]
    assert any(e.event == "step" and str(e.step).startswith("grounding") for e in events)
