"""The report's view of one session part by part: ratings, time at the hot spot, stops,
no answers, and the therapist's note.

The parts are the console's (``phases``): preparation, safe place, the three ImRs
phases, closing, and grounding wherever it came. Time at the hot spot is the time spent
in a step named ``hot_spot`` plus, for each hot spot the therapist marked on the
console, the time from the mark to the next step.
"""

from __future__ import annotations

import html
from collections.abc import Sequence
from dataclasses import dataclass, field

from voice_imrs.console.phases import part_names, phase_of
from voice_imrs.core.events import LogEvent
from voice_imrs.records.store import SessionSummary, is_distress_rating

HOT_SPOT_STEP = "hot_spot"


@dataclass
class PartSummary:
    """What happened in one part of a session."""

    name: str
    seconds: float = 0.0
    ratings: list[tuple[float, int]] = field(default_factory=list)  # (t, value)
    hot_spot_s: float = 0.0
    stops: int = 0
    noinputs: int = 0


def parts_of(script: str, events: Sequence[LogEvent]) -> list[PartSummary]:
    """The parts of a recorded session, in the order they were first entered."""
    names = _names_for(script)
    parts: dict[str, PartSummary] = {}
    current: PartSummary | None = None
    entered = 0.0
    hot_since: float | None = None
    for event in events:
        if event.event == "step":
            if hot_since is not None and current is not None:
                current.hot_spot_s += event.t - hot_since
                hot_since = None
            name = phase_of(names, event.step) or script
            if current is None or name != current.name:
                if current is not None:
                    current.seconds += event.t - entered
                current = parts.setdefault(name, PartSummary(name))
                entered = event.t
            if event.step == HOT_SPOT_STEP:
                hot_since = event.t
            continue
        if current is None:
            continue
        if event.event == "hot_spot" and hot_since is None:
            hot_since = event.t
        elif is_distress_rating(event.event, event.fields):
            current.ratings.append((event.t, int(event.fields["value"])))
        elif event.event == "intent" and event.fields.get("intent") == "stop":
            current.stops += 1
        elif event.event == "noinput":
            current.noinputs += 1
    if current is not None and events:
        last = events[-1].t
        current.seconds += last - entered
        if hot_since is not None:
            current.hot_spot_s += last - hot_since
    return list(parts.values())


def _names_for(script: str) -> dict[str, str]:
    from voice_imrs.script_files import builtin_scripts

    found = builtin_scripts().get(script)
    return part_names(found) if found is not None else {}


def _mmss(seconds: float) -> str:
    whole = round(seconds)
    return f"{whole // 60}:{whole % 60:02d}"


def parts_html(summary: SessionSummary, events: Sequence[LogEvent]) -> str:
    """A table of the parts, and the note when there is one (an HTML fragment)."""
    e = html.escape
    rows = []
    for part in parts_of(summary.script, events):
        ratings = ", ".join(f"{value} at {_mmss(t)}" for t, value in part.ratings) or "none"
        rows.append("<tr>" + "".join(f"<td>{e(cell)}</td>" for cell in (
            part.name, _mmss(part.seconds), ratings,
            _mmss(part.hot_spot_s) if part.hot_spot_s else "–",
            str(part.stops), str(part.noinputs))) + "</tr>")
    head = "".join(f'<th scope="col">{h}</th>' for h in (
        "Part", "Time (m:ss)", "Ratings (at m:ss into the session)", "Time at the hot spot",
        "Stops", "No answers"))
    who = f", client {summary.client}" if summary.client else ""
    out = [f'<table class="parts"><caption>Session {summary.id}{e(who)} part by part</caption>'
           f"<thead><tr>{head}</tr></thead><tbody>{''.join(rows)}</tbody></table>"]
    if summary.notes:
        out.append(f'<p><strong>Note:</strong> {e(summary.notes)}</p>')
    return "\n".join(out)
