"""The record store's schema, as an ordered list of migrations, and the code that applies them.

A database remembers which migrations ran in ``schema_version``. Opening an older database
applies the missing ones in order, each in its own transaction, so an interrupted upgrade
leaves the database at the last complete version. A shipped migration is never edited:
a change to the schema is a new entry at the end of ``MIGRATIONS``.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from datetime import datetime, timezone

from voice_imrs.errors import RecordError


@dataclass(frozen=True)
class Migration:
    """One schema step: ``version`` it brings the database to, and the SQL that does it."""

    version: int
    description: str
    statements: tuple[str, ...]


MIGRATIONS: tuple[Migration, ...] = (
    Migration(1, "sessions and their events", (
        "CREATE TABLE IF NOT EXISTS schema_version ("
        " version INTEGER NOT NULL, applied_at TEXT NOT NULL)",
        "CREATE TABLE sessions ("
        " id INTEGER PRIMARY KEY,"
        " script TEXT NOT NULL,"
        " mode TEXT NOT NULL,"
        " started_at TEXT NOT NULL,"      # wall clock, ISO 8601 with the UTC offset
        " ended_at TEXT,"
        # completed|stopped|incomplete|signal|fault|killed, NULL while running
        " end_reason TEXT,"
        " pid INTEGER)",
        "CREATE TABLE events ("
        " session_id INTEGER NOT NULL REFERENCES sessions(id) ON DELETE CASCADE,"
        " seq INTEGER NOT NULL,"
        " t REAL NOT NULL,"               # monotonic seconds since the session started
        " event TEXT NOT NULL,"
        " step TEXT,"
        " fields TEXT NOT NULL DEFAULT '{}',"
        " PRIMARY KEY (session_id, seq))",
    )),
    # A pid alone can be reused by another process (after a reboot, or after wrapping), which
    # would hide a killed session; the boot id and the process start time tell them apart.
    # ``transcripts`` says whether recognized text was kept for that session.
    Migration(2, "process identity for crash recovery; transcripts flag", (
        "ALTER TABLE sessions ADD COLUMN boot_id TEXT",
        "ALTER TABLE sessions ADD COLUMN proc_start INTEGER",
        "ALTER TABLE sessions ADD COLUMN transcripts INTEGER NOT NULL DEFAULT 0",
    )),
    # The therapist's console (issue 17): a pseudonymous client code chosen by the therapist
    # (NULL: the single local user, as before) and the session's note (NULL: notes off).
    Migration(3, "client code and note per session", (
        "ALTER TABLE sessions ADD COLUMN client TEXT",
        "ALTER TABLE sessions ADD COLUMN notes TEXT",
        "CREATE INDEX sessions_by_client ON sessions (client, id)",
    )),
)

CURRENT_VERSION = MIGRATIONS[-1].version


def schema_version(conn: sqlite3.Connection) -> int:
    """The version a database is at; 0 for an empty database."""
    has_table = conn.execute(
        "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'schema_version'"
    ).fetchone()
    if not has_table:
        return 0
    row = conn.execute("SELECT MAX(version) FROM schema_version").fetchone()
    return int(row[0] or 0)


def migrate(conn: sqlite3.Connection, *, target: int = CURRENT_VERSION,
            where: str = "the records database") -> int:
    """Bring ``conn`` (autocommit mode) up to ``target``; returns the version reached."""
    current = schema_version(conn)
    if current > CURRENT_VERSION:
        raise RecordError(
            f"{where} was written by a newer voice-imrs (schema version {current}, "
            f"this one knows up to {CURRENT_VERSION}).",
            hint="Update voice-imrs, or move that file away to start a fresh record.")
    for migration in MIGRATIONS:
        if current < migration.version <= target:
            _apply(conn, migration)
            current = migration.version
    return current


def _apply(conn: sqlite3.Connection, migration: Migration) -> None:
    # BEGIN IMMEDIATE: two processes opening an old database at once upgrade it one by one;
    # the second sees the new version and skips.
    conn.execute("BEGIN IMMEDIATE")
    try:
        if schema_version(conn) >= migration.version:
            conn.execute("ROLLBACK")
            return
        for statement in migration.statements:
            conn.execute(statement)
        conn.execute("INSERT INTO schema_version (version, applied_at) VALUES (?, ?)",
                     (migration.version, datetime.now(timezone.utc).isoformat(timespec="seconds")))
        conn.execute("COMMIT")
    except BaseException:
        conn.execute("ROLLBACK")
        raise
