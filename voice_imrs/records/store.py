"""The private session record: a SQLite file in the user's data folder.

Writing (``SessionRecorder``) is one small INSERT per event in autocommit mode, so every event
is committed the moment ``add`` returns. The database runs in write-ahead-log mode with
``synchronous=NORMAL``: a commit is a ``write()`` into the WAL file, which the kernel keeps even
if the process is killed with SIGKILL, and it never waits for the disk. ``FULL`` would add one
fsync per event (milliseconds on a laptop disk, far more on SD cards), which the session's
audio loop must not wait for; what NORMAL gives up is only the last events before a power cut
or a kernel crash, and the database stays consistent even then.

Only the fields listed in ``ALLOWED_FIELDS`` are stored: intent kinds and values, ratings,
step ids, reasons. Recognized text is dropped unless the profile turned transcripts on, and
the spoken prompt text (which holds the profile's personal placeholders) is never stored.
Audio never passes through here. The folder is 0700 and the files 0600.
"""

from __future__ import annotations

import contextlib
import json
import os
import sqlite3
import sys
import threading
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from voice_imrs.core.events import END_REASONS, LogEvent
from voice_imrs.errors import RecordError, UnknownChoiceError
from voice_imrs.private_files import private_dir
from voice_imrs.records.damage import (
    RecordUnavailable,
    Recovery,
    damaged_message,
    is_busy,
    recover_into,
    set_aside,
    unavailable,
)
from voice_imrs.records.migrations import migrate

APP_NAME = "voice-imrs"
DATA_DIR_ENV = "VOICE_IMRS_DATA_DIR"
DB_NAME = "records.sqlite3"
#: The engine's end reasons, plus two only the record knows: ``killed`` (the process died
#: without writing an end) and ``partial`` (the session ended, but some of its events could
#: not be written: a record must never look complete when it is not).
STORED_END_REASONS = (*END_REASONS, "killed", "partial")

ALLOWED_FIELDS: Mapping[str, tuple[str, ...]] = {
    "session_start": ("script", "mode", "perspective", "eyes"),
    "step": ("kind",),
    "say_start": ("cue", "reprompt"),   # never "text": it holds the profile's placeholders
    "say_end": (),
    "interrupted": ("by",),
    "intent": ("intent", "value", "confidence"),
    "rating": ("value", "scale", "source"),
    "confirm": ("value", "confirmed"),
    "noinput": ("count",),
    "nomatch": ("count",),
    "branch": ("to", "reason"),
    "setting": ("name", "value"),
    "paused": (),
    "resumed": (),
    "bell": ("name",),
    "fault": ("error",),
    "session_end": ("reason",),
    # The therapist's console: which control, never a typed line (that is a transcript).
    "control": ("action", "to", "value", "refused"),
    "hot_spot": (),
}
TRANSCRIPT_FIELDS: Mapping[str, tuple[str, ...]] = {"intent": ("text",), "nomatch": ("text",),
                                                    "control": ("text",)}
MAX_STRING = 200  # a stored string is a label or an error line, never a paragraph
MAX_NOTE = 2000  # the console's note for a session (typed by the therapist)


def data_dir() -> Path:
    """The user's data folder: ``$VOICE_IMRS_DATA_DIR`` or platformdirs' user data dir."""
    override = os.environ.get(DATA_DIR_ENV)
    if override:
        return Path(override).expanduser()
    from platformdirs import user_data_dir

    return Path(user_data_dir(APP_NAME))


def resolve_data_dir(given: Path | str | None = None) -> Path:
    """``given`` as a Path, or the default data folder when it is None."""
    return Path(given).expanduser() if given is not None else data_dir()


def database_path(folder: Path | None = None) -> Path:
    return (folder or data_dir()) / DB_NAME


def stored_fields(event: LogEvent, *, store_transcripts: bool = False) -> dict[str, Any]:
    """The part of ``event.fields`` the record keeps: allowed keys with scalar values."""
    allowed = ALLOWED_FIELDS.get(event.event, ())
    if store_transcripts:
        allowed = (*allowed, *TRANSCRIPT_FIELDS.get(event.event, ()))
    kept: dict[str, Any] = {}
    for key in allowed:
        if key not in event.fields:
            continue
        value = event.fields[key]
        if isinstance(value, str):
            kept[key] = value[:MAX_STRING]
        elif value is None or isinstance(value, (bool, int, float)):
            kept[key] = value
        else:
            kept[key] = str(value)[:MAX_STRING]
    return kept


def open_database(folder: Path | None = None) -> sqlite3.Connection:
    """Open (creating if needed) the record database, user-only, migrated to the current schema.

    A store that is busy, read-only or on a full disk raises ``RecordUnavailable``; a
    damaged one is set aside (renamed with the date, never deleted) and a new one started.
    """
    path = database_path(folder)
    try:
        return _connect(path)
    except RecordUnavailable:
        raise
    except sqlite3.DatabaseError as error:
        try:
            aside = set_aside(path)
        except OSError as rename_error:
            raise unavailable(path, rename_error) from error
        print(damaged_message(path, aside, error), file=sys.stderr)
    try:
        return _connect(path)
    except sqlite3.DatabaseError as error:
        raise unavailable(path, error) from error


def _connect(path: Path) -> sqlite3.Connection:
    """The connection, checked; sqlite3.DatabaseError when the file is damaged."""
    try:
        private_dir(path.parent)
        # Create the file ourselves with 0600: SQLite gives its -wal and -shm files the
        # permissions of the database file.
        os.close(os.open(path, os.O_RDWR | os.O_CREAT, 0o600))
        os.chmod(path, 0o600)
        conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False, timeout=5.0)
    except OSError as error:
        raise unavailable(path, error) from error
    try:
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA synchronous=NORMAL")
        conn.execute("PRAGMA foreign_keys=ON")
        conn.execute("PRAGMA secure_delete=ON")  # forgotten sessions are overwritten, not left
        # Reads every page once (milliseconds for years of sessions): damage shows here,
        # not halfway through a session or an export.
        check = conn.execute("PRAGMA quick_check").fetchone()
        if check is None or check[0] != "ok":
            raise sqlite3.DatabaseError(f"integrity check: {check[0] if check else '?'}")
        migrate(conn, where=str(path))
    except sqlite3.DatabaseError as error:
        conn.close()
        if is_busy(error):
            raise unavailable(path, error) from error
        raise
    except BaseException:
        conn.close()
        raise
    return conn


# ---------------------------------------------------------------- reading


@dataclass(frozen=True)
class SessionSummary:
    """One session as history shows it; ``ratings`` are its distress ratings in order."""

    id: int
    script: str
    mode: str
    started_at: datetime
    ended_at: datetime | None
    end_reason: str | None      # None while running (or until a crash is noticed)
    pid: int | None
    duration_s: float           # monotonic time of the last event
    ratings: tuple[int, ...] = ()
    stops: int = 0
    transcripts: bool = False
    running: bool = False       # no end yet, and its process is alive
    client: str | None = None   # the therapist's code for the client; None: the local user
    notes: str | None = None    # the console's note, when notes were on

    @property
    def ending(self) -> str | None:
        """The end reason, or "running" / "sudden" for a session with no end written."""
        if self.end_reason is not None:
            return self.end_reason
        return "running" if self.running else "sudden"

    @property
    def first(self) -> int | None:
        return self.ratings[0] if self.ratings else None

    @property
    def peak(self) -> int | None:
        return max(self.ratings) if self.ratings else None

    @property
    def last(self) -> int | None:
        return self.ratings[-1] if self.ratings else None

    @property
    def minutes(self) -> float:
        return self.duration_s / 60.0


_SESSION_COLUMNS = ("id, script, mode, started_at, ended_at, end_reason, pid, transcripts,"
                    " boot_id, proc_start, client, notes")


def is_distress_rating(event: str, fields: Mapping[str, Any]) -> bool:
    """A rating on the distress (SUD) scale; belief ratings are kept apart."""
    return (event == "rating" and isinstance(fields.get("value"), int)
            and fields.get("scale", "distress") == "distress")


class RecordStore:
    """Reads and deletes records; ``SessionRecorder`` adds the writing side."""

    def __init__(self, conn: sqlite3.Connection, folder: Path,
                 client: str | None = None) -> None:
        self.conn = conn
        self.folder = folder
        #: Reading sees only this client's sessions (None: every session, as before).
        self.client = client
        self._lock = threading.Lock()
        #: One sentence per stored row that could not be read (and was left out).
        self.skipped: list[str] = []

    @classmethod
    def open(cls, data_dir: Path | str | None = None,
             client: str | None = None) -> RecordStore:
        """Open the record in ``data_dir`` (default: the user's data folder).

        ``client``: history, reports and exports read only that client's sessions.
        """
        where = resolve_data_dir(data_dir)
        return cls(open_database(where), where, client)

    def _client_filter(self) -> tuple[str, tuple[Any, ...]]:
        """SQL and its parameter that keep the chosen client's sessions (or all)."""
        return ("client = ?", (self.client,)) if self.client is not None else ("1", ())

    def close(self) -> None:
        self.conn.close()

    def __enter__(self) -> RecordStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ------------------------------------------------------------ sessions

    def sessions(self, *, days: float | None = None,
                 now: datetime | None = None) -> list[SessionSummary]:
        """All sessions, oldest first; with ``days``, only those started in the last N days."""
        with self._lock:
            where, params = self._client_filter()
            rows = self.conn.execute(
                f"SELECT {_SESSION_COLUMNS} FROM sessions WHERE {where} ORDER BY id", params)
            summaries = self._summaries(rows.fetchall())
        if days is not None:
            cutoff = (now or datetime.now().astimezone()) - timedelta(days=days)
            summaries = [s for s in summaries if s.started_at >= cutoff]
        return summaries

    def session(self, session_id: int) -> SessionSummary:
        with self._lock:
            where, params = self._client_filter()
            rows = self.conn.execute(
                f"SELECT {_SESSION_COLUMNS} FROM sessions WHERE id = ? AND {where}",
                (session_id, *params)).fetchall()
            found = self._summaries(rows)
        if not found:
            raise self._unknown(session_id)
        return found[0]

    def last_session(self) -> SessionSummary:
        with self._lock:
            where, params = self._client_filter()
            row = self.conn.execute(f"SELECT MAX(id) FROM sessions WHERE {where}",
                                    params).fetchone()
        if row[0] is None:
            raise RecordError("No session has been recorded yet.",
                              hint="Run a session first with 'voice-imrs run'.")
        return self.session(int(row[0]))

    def events(self, session_id: int) -> list[LogEvent]:
        """The stored events of one session, in order."""
        self.session(session_id)  # names the unknown id clearly
        with self._lock:
            rows = self.conn.execute(
                "SELECT t, event, step, fields FROM events WHERE session_id = ? ORDER BY seq",
                (session_id,)).fetchall()
        events = []
        for seq, (t, event, step, fields) in enumerate(rows, start=1):
            try:
                loaded = json.loads(fields)
                if not isinstance(loaded, dict):
                    raise ValueError("not an object")
                events.append(LogEvent(float(t), str(event), step, loaded))
            except (TypeError, ValueError):
                self._skip(f"session {session_id}: event {seq} cannot be read and was left "
                           "out.")
        return events

    def session_ids(self) -> list[int]:
        with self._lock:
            return [int(r[0]) for r in self.conn.execute("SELECT id FROM sessions ORDER BY id")]

    def delete_session(self, session_id: int) -> None:
        self.session(session_id)
        with self._lock:
            self.conn.execute("BEGIN IMMEDIATE")
            try:
                self.conn.execute("DELETE FROM events WHERE session_id = ?", (session_id,))
                self.conn.execute("DELETE FROM sessions WHERE id = ?", (session_id,))
            except BaseException:
                self.conn.execute("ROLLBACK")
                raise
            self.conn.execute("COMMIT")
            # The deleted rows still sit in the WAL until a checkpoint copies and truncates it.
            self.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        from voice_imrs.records.kept_audio import session_audio_path

        session_audio_path(self.folder, session_id).unlink(missing_ok=True)

    def recover_from(self, damaged: Path) -> Recovery:
        """Copy every readable session and event of a set-aside file into this store.

        The copies get new ids (this store may hold newer sessions); one transaction, so
        an interrupted recovery adds nothing and can simply be run again.
        """
        def insert_session(values: dict[str, Any]) -> int:
            cursor = self.conn.execute(
                "INSERT INTO sessions (script, mode, started_at, ended_at, end_reason, pid)"
                " VALUES (?, ?, ?, ?, ?, ?)",
                (str(values["script"]), str(values["mode"]), values["started_at"],
                 values["ended_at"], values["end_reason"] or "killed", values["pid"]))
            return int(cursor.lastrowid or 0)

        def insert_event(session_id: int, seq: int, t: float, event: str, step: str | None,
                         fields: str) -> None:
            self.conn.execute("INSERT INTO events (session_id, seq, t, event, step, fields)"
                              " VALUES (?, ?, ?, ?, ?, ?)",
                              (session_id, seq, t, event, step, fields))

        with self._lock:
            try:
                self.conn.execute("BEGIN IMMEDIATE")
                try:
                    found = recover_into(damaged, insert_session, insert_event)
                except BaseException:
                    self.conn.execute("ROLLBACK")
                    raise
                self.conn.execute("COMMIT")
            except sqlite3.Error as error:
                raise unavailable(database_path(self.folder), error) from error
        return found

    # ------------------------------------------------------------ crash recovery

    def unfinished_sessions(self) -> list[SessionSummary]:
        """Sessions with no end whose process is gone: killed, or lost with the machine."""
        with self._lock:
            rows = self.conn.execute(
                f"SELECT {_SESSION_COLUMNS} FROM sessions WHERE end_reason IS NULL ORDER BY id"
            ).fetchall()
            dead = [row for row in rows if not _process_alive(row[6], row[8], row[9])]
            return self._summaries(dead)

    def recover_killed(self) -> list[SessionSummary]:
        """At start-up: mark every session whose process died without an end ``killed``.

        All are marked, whoever's they are; those of the chosen client (every one when
        none is chosen) are returned, now marked, and the runner offers a short grounding
        for them. ``ended_at`` is the time of a session's last event: the best known
        moment it was still alive.
        """
        found = self.unfinished_sessions()
        with self._lock:
            for summary in found:
                ended = summary.started_at + timedelta(seconds=summary.duration_s)
                self.conn.execute(
                    "UPDATE sessions SET end_reason = 'killed', ended_at = ?"
                    " WHERE id = ? AND end_reason IS NULL",
                    (ended.isoformat(timespec="seconds"), summary.id))
        return [self.session(s.id) for s in found
                if self.client is None or s.client == self.client]

    # ------------------------------------------------------------ helpers

    def _unknown(self, session_id: int) -> RecordError:
        with self._lock:
            known = [str(r[0]) for r in self.conn.execute(
                "SELECT id FROM sessions ORDER BY id DESC LIMIT 10")]
        listed = ", ".join(known) if known else "none recorded yet"
        return RecordError(f"There is no recorded session {session_id}.",
                           hint=f"Recent session ids: {listed} (see 'voice-imrs history').")

    def _summaries(self, rows: Iterable[tuple[Any, ...]]) -> list[SessionSummary]:
        rows = list(rows)
        ratings: dict[int, list[int]] = {}
        stops: dict[int, int] = {}
        duration: dict[int, float] = {}
        ids = [int(r[0]) for r in rows]
        for start in range(0, len(ids), 500):  # stay below SQLite's bound-parameter limit
            chunk = ids[start:start + 500]
            marks = ",".join("?" * len(chunk))
            for sid, t in self.conn.execute(
                    f"SELECT session_id, MAX(t) FROM events WHERE session_id IN ({marks})"
                    " GROUP BY session_id", chunk):
                duration[sid] = float(t)
            for sid, event, fields_json in self.conn.execute(
                    "SELECT session_id, event, fields FROM events WHERE session_id IN"
                    f" ({marks}) AND event IN ('rating', 'intent') ORDER BY session_id, seq",
                    chunk):
                try:
                    fields = json.loads(fields_json)
                except (TypeError, ValueError):
                    continue  # reported by events(); a summary just leaves it out
                if not isinstance(fields, dict):
                    continue
                if is_distress_rating(event, fields):
                    ratings.setdefault(sid, []).append(int(fields["value"]))
                elif event == "intent" and fields.get("intent") == "stop":
                    stops[sid] = stops.get(sid, 0) + 1
        out = []
        for sid, script, mode, started, ended, reason, pid, transcripts, boot, proc, \
                client, notes in rows:
            try:
                started_at = _moment(started)
                ended_at = _moment(ended) if ended else None
            except (TypeError, ValueError):
                self._skip(f"session {sid}: its date {started!r} cannot be read; it was "
                           "left out.")
                continue
            out.append(SessionSummary(
                id=sid, script=str(script), mode=str(mode),
                started_at=started_at, ended_at=ended_at,
                end_reason=reason, pid=pid, duration_s=duration.get(sid, 0.0),
                ratings=tuple(ratings.get(sid, ())), stops=stops.get(sid, 0),
                transcripts=bool(transcripts), client=client, notes=notes,
                running=reason is None and _process_alive(pid, boot, proc)))
        return out

    def _skip(self, sentence: str) -> None:
        if sentence not in self.skipped:
            self.skipped.append(sentence)


def _moment(text: object) -> datetime:
    """A stored ISO 8601 time with its offset (an old row without one is taken as local)."""
    if not isinstance(text, str):
        raise TypeError(f"not a time: {text!r}")
    moment = datetime.fromisoformat(text)
    return moment if moment.tzinfo is not None else moment.astimezone()


# ---------------------------------------------------------------- writing


class SessionRecorder(RecordStore):
    """Records one session at a time; also callable as a session event observer.

    A failed write never breaks the session it records: the first failure is printed once on
    standard error and kept in ``write_error``; the session goes on.
    """

    def __init__(self, conn: sqlite3.Connection, folder: Path, *,
                 store_transcripts: bool = False) -> None:
        super().__init__(conn, folder)
        self.store_transcripts = store_transcripts
        self.session_id: int | None = None
        self.write_error: str | None = None
        self._seq = 0

    @classmethod
    def open(cls, data_dir: Path | str | None = None, client: str | None = None, *,
             store_transcripts: bool = False) -> SessionRecorder:
        """Open for recording; ``store_transcripts`` comes from the profile (default off)."""
        where = resolve_data_dir(data_dir)
        recorder = cls(open_database(where), where, store_transcripts=store_transcripts)
        recorder.client = client
        return recorder

    def begin(self, script: str, mode: str, client: str | None = None) -> int:
        """Start recording a new session (for ``client``, a therapist's code); its id."""
        if self.session_id is not None:
            self.end("fault")  # a runner that forgot to end: do not leave it looking killed
        # SQLite's automatic checkpoint (every 1000 WAL pages, about 1000 events) copies the
        # log into the database and fsyncs both inside the commit that crosses the mark: a
        # stall of ~12 ms measured here. During a session we let the log grow (10000 pages
        # bound it near 40 MB) and checkpoint in end(), when nothing is waiting for us.
        pid = os.getpid()
        started = datetime.now().astimezone().isoformat(timespec="seconds")
        with self._lock:
            try:
                self.conn.execute("PRAGMA wal_autocheckpoint=10000")
                cursor = self.conn.execute(
                    "INSERT INTO sessions (script, mode, started_at, pid, boot_id, proc_start,"
                    " transcripts, client) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                    (script, mode, started, pid, _boot_id(), _proc_start(pid),
                     int(self.store_transcripts),
                     client if client is not None else self.client))
            except sqlite3.Error as error:  # locked past the timeout, read-only, disk full
                raise unavailable(database_path(self.folder), error) from error
            self.session_id = int(cursor.lastrowid or 0)
            self._seq = 0
            self.write_error = None
        return self.session_id

    def add(self, event: LogEvent) -> None:
        """Store one event, committed before this returns."""
        if self.session_id is None:
            if event.event != "session_start":
                raise RecordError("An event was recorded before the session began.",
                                  hint="Call begin(script, mode) first.")
            self.begin(str(event.fields.get("script", "")), str(event.fields.get("mode", "")))
        fields = json.dumps(stored_fields(event, store_transcripts=self.store_transcripts),
                            ensure_ascii=False, separators=(",", ":"))
        with self._lock:
            self._seq += 1
            try:
                self.conn.execute(
                    "INSERT INTO events (session_id, seq, t, event, step, fields)"
                    " VALUES (?, ?, ?, ?, ?, ?)",
                    (self.session_id, self._seq, round(float(event.t), 3), event.event,
                     event.step, fields))
            except sqlite3.Error as error:
                self._failed(error)
        if event.event == "session_end":
            self.end(str(event.fields.get("reason", "fault")))

    __call__ = add

    def set_notes(self, session_id: int, text: str) -> None:
        """Keep the console's note for a session (only called when notes are on)."""
        with self._lock:
            try:
                self.conn.execute("UPDATE sessions SET notes = ? WHERE id = ?",
                                  (text[:MAX_NOTE], session_id))
            except sqlite3.Error as error:
                self._failed(error)

    def end(self, reason: str) -> None:
        """Mark the current session ended (``completed``, ``stopped``, ``signal``, ``fault``).

        A session some of whose events could not be written ends as ``partial``, whatever
        its reason: a record with gaps must not look complete.
        """
        if reason not in STORED_END_REASONS:
            raise UnknownChoiceError("session end reason", reason, STORED_END_REASONS)
        if self.session_id is None:
            return
        if self.write_error is not None:
            reason = "partial"
        ended = datetime.now().astimezone().isoformat(timespec="seconds")
        with self._lock:
            try:
                self.conn.execute(
                    "UPDATE sessions SET end_reason = ?, ended_at = ? WHERE id = ?",
                    (reason, ended, self.session_id))
            except sqlite3.Error as error:
                self._failed(error)
            self.session_id = None
            # Fails only if the connection is gone; a reader holding the log just makes
            # this checkpoint partial, and SQLite finishes it later.
            with contextlib.suppress(sqlite3.Error):
                self.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")

    def close(self) -> None:
        """Close the database; a session still open is ended as a fault."""
        if self.session_id is not None:
            self.end("fault")
        super().close()

    def _failed(self, error: sqlite3.Error) -> None:
        if self.write_error is None:
            self.write_error = str(error)
            print(f"voice-imrs: the session record could not be written ({error}); "
                  "the session goes on, and its record will be marked incomplete.",
                  file=sys.stderr)


# ---------------------------------------------------------------- is that process alive?


def _boot_id() -> str | None:
    try:
        return Path("/proc/sys/kernel/random/boot_id").read_text().strip()
    except OSError:
        return None


def _proc_stat(pid: int) -> list[str] | None:
    """Fields of /proc/PID/stat after the command name (state first), or None."""
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return text.rsplit(")", 1)[1].split()


def _proc_start(pid: int) -> int | None:
    stat = _proc_stat(pid)
    return int(stat[19]) if stat and len(stat) > 19 else None


def _process_alive(pid: object, boot_id: object, proc_start: object) -> bool:
    if not isinstance(pid, int) or isinstance(pid, bool) or pid <= 0:
        return False
    if boot_id and boot_id != _boot_id():
        return False  # recorded before the last reboot: that process is gone
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        pass  # exists, owned by someone else: judge by /proc below
    stat = _proc_stat(pid)
    if stat is None:
        return True  # no /proc (not Linux): the pid exists, assume it is ours
    if stat[0] in ("Z", "X"):
        return False  # killed, not yet reaped
    return proc_start is None or _proc_start(pid) == proc_start
