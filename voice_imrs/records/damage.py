"""A damaged record database: told apart from a busy one, set aside, and read back.

SQLite reports three kinds of trouble, and each needs a different answer:

- **busy**: another program holds the lock past the 5 s timeout, or the folder is
  read-only, or the disk is full. Nothing is wrong with the file; a session goes on
  without a record and says so once (``RecordUnavailable``).
- **damaged**: a page that is not what SQLite wrote ("file is not a database", "database
  disk image is malformed"). The file is renamed with the date and time
  (``records.sqlite3.damaged-20261202T150102``), never deleted, and a fresh store starts,
  so the next session is recorded again.
- a **bad row** in a sound file (a tampered date, a field that is not JSON): that row is
  skipped and reported by the reader (``store``), never fatal to the others.

``recover_into`` copies every session and event that can still be read from a set-aside
file into the current store: what ``voice-imrs recover FILE`` does.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from voice_imrs.errors import RecordError

#: Words in SQLite's messages for a file that is fine but cannot be used just now.
_BUSY_WORDS = ("locked", "busy", "readonly", "read-only", "full", "disk i/o",
               "unable to open", "permission")
_SUFFIXES = ("", "-wal", "-shm")


class RecordUnavailable(RecordError):
    """The record store cannot be opened or written right now; a session goes on."""


def is_busy(error: sqlite3.Error) -> bool:
    """True for a lock, a read-only file or a full disk; False for a damaged file."""
    text = str(error).lower()
    return isinstance(error, sqlite3.OperationalError) and any(w in text for w in _BUSY_WORDS)


def unavailable(path: Path, error: sqlite3.Error | OSError) -> RecordUnavailable:
    """One sentence for a store that cannot be used now, and what to do about it."""
    text = str(getattr(error, "strerror", None) or error)
    if "locked" in text.lower() or "busy" in text.lower():
        return RecordUnavailable(
            f"The records database {path} is locked by another program for more than 5 s.",
            hint="Close the other voice-imrs (or database browser) that has it open.")
    return RecordUnavailable(f"The records database {path} cannot be written ({text}).",
                             hint="Check that the disk has room and the folder is writable.")


def set_aside(path: Path, now: datetime | None = None) -> Path:
    """Rename a damaged database (and its -wal/-shm files) with the date; returns the name.

    Never deletes: whatever can still be read is there for ``recover_into``.
    """
    stamp = (now or datetime.now()).strftime("%Y%m%dT%H%M%S")
    target = path.with_name(f"{path.name}.damaged-{stamp}")
    number = 1
    while target.exists():
        number += 1
        target = path.with_name(f"{path.name}.damaged-{stamp}-{number}")
    for suffix in _SUFFIXES:
        each = Path(f"{path}{suffix}")
        if each.exists():
            each.rename(f"{target}{suffix}")
    return target


def damaged_message(path: Path, aside: Path, error: sqlite3.Error) -> str:
    return (f"voice-imrs: the records database {path} was damaged ({error}). It was set "
            f"aside as {aside.name}, never deleted, and a new one was started. "
            f"`voice-imrs recover {aside}` copies back every session that can still be read.")


@dataclass
class Recovery:
    """What ``recover_into`` copied, and what it had to leave."""

    sessions: int = 0
    events: int = 0
    skipped: list[str] = field(default_factory=list)


_SESSION_KEYS = ("script", "mode", "started_at", "ended_at", "end_reason", "pid")


def _read_rows(conn: sqlite3.Connection, sql: str,
               args: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    rows: list[tuple[Any, ...]] = []
    try:
        cursor = conn.execute(sql, args)
    except sqlite3.DatabaseError:
        return rows
    while True:  # row by row: rows before a damaged page are still kept
        try:
            row = cursor.fetchone()
        except sqlite3.DatabaseError:
            break
        if row is None:
            break
        rows.append(row)
    return rows


_EVENT_SQL = "SELECT seq, t, event, step, fields FROM events WHERE session_id = ?"
#: Bounds the one-by-one reading after a damaged page (a session has a few thousand).
_MAX_SEQ = 1_000_000


def _session_events(conn: sqlite3.Connection, session_id: int,
                    result: Recovery) -> list[tuple[Any, ...]]:
    """The readable events of one session: all in one pass when the pages are sound,
    else one by one through the key index, so only the rows on a damaged page are lost.
    """
    rows = _read_rows(conn, _EVENT_SQL + " ORDER BY seq", (session_id,))
    try:
        last = conn.execute("SELECT MAX(seq) FROM events WHERE session_id = ?",
                            (session_id,)).fetchone()[0]
    except sqlite3.DatabaseError:
        return rows
    if not isinstance(last, int) or (rows and rows[-1][0] >= last):
        return rows
    for seq in range(int(rows[-1][0]) + 1 if rows else 1, min(last, _MAX_SEQ) + 1):
        try:
            row = conn.execute(_EVENT_SQL + " AND seq = ?", (session_id, seq)).fetchone()
        except sqlite3.DatabaseError:
            result.skipped.append(f"session {session_id}, event {seq}: on a damaged page")
            continue
        if row is not None:
            rows.append(row)
    return rows


def recover_into(damaged: Path, insert_session: Callable[[dict[str, Any]], int],
                 insert_event: Callable[[int, int, float, str, str | None, str], None]
                 ) -> Recovery:
    """Copy what can be read from ``damaged`` through the two insert callables.

    Sessions are read one id at a time and events one session at a time, so a damaged
    page costs only the rows on it.
    """
    result = Recovery()
    try:
        conn = sqlite3.connect(f"file:{damaged}?mode=ro", uri=True)
    except sqlite3.Error as error:
        raise RecordError(f"{damaged} cannot be opened at all ({error}).",
                          hint="Nothing could be recovered from it.") from None
    try:
        try:
            top = conn.execute("SELECT MAX(id) FROM sessions").fetchone()[0] or 0
        except sqlite3.DatabaseError as error:
            raise RecordError(f"{damaged}: its list of sessions cannot be read ({error}).",
                              hint="Nothing could be recovered from it.") from None
        for session_id in range(1, int(top) + 1):
            try:
                row = conn.execute(f"SELECT {', '.join(_SESSION_KEYS)} FROM sessions "
                                   "WHERE id = ?", (session_id,)).fetchone()
            except sqlite3.DatabaseError as error:
                result.skipped.append(f"session {session_id}: {error}")
                continue
            if row is None:
                continue
            values = dict(zip(_SESSION_KEYS, row, strict=True))
            if not isinstance(values["started_at"], str):
                result.skipped.append(f"session {session_id}: no start time")
                continue
            events = _session_events(conn, session_id, result)
            new_id = insert_session(values)
            result.sessions += 1
            for seq, t, event, step, fields in events:
                try:
                    json.loads(fields)
                    insert_event(new_id, int(seq), float(t), str(event), step, fields)
                except (TypeError, ValueError):
                    result.skipped.append(f"session {session_id}, event {seq}: unreadable")
                    continue
                result.events += 1
    finally:
        conn.close()
    return result
