"""Getting the record out: ``export`` as CSV or JSON (deleting is ``records.forget``)."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path
from typing import Any

from voice_imrs.records.migrations import CURRENT_VERSION
from voice_imrs.records.store import DB_NAME, RecordStore, SessionSummary

FORMATS = ("csv", "json")
CSV_COLUMNS = ("session_id", "client", "script", "mode", "started_at", "ended_at",
               "end_reason", "seq", "t", "event", "step", "fields")


def _session_dict(s: SessionSummary) -> dict[str, Any]:
    return {"id": s.id, "script": s.script, "mode": s.mode,
            "started_at": s.started_at.isoformat(),
            "ended_at": s.ended_at.isoformat() if s.ended_at else None,
            "end_reason": s.end_reason, "transcripts_kept": s.transcripts,
            "client": s.client, "notes": s.notes}


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
        # An empty client is the single local user (no code given).
        head = [s["id"], s["client"] or "", s["script"], s["mode"], s["started_at"],
                s["ended_at"] or "", s["end_reason"] or ""]
        events = store.events(summary.id)
        if not events:
            writer.writerow([*head, "", "", "", "", ""])
        for seq, event in enumerate(events, start=1):
            writer.writerow([*head, seq, f"{event.t:.3f}", event.event, event.step or "",
                             json.dumps(event.fields, ensure_ascii=False)])
    return buffer.getvalue()


def export_text(store: RecordStore, fmt: str) -> str:
    return export_json(store) if fmt == "json" else export_csv(store)


def record_files(folder: Path) -> list[Path]:
    """The database and its write-ahead files, those that exist."""
    return [p for p in (folder / DB_NAME, folder / f"{DB_NAME}-wal", folder / f"{DB_NAME}-shm")
            if p.exists()]
