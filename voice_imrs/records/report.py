"""The practice report: one self-contained HTML page with charts, alt text and data tables.

Everything the page needs is inside it (PNG images as base64, CSS inline, no script, no
network address), so it can be opened offline, mailed to a therapist or printed. Every chart
has a text alternative that states what it shows, and the same numbers as an HTML table, so a
screen reader user gets everything a sighted reader gets. matplotlib is imported only when a
chart is drawn, with the Agg backend through ``Figure`` (no pyplot global state, no display).
"""

from __future__ import annotations

import base64
import html
import io
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

from voice_imrs.core.events import LogEvent
from voice_imrs.core.step_graph import is_grounding
from voice_imrs.errors import RecordError
from voice_imrs.records.history import how_it_ended
from voice_imrs.records.store import RecordStore, SessionSummary, is_distress_rating

DEFAULT_DAYS = 30
MAX_SESSION_CHARTS = 10  # a month of daily practice would make a page too long to listen to


@dataclass(frozen=True)
class Chart:
    """One chart: its heading, the PNG, its text alternative, and its data as a table."""

    title: str
    alt: str
    headers: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]
    png: bytes | None = None       # None when there is nothing to draw; ``note`` says why
    note: str = ""


@dataclass(frozen=True)
class ReportContent:
    """What the page covers: sessions drawn one by one, and sessions seen across days."""

    title: str
    scope: str
    focus: tuple[SessionSummary, ...]
    across: tuple[SessionSummary, ...]
    notes: tuple[str, ...] = field(default_factory=tuple)


def clock(seconds: float) -> str:
    """Seconds since the start as m:ss (how a time in a session is read out)."""
    whole = round(seconds)
    return f"{whole // 60}:{whole % 60:02d}"


def _day(summary: SessionSummary) -> str:
    return summary.started_at.strftime("%Y-%m-%d")


def _new_figure(width: float = 8.0, height: float = 3.6) -> Any:
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib.figure import Figure

    fig = Figure(figsize=(width, height), dpi=100)
    fig.set_layout_engine("constrained")
    return fig


def _png(fig: Any) -> bytes:
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png")
    return buffer.getvalue()


# ---------------------------------------------------------------- distress over one session


#: Why a session went into grounding because of the client (a stop, distress, silence, a
#: signal or a fault) rather than because the exercise closes that way.
_DETOUR_REASONS = frozenset({"stop", "safety", "distress", "signal", "fault", "noinput"})
#: A rating branch into grounding from this rating up is a distress detour (the default
#: high threshold: records do not keep the profile's).
_HIGH_RATING = 8
DETOUR, CLOSING = "detour", "closing"
#: The peak's star and the fill of grounding after distress (and nothing else in a chart).
PEAK_COLOUR = "#e7298a"
DETOUR_COLOUR = "#fdae6b"


@dataclass(frozen=True)
class GroundingSpan:
    """A stretch of grounding steps: ``kind`` is DETOUR (distress, a stop, silence...) or
    CLOSING (the exercise's own calm close, which is how every session ends).
    """

    start: float
    end: float
    kind: str


def _detour_branch(event: LogEvent) -> bool:
    reason = str(event.fields.get("reason", ""))
    if reason in _DETOUR_REASONS:
        return True
    words = reason.split()
    return (len(words) == 2 and words[0] == "rating" and words[1].isdigit()
            and int(words[1]) >= _HIGH_RATING)


def _grounding_spans(events: Sequence[LogEvent]) -> list[GroundingSpan]:
    spans: list[GroundingSpan] = []
    start: float | None = None
    kind = CLOSING
    detour_next = False  # the last branch was a detour: the step it leads to is one
    for event in events:
        if event.event == "branch":
            detour_next = _detour_branch(event)
            continue
        if event.event != "step":
            continue
        grounding = is_grounding(event.step)
        entered = DETOUR if detour_next else CLOSING
        detour_next = False
        if start is not None and (not grounding or (entered == DETOUR and kind == CLOSING)):
            spans.append(GroundingSpan(start, event.t, kind))
            start = None
        if grounding and start is None:
            start, kind = event.t, entered
    if start is not None:
        spans.append(GroundingSpan(start, events[-1].t if events else start, kind))
    return spans


#: How each end reason reads in the report; ``incomplete`` and ``stopped`` kept apart.
ENDED = {
    "completed": "completed",
    "stopped": "stopped by the client, then grounded",
    "incomplete": "incomplete: ended before the exercise's end, grounded",
    "fault": "ended by an error, grounded",
    "signal": "interrupted from outside (Ctrl-C or the system), grounded",
    "killed": "cut off (the program was killed)",
}


def ended_words(summary: SessionSummary) -> str:
    """The report's words for how a session ended (an unknown reason as it was stored)."""
    if summary.end_reason is None:  # still running, or ended suddenly
        return how_it_ended(summary.ending)
    return ENDED.get(summary.end_reason, how_it_ended(summary.end_reason))


def _is_stop(event: LogEvent) -> bool:
    return ((event.event == "intent" and event.fields.get("intent") == "stop")
            or (event.event == "interrupted" and event.fields.get("by") == "stop"))


def _is_marked_branch(event: LogEvent) -> bool:
    # A "jump" is the script's own flow; the branches worth marking are those the session
    # took because of the user (a rating, a stop, silence, a signal).
    return event.event == "branch" and event.fields.get("reason") != "jump"


def distress_chart(summary: SessionSummary, events: Sequence[LogEvent]) -> Chart:
    """Distress ratings over one session: the peak marked, stops, branches, grounding after
    distress shaded (the normal closing grounding only outlined) and how it ended.
    """
    ratings = [(e.t, int(e.fields["value"])) for e in events
               if is_distress_rating(e.event, e.fields)]
    stops = [e.t for e in events if e.event == "intent" and _is_stop(e)]
    if not stops:
        stops = [e.t for e in events if _is_stop(e)]
    branches = [e for e in events if _is_marked_branch(e)]
    spans = _grounding_spans(events)
    detours = [span for span in spans if span.kind == DETOUR]
    closing = [span for span in spans if span.kind == CLOSING]
    ended = ended_words(summary)
    end_t = events[-1].t if events else 0.0
    title = (f"Session {summary.id}: {summary.script}, {summary.started_at:%Y-%m-%d %H:%M}, "
             f"{ended.split(',')[0].split(':')[0]}")

    rows: list[tuple[float, str, str]] = [(t, "distress rating", str(v)) for t, v in ratings]
    rows += [(t, "stop", "") for t in stops]
    rows += [(e.t, "branch", f"to {e.fields.get('to')} ({e.fields.get('reason')})")
             for e in branches]
    for span in spans:
        what = ("grounding after distress or a stop" if span.kind == DETOUR
                else "closing grounding")
        rows += [(span.start, f"{what} began", ""), (span.end, f"{what} ended", "")]
    rows.sort(key=lambda row: row[0])
    rows.append((end_t, "session ended", ended))
    table = tuple((clock(t), what, value) for t, what, value in rows)

    parts = [f"Line chart of distress ratings from 0 to 10 against minutes into the "
             f"{summary.script} session of {summary.started_at:%Y-%m-%d}."]
    peak: tuple[float, int] | None = None
    if ratings:
        values = [v for _, v in ratings]
        peak = max(ratings, key=lambda tv: tv[1])  # the first time the highest was given
        parts.append(f"{len(values)} rating{'s' if len(values) != 1 else ''}: first {values[0]}"
                     f" at {clock(ratings[0][0])}, highest {peak[1]} at {clock(peak[0])}, last "
                     f"{values[-1]} at {clock(ratings[-1][0])}.")
    else:
        parts.append("No ratings were given.")
    if stops:
        parts.append("Stop at " + ", ".join(clock(t) for t in stops) + ".")
    if branches:
        parts.append(f"{len(branches)} branch{'es' if len(branches) != 1 else ''} marked.")
    if detours:
        parts.append("Grounding after distress or a stop " + ", ".join(
            f"from {clock(a.start)} to {clock(a.end)}" for a in detours) + ".")
    if closing:
        parts.append("Grounding from " + ", ".join(
            f"{clock(a.start)} to {clock(a.end)}" for a in closing) + " as the usual close.")
    parts.append(f"The session ended: {ended}.")
    alt = " ".join(parts)
    headers = ("Time (m:ss)", "What", "Value")
    if not (ratings or stops or branches or spans):
        return Chart(title, alt, headers, table,
                     note="Nothing to draw: no ratings, stops, branches or grounding.")

    fig = _new_figure()
    ax = fig.add_subplot()
    for i, span in enumerate(detours):
        ax.axvspan(span.start / 60, max(span.end, span.start + 1) / 60, color=DETOUR_COLOUR,
                   alpha=0.6, label="grounding after distress or a stop" if i == 0 else None)
    for i, span in enumerate(closing):
        # The usual close is outlined and hatched, not filled: it is not an alarm.
        ax.axvspan(span.start / 60, max(span.end, span.start + 1) / 60, facecolor="none",
                   edgecolor="#969696", hatch="//", linewidth=0.0,
                   label="closing grounding (the usual end)" if i == 0 else None)
    if ratings:
        ax.plot([t / 60 for t, _ in ratings], [v for _, v in ratings], marker="o",
                color="#08306b", linewidth=2, label="distress")
    if peak is not None:
        ax.plot([peak[0] / 60], [peak[1]], linestyle="none", marker="*", markersize=18,
                color=PEAK_COLOUR, label=f"peak ({peak[1]})", zorder=5)
        ax.annotate(f"peak {peak[1]}", (peak[0] / 60, peak[1]), xytext=(6, 6),
                    textcoords="offset points", fontsize=11, fontweight="bold",
                    color=PEAK_COLOUR)
    for i, t in enumerate(stops):
        ax.axvline(t / 60, color="#a50f15", linestyle="--", linewidth=2,
                   label="stop" if i == 0 else None)
    if branches:
        ax.plot([e.t / 60 for e in branches], [10.4] * len(branches), linestyle="none",
                marker="v", markersize=9, color="#54278f", label="branch")
    ax.set_ylim(-0.3, 10.8)
    ax.set_yticks(range(0, 11, 2))
    ax.set_xlim(left=0)
    ax.set_xlabel("minutes into the session")
    ax.set_ylabel("distress (0 to 10)")
    ax.set_title(f"Ended: {ended}", fontsize=10, loc="left")
    ax.grid(True, alpha=0.3)
    ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), frameon=False)
    return Chart(title, alt, headers, table, png=_png(fig))


# ---------------------------------------------------------------- across days


_STYLES = (("o", "-", "#08519c"), ("^", "--", "#a50f15"), ("s", ":", "#006d2c"),
           ("D", "-.", "#54278f"), ("v", "-", "#8c510a"), ("P", "--", "#01665e"),
           ("X", ":", "#636363"))  # marker, line and colour: told apart without colour


def ratings_across_days_chart(summaries: Sequence[SessionSummary]) -> Chart:
    """The peak distress of each session across days: one trend line per exercise."""
    title = "Peak distress per session, one line per exercise"
    headers = ("Exercise", "Date", "Session", "First", "Peak", "Last", "Ended")
    by_script: dict[str, list[SessionSummary]] = {}
    for s in summaries:
        by_script.setdefault(s.script, []).append(s)
    scripts = sorted(by_script)
    table = tuple((script, s.started_at.strftime("%Y-%m-%d %H:%M"), str(s.id),
                   _cell(s.first), _cell(s.peak), _cell(s.last), ended_words(s))
                  for script in scripts for s in by_script[script])
    rated = {script: [s for s in by_script[script] if s.ratings] for script in scripts}
    rated = {script: runs for script, runs in rated.items() if runs}
    if not rated:
        return Chart(title, "No ratings were given in these sessions.", headers, table,
                     note="No ratings were given in these sessions.")
    described = []
    for script, runs in rated.items():
        peaks = ", ".join(str(s.peak) for s in runs[-8:])
        described.append(f"{script}: {len(runs)} rated session{'s' if len(runs) != 1 else ''}"
                         f" from {_day(runs[0])} to {_day(runs[-1])}, peaks "
                         f"{'(the last eight) ' if len(runs) > 8 else ''}{peaks}")
    alt = (f"Line chart of the peak distress rating (0 to 10) of each session, one line for "
           f"each of {len(rated)} exercise{'s' if len(rated) != 1 else ''}. "
           + "; ".join(described) + ".")
    fig = _new_figure()
    ax = fig.add_subplot()
    for i, (script, runs) in enumerate(rated.items()):
        marker, line, colour = _STYLES[i % len(_STYLES)]
        ax.plot([s.started_at for s in runs], [s.peak for s in runs], marker=marker,
                linestyle=line, color=colour, linewidth=2, markersize=7, label=script)
        for s in runs:  # how a session ended, where it did not simply complete
            if s.end_reason != "completed":
                ax.annotate(str(s.end_reason or "running"), (s.started_at, s.peak or 0),
                            xytext=(0, -14), textcoords="offset points", ha="center",
                            fontsize=8, color=colour)
    ax.set_ylim(-0.3, 10.5)
    ax.set_yticks(range(0, 11, 2))
    ax.set_ylabel("peak distress (0 to 10)")
    ax.set_xlabel("session date")
    ax.grid(True, alpha=0.3)
    ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), frameon=False)
    fig.autofmt_xdate()
    return Chart(title, alt, headers, table, png=_png(fig))


def _cell(value: int | None) -> str:
    return "none" if value is None else str(value)


def endings_line(summaries: Sequence[SessionSummary]) -> str:
    """"How they ended: 3 completed, 1 stopped, 1 incomplete." (reasons kept apart)."""
    counts: dict[str, int] = {}
    for s in summaries:
        key = s.end_reason or "running"
        counts[key] = counts.get(key, 0) + 1
    order = ["completed", "stopped", "incomplete", "fault", "signal", "killed"]
    keys = [k for k in order if k in counts] + sorted(k for k in counts if k not in order)
    return "How they ended: " + ", ".join(f"{counts[k]} {k}" for k in keys) + "."


def _week_start(when: datetime) -> date:
    day = when.date()
    return day - timedelta(days=day.weekday())


def practice_per_week_chart(summaries: Sequence[SessionSummary]) -> Chart:
    """How many sessions of each script were done in each calendar week."""
    title = "Practice per script per week"
    headers = ("Week starting", "Script", "Sessions", "Minutes")
    counts: dict[tuple[date, str], list[float]] = {}
    for s in summaries:
        counts.setdefault((_week_start(s.started_at), s.script), []).append(s.minutes)
    weeks = sorted({week for week, _ in counts})
    scripts = sorted({script for _, script in counts})
    table = tuple((week.isoformat(), script, str(len(counts[week, script])),
                   f"{sum(counts[week, script]):.1f}")
                  for week in weeks for script in scripts if (week, script) in counts)
    if not counts:
        return Chart(title, "No sessions.", headers, table, note="No sessions.")
    described = []
    for week in weeks[-6:]:
        per = ", ".join(f"{script} {len(counts[week, script])}" for script in scripts
                        if (week, script) in counts)
        described.append(f"week of {week.isoformat()}: {per}")
    alt = (f"Bar chart of sessions per week for each script, {len(weeks)} "
           f"week{'s' if len(weeks) != 1 else ''}"
           f"{' (the last six described)' if len(weeks) > 6 else ''}: "
           + "; ".join(described) + ".")
    fig = _new_figure()
    ax = fig.add_subplot()
    width = 0.8 / len(scripts)
    hatches = ("", "//", "..", "xx", "\\\\", "oo")  # shapes as well as colours
    for i, script in enumerate(scripts):
        heights = [len(counts.get((week, script), [])) for week in weeks]
        ax.bar([w + i * width - 0.4 + width / 2 for w in range(len(weeks))], heights,
               width=width, label=script, hatch=hatches[i % len(hatches)],
               edgecolor="black")
    ax.set_xticks(range(len(weeks)), [week.strftime("%d %b") for week in weeks])
    ax.set_xlabel("week starting")
    ax.set_ylabel("sessions")
    ax.set_ylim(0, max(len(v) for v in counts.values()) + 0.5)
    ax.yaxis.get_major_locator().set_params(integer=True)
    ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), frameon=False)
    return Chart(title, alt, headers, table, png=_png(fig))


# ---------------------------------------------------------------- choosing and writing


def choose_sessions(store: RecordStore, *, session_id: int | None = None, last: bool = False,
                    days: float | None = None) -> ReportContent:
    """Which sessions the report covers, from the command's choice."""
    if session_id is not None or last:
        one = store.session(session_id) if session_id is not None else store.last_session()
        start = one.started_at - timedelta(days=DEFAULT_DAYS)
        across = _started(store, [s for s in store.sessions()
                                  if start <= s.started_at <= one.started_at], keep=one)
        return ReportContent(f"Session report: {one.script}, {one.started_at:%Y-%m-%d}",
                             f"Session {one.id}, with the {DEFAULT_DAYS} days before it.",
                             (one,), across)
    span = days if days is not None else DEFAULT_DAYS
    across = _started(store, store.sessions(days=span))
    if not across:
        raise RecordError(f"No sessions were recorded in the last {span:g} days.",
                          hint="Choose more days with --days, or see 'voice-imrs history'.")
    focus = across[-MAX_SESSION_CHARTS:]
    notes: tuple[str, ...] = ()
    if len(across) > len(focus):
        notes = (f"Distress is drawn for the {len(focus)} most recent of the {len(across)} "
                 "sessions; the charts across days include them all.",)
    return ReportContent(f"Practice report: the last {span:g} days",
                         f"{len(across)} session{'s' if len(across) != 1 else ''} in the "
                         f"last {span:g} days.", focus, across, notes)


def _started(store: RecordStore, summaries: Sequence[SessionSummary],
             keep: SessionSummary | None = None) -> tuple[SessionSummary, ...]:
    """The sessions that began: a start that failed (a device missing, say) left a record
    without a single event, which is not a session the client did.
    """
    kept = keep.id if keep is not None else None
    return tuple(s for s in summaries if s.id == kept or store.events(s.id))


def build_charts(store: RecordStore, content: ReportContent) -> tuple[list[Chart], list[Chart]]:
    """(one distress chart per focus session, the charts across days)."""
    per_session = [distress_chart(s, store.events(s.id)) for s in content.focus]
    across = [ratings_across_days_chart(content.across), practice_per_week_chart(content.across)]
    return per_session, across


_CSS = """
body { font-family: system-ui, sans-serif; max-width: 60rem; margin: 2rem auto;
       padding: 0 1rem; line-height: 1.5; color: #111; background: #fff; }
img { max-width: 100%; height: auto; }
table { border-collapse: collapse; margin: 0.5rem 0 2rem; }
th, td { border: 1px solid #666; padding: 0.2rem 0.6rem; text-align: left; }
caption { text-align: left; font-weight: bold; }
"""


def _chart_html(chart: Chart, level: int, anchor: str) -> str:
    e = html.escape
    parts = [f'<section aria-labelledby="{anchor}">',
             f'<h{level} id="{anchor}">{e(chart.title)}</h{level}>']
    if chart.png is not None:
        data = base64.b64encode(chart.png).decode("ascii")
        # The description lives in alt only: a visible caption repeating it would be read
        # twice by a screen reader; sighted readers have the table just below.
        parts.append(f'<p><img src="data:image/png;base64,{data}" alt="{e(chart.alt)}"></p>')
    else:
        parts.append(f"<p>{e(chart.note)}</p>")
    if chart.rows:
        head = "".join(f'<th scope="col">{e(h)}</th>' for h in chart.headers)
        body = "".join("<tr>" + "".join(f"<td>{e(c)}</td>" for c in row) + "</tr>"
                       for row in chart.rows)
        parts.append(f"<table><caption>Data of the chart: {e(chart.title)}</caption>"
                     f"<thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>")
    parts.append("</section>")
    return "\n".join(parts)


def render_html(content: ReportContent, per_session: Sequence[Chart],
                across: Sequence[Chart], *, generated: datetime | None = None,
                by_part: Mapping[int, str] | None = None) -> str:
    """The whole page as one string; ``by_part``: session id -> its parts table (HTML)."""
    e = html.escape
    generated = generated or datetime.now().astimezone()
    out = ["<!DOCTYPE html>", '<html lang="en">', "<head>", '<meta charset="utf-8">',
           '<meta name="viewport" content="width=device-width, initial-scale=1">',
           f"<title>{e(content.title)}</title>", f"<style>{_CSS}</style>", "</head>",
           "<body>", "<main>", f"<h1>{e(content.title)}</h1>",
           f"<p>{e(content.scope)} Made on {generated:%Y-%m-%d %H:%M}. Distress is rated "
           "from 0 (calm) to 10 (the worst imaginable). This page holds private health "
           "information: share it only with people you choose.</p>",
           f"<p>{e(endings_line(content.across))}</p>"]
    out += [f"<p>{e(note)}</p>" for note in content.notes]
    out.append('<section aria-labelledby="during"><h2 id="during">Distress during the '
               "session" + ("s" if len(per_session) != 1 else "") + "</h2>")
    out += [_chart_html(chart, 3, f"session-{s.id}") + (by_part or {}).get(s.id, "")
            for chart, s in zip(per_session, content.focus, strict=True)]
    out.append("</section>")
    out.append('<section aria-labelledby="across"><h2 id="across">Across days</h2>')
    out += [_chart_html(chart, 3, f"across-{i}") for i, chart in enumerate(across)]
    out += ["</section>", "</main>", "</body>", "</html>"]
    return "\n".join(out) + "\n"


def write_report(store: RecordStore, out: Path, *, session_id: int | None = None,
                 last: bool = False, days: float | None = None) -> Path:
    """Build the report for the chosen sessions and write it to ``out`` (user-only, 0600)."""
    content = choose_sessions(store, session_id=session_id, last=last, days=days)
    per_session, across = build_charts(store, content)
    from voice_imrs.console.phase_report import parts_html  # the console's per-part view

    by_part = {s.id: parts_html(s, store.events(s.id)) for s in content.focus}
    page = render_html(content, per_session, across, by_part=by_part)
    write_private_text(out, page, what="the report")
    return out


def write_private_text(out: Path, text: str, *, what: str) -> None:
    """Write ``text`` to ``out`` readable by the user only; a clear error if that fails."""
    try:
        from voice_imrs.private_files import open_private

        # Also narrows a file that existed with wider permissions (0644 from elsewhere).
        with open_private(out, "w") as stream:
            stream.write(text)
    except OSError as error:
        raise RecordError(f"Cannot write {what} to {out}: {error.strerror}.",
                          hint="Choose another path with --out.") from error
