"""Crash safety: a session process killed with SIGKILL keeps every event it had added, and the
next start finds the session, marks it killed and knows to offer grounding first."""

from __future__ import annotations

import os
import select
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest
from test_records_store import ROOT, cli

from voice_imrs.core.events import LogEvent
from voice_imrs.records.store import (
    DB_NAME,
    RecordStore,
    SessionRecorder,
)

# The child records a session the way the runner does: it speaks (say_start), is asked for a
# rating, and prints each seq only after add() returned, so every printed seq was committed.
CHILD = """
import sys, time
from voice_imrs.core.events import LogEvent
from voice_imrs.records.store import SessionRecorder
recorder = SessionRecorder.open(sys.argv[1])
recorder.begin("safe_place", "homework")
print("begun", recorder.session_id, flush=True)
kinds = ("step", "say_start", "rating", "say_end")
for seq in range(1, 1_000_000):
    kind = kinds[seq % 4]
    fields = {"value": seq % 11, "scale": "distress"} if kind == "rating" else {}
    recorder.add(LogEvent(seq * 0.25, kind, f"step{seq // 4}", fields))
    print(seq, flush=True)
    time.sleep(0.001)
"""

HOLD = """
import sys
from voice_imrs.records.store import SessionRecorder
recorder = SessionRecorder.open(sys.argv[1])
recorder.begin("grounding", "homework")
print("begun", recorder.session_id, flush=True)
sys.stdin.readline()
recorder.close()
"""


def _start(code: str, folder: Path) -> subprocess.Popen[bytes]:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.Popen([sys.executable, "-c", code, str(folder)], stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, env=env)


def _read_until(proc: subprocess.Popen[bytes], enough: int, timeout: float) -> list[str]:
    """Lines the child printed, until ``enough`` lines or the deadline (bounded wait)."""
    assert proc.stdout is not None
    fd = proc.stdout.fileno()
    buffer = b""
    deadline = time.monotonic() + timeout
    while (count := buffer.count(b"\n")) < enough:
        remaining = deadline - time.monotonic()
        assert remaining > 0, f"child printed only {count} lines"
        ready, _, _ = select.select([fd], [], [], remaining)
        if ready:
            chunk = os.read(fd, 65536)
            assert chunk, "child exited early"
            buffer += chunk
    return buffer.decode().splitlines()


def _drain(proc: subprocess.Popen[bytes]) -> list[str]:
    assert proc.stdout is not None
    return proc.stdout.read().decode().splitlines()


def test_sigkill_mid_session_loses_no_added_event(tmp_path: Path) -> None:
    folder = tmp_path / "data"
    proc = _start(CHILD, folder)
    try:
        lines = _read_until(proc, 300, timeout=60)
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=10)
    assert proc.returncode == -signal.SIGKILL
    lines += _drain(proc)
    session_id = int(lines[0].split()[1])
    printed = [int(line) for line in lines[1:] if line.strip().isdigit()]
    assert len(printed) >= 299

    with sqlite3.connect(folder / DB_NAME) as conn:
        stored = [r[0] for r in conn.execute(
            "SELECT seq FROM events WHERE session_id = ? ORDER BY seq", (session_id,))]
    assert set(printed) <= set(stored)                     # nothing added was lost
    assert stored == list(range(1, len(stored) + 1))       # and nothing torn in between
    assert len(stored) <= printed[-1] + 1                  # at most the one being printed

    # The next start: the session has no end and its process is gone.
    with RecordStore.open(folder) as store:
        unfinished = store.unfinished_sessions()
        assert [s.id for s in unfinished] == [session_id]
        assert unfinished[0].end_reason is None
        assert unfinished[0].duration_s == pytest.approx(len(stored) * 0.25)
    with RecordStore.open(folder) as store:
        recovered = store.recover_killed()
        assert [(s.id, s.end_reason) for s in recovered] == [(session_id, "killed")]
        assert recovered[0].ended_at is not None
        assert store.recover_killed() == []                # marked once, offered once
    history = cli(folder, "history")
    assert history.returncode == 0 and "cut off" in history.stdout


def test_a_session_still_running_elsewhere_is_not_taken_for_killed(tmp_path: Path) -> None:
    folder = tmp_path / "data"
    proc = _start(HOLD, folder)
    try:
        lines = _read_until(proc, 1, timeout=60)
        assert lines[0].startswith("begun")
        with RecordStore.open(folder) as store:
            assert store.unfinished_sessions() == []
    finally:
        assert proc.stdin is not None
        proc.stdin.close()  # lets the child exit through close(): an open session is a fault
        proc.wait(timeout=10)
    with RecordStore.open(folder) as store:
        assert store.session(1).end_reason == "fault"
        assert store.unfinished_sessions() == []


def test_own_open_session_is_alive_but_a_reused_pid_is_not(tmp_path: Path) -> None:
    folder = tmp_path / "data"
    recorder = SessionRecorder.open(folder)
    try:
        live = recorder.begin("safe_place", "homework")
        recorder.add(LogEvent(0.0, "step", "a"))
        assert recorder.unfinished_sessions() == []
        # The same pid with another start time: an earlier process whose number was reused.
        reused = recorder.conn.execute(
            "INSERT INTO sessions (script, mode, started_at, pid, boot_id, proc_start)"
            " SELECT script, mode, started_at, pid, boot_id, proc_start - 1 FROM sessions"
            " WHERE id = ?", (live,)).lastrowid
        # A session from an earlier boot.
        rebooted = recorder.conn.execute(
            "INSERT INTO sessions (script, mode, started_at, pid, boot_id, proc_start)"
            " SELECT script, mode, started_at, pid, 'another-boot', proc_start FROM sessions"
            " WHERE id = ?", (live,)).lastrowid
        assert [s.id for s in recorder.unfinished_sessions()] == [reused, rebooted]
    finally:
        recorder.close()
