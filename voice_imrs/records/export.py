"""Getting the record out (``export`` as CSV or JSON) and deleting it (``forget``).

``forget_all`` deletes the record database and every other file in the user's data folder
(saved audio, transcripts, anything the user allowed), keeping only the downloaded
recognition models, which hold nothing about the user and would otherwise be downloaded
again. Deleting is unlinking: on flash storage no program can promise that the blocks are
overwritten, so the store also keeps ``secure_delete`` on for sessions forgotten one by one.
"""

from __future__ import annotations

import csv
import io
import json
import shutil
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from voice_imrs.records.migrations import CURRENT_VERSION
from voice_imrs.records.store import DB_NAME, RecordStore, SessionSummary

FORMATS = ("csv", "json")
KEPT_ON_FORGET = ("models",)  # downloaded recognition models: not the user's data
CSV_COLUMNS = ("session_id", "script", "mode", "started_at", "ended_at", "end_reason",
               "seq", "t", "event", "step", "fields")


def _session_dict(s: SessionSummary) -> dict[str, Any]:
    return {"id": s.id, "script": s.script, "mode": s.mode,
            "started_at": s.started_at.isoformat(),
            "ended_at": s.ended_at.isoformat() if s.ended_at else None,
            "end_reason": s.end_reason, "transcripts_kept": s.transcripts}


def export_json(store: RecordStore) -> str:
    """Every session with its events, as one JSON document."""
    sessions = []
    for summary in store.sessions():
        item = _session_dict(summary)
        item["events"] = [e.to_dict() for e in store.events(summary.id)]
        sessions.append(item)
    return json.dumps({"format": "voice-imrs records", "schema_version": CURRENT_VERSION,
                       "sessions": sessions}, ensure_ascii=False, indent=1) + "\n"


def export_csv(store: RecordStore) -> str:
    """One row per event (a session without events gets one row with empty event cells)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    for summary in store.sessions():
        s = _session_dict(summary)
        head = [s["id"], s["script"], s["mode"], s["started_at"], s["ended_at"] or "",
                s["end_reason"] or ""]
        events = store.events(summary.id)
        if not events:
            writer.writerow([*head, "", "", "", "", ""])
        for seq, event in enumerate(events, start=1):
            writer.writerow([*head, seq, f"{event.t:.3f}", event.event, event.step or "",
                             json.dumps(event.fields, ensure_ascii=False)])
    return buffer.getvalue()


def export_text(store: RecordStore, fmt: str) -> str:
    return export_json(store) if fmt == "json" else export_csv(store)


def forget_all(folder: Path, *, extra_paths: Iterable[Path] = ()) -> list[Path]:
    """Delete the record and every user file in ``folder`` (and ``extra_paths``).

    Returns what was deleted. The folder itself goes too when nothing is kept in it.
    """
    deleted: list[Path] = []
    if folder.is_dir():
        for entry in sorted(folder.iterdir()):
            if entry.name in KEPT_ON_FORGET and entry.is_dir():
                continue
            _remove(entry)
            deleted.append(entry)
        if not any(folder.iterdir()):
            folder.rmdir()
    for path in extra_paths:
        if path.exists() or path.is_symlink():
            _remove(path)
            deleted.append(path)
    return deleted


def _remove(path: Path) -> None:
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path)
    else:
        path.unlink()


def record_files(folder: Path) -> list[Path]:
    """The database and its write-ahead files, those that exist."""
    return [p for p in (folder / DB_NAME, folder / f"{DB_NAME}-wal", folder / f"{DB_NAME}-shm")
            if p.exists()]
