"""The history of sessions as a plain table (what ``voice-imrs history`` prints) or as JSON.

The table is written for screen readers as much as for eyes: one session per line, columns
separated by spaces only (no box-drawing or bar characters, which are read aloud as symbols),
words rather than dashes for missing values.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from voice_imrs.records.store import SessionSummary

ENDINGS = {
    "completed": "completed",
    "stopped": "stopped",
    "incomplete": "incomplete",
    "signal": "interrupted",
    "fault": "ended by an error",
    "killed": "cut off",
    "partial": "ended, record incomplete",
    "running": "still running",     # no end yet, and its process is alive
    "sudden": "ended suddenly",     # no end yet, and its process is gone
}
HEADERS = ("Session", "Date", "Script", "Minutes", "First", "Peak", "Last", "Ended")
NONE_WORD = "none"


def how_it_ended(reason: str | None) -> str:
    """In words; None (no end written) reads as "ended suddenly": pass
    ``SessionSummary.ending`` to tell a live session apart.
    """
    return ENDINGS.get(reason or "sudden", str(reason))


def _rating(value: int | None) -> str:
    return NONE_WORD if value is None else str(value)


def history_cells(summary: SessionSummary) -> tuple[str, ...]:
    """One table row of text cells, in the order of ``HEADERS``."""
    return (
        str(summary.id),
        summary.started_at.strftime("%Y-%m-%d %H:%M"),
        summary.script,
        f"{summary.minutes:.1f}",
        _rating(summary.first),
        _rating(summary.peak),
        _rating(summary.last),
        how_it_ended(summary.ending),
    )


def history_table(summaries: Sequence[SessionSummary], *, days: float | None = None) -> str:
    """The plain-text table, with a heading line that says what it covers."""
    span = f" in the last {days:g} days" if days is not None else ""
    if not summaries:
        return f"No sessions recorded{span}.\n"
    count = len(summaries)
    lines = [f"{count} session{'s' if count != 1 else ''} recorded{span}. "
             "Ratings are distress from 0 to 10."]
    rows = [HEADERS, *(history_cells(s) for s in summaries)]
    widths = [max(len(row[i]) for row in rows) for i in range(len(HEADERS))]
    for row in rows:
        cells = (cell.ljust(width) for cell, width in zip(row, widths, strict=True))
        lines.append("  ".join(cells).rstrip())
    return "\n".join(lines) + "\n"


def history_records(summaries: Sequence[SessionSummary]) -> list[dict[str, Any]]:
    """The same rows as plain data, for ``--json``."""
    return [{
        "id": s.id,
        "script": s.script,
        "mode": s.mode,
        "started_at": s.started_at.isoformat(),
        "ended_at": s.ended_at.isoformat() if s.ended_at else None,
        "end_reason": s.end_reason,
        "minutes": round(s.minutes, 2),
        "first": s.first,
        "peak": s.peak,
        "last": s.last,
        "ratings": list(s.ratings),
        "stops": s.stops,
    } for s in summaries]
