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
import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

from voice_imrs.core.events import LogEvent, is_grounding_step
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
    whole = int(round(seconds))
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


def _grounding_spans(events: Sequence[LogEvent]) -> list[tuple[float, float]]:
    spans: list[tuple[float, float]] = []
    start: float | None = None
    for event in events:
        if event.event == "step":
            if is_grounding_step(event.step) and start is None:
                start = event.t
            elif not is_grounding_step(event.step) and start is not None:
                spans.append((start, event.t))
                start = None
    if start is not None:
        spans.append((start, events[-1].t if events else start))
    return spans


def _is_stop(event: LogEvent) -> bool:
    return ((event.event == "intent" and event.fields.get("intent") == "stop")
            or (event.event == "interrupted" and event.fields.get("by") == "stop"))


def _is_marked_branch(event: LogEvent) -> bool:
    # A "jump" is the script's own flow; the branches worth marking are those the session
    # took because of the user (a rating, a stop, silence, a signal).
    return event.event == "branch" and event.fields.get("reason") != "jump"


def distress_chart(summary: SessionSummary, events: Sequence[LogEvent]) -> Chart:
    """Distress ratings over one session, with stops, branches and grounding marked."""
    ratings = [(e.t, int(e.fields["value"])) for e in events
               if is_distress_rating(e.event, e.fields)]
    stops = [e.t for e in events if e.event == "intent" and _is_stop(e)]
    if not stops:
        stops = [e.t for e in events if _is_stop(e)]
    branches = [e for e in events if _is_marked_branch(e)]
    spans = _grounding_spans(events)
    title = f"Session {summary.id}: {summary.script}, {summary.started_at:%Y-%m-%d %H:%M}"

    rows: list[tuple[float, str, str]] = [(t, "distress rating", str(v)) for t, v in ratings]
    rows += [(t, "stop", "") for t in stops]
    rows += [(e.t, "branch", f"to {e.fields.get('to')} ({e.fields.get('reason')})")
             for e in branches]
    for begin, end in spans:
        rows += [(begin, "grounding began", ""), (end, "grounding ended", "")]
    rows.sort(key=lambda row: row[0])
    table = tuple((clock(t), what, value) for t, what, value in rows)

    parts = [f"Line chart of distress ratings from 0 to 10 against minutes into the "
             f"{summary.script} session of {summary.started_at:%Y-%m-%d}."]
    if ratings:
        values = [v for _, v in ratings]
        parts.append(f"{len(values)} rating{'s' if len(values) != 1 else ''}: first {values[0]}"
                     f" at {clock(ratings[0][0])}, highest {max(values)}, last {values[-1]} "
                     f"at {clock(ratings[-1][0])}.")
    else:
        parts.append("No ratings were given.")
    if stops:
        parts.append("Stop at " + ", ".join(clock(t) for t in stops) + ".")
    if branches:
        parts.append(f"{len(branches)} branch{'es' if len(branches) != 1 else ''} marked.")
    if spans:
        parts.append("Grounding " + ", ".join(f"from {clock(a)} to {clock(b)}"
                                               for a, b in spans) + ".")
    parts.append(f"The session ended: {how_it_ended(summary.end_reason)}.")
    alt = " ".join(parts)
    headers = ("Time (m:ss)", "What", "Value")
    if not (ratings or stops or branches or spans):
        return Chart(title, alt, headers, table,
                     note="Nothing to draw: no ratings, stops, branches or grounding.")

    fig = _new_figure()
    ax = fig.add_subplot()
    for begin, end in spans:
        ax.axvspan(begin / 60, max(end, begin + 1) / 60, color="#9ecae1", alpha=0.5,
                   label="grounding" if begin == spans[0][0] else None)
    if ratings:
        ax.plot([t / 60 for t, _ in ratings], [v for _, v in ratings], marker="o",
                color="#08306b", linewidth=2, label="distress")
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
    ax.grid(True, alpha=0.3)
    ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), frameon=False)
    return Chart(title, alt, headers, table, png=_png(fig))


# ---------------------------------------------------------------- across days


def ratings_across_days_chart(summaries: Sequence[SessionSummary]) -> Chart:
    """First, peak and last distress rating of each session, across homework days."""
    rated = [s for s in summaries if s.ratings]
    title = "First, peak and last distress rating per session"
    headers = ("Date", "Session", "Script", "First", "Peak", "Last")
    table = tuple((s.started_at.strftime("%Y-%m-%d %H:%M"), str(s.id), s.script,
                   str(s.first), str(s.peak), str(s.last)) for s in rated)
    if not rated:
        return Chart(title, "No ratings were given in these sessions.", headers, table,
                     note="No ratings were given in these sessions.")
    alt = (f"Chart of the first, peak and last distress rating (0 to 10) of {len(rated)} "
           f"session{'s' if len(rated) != 1 else ''} from {_day(rated[0])} to "
           f"{_day(rated[-1])}. First ratings ranged from {min(s.first or 0 for s in rated)} "
           f"to {max(s.first or 0 for s in rated)}; last ratings from "
           f"{min(s.last or 0 for s in rated)} to {max(s.last or 0 for s in rated)}. "
           f"Most recent session: first {rated[-1].first}, peak {rated[-1].peak}, "
           f"last {rated[-1].last}.")
    fig = _new_figure()
    ax = fig.add_subplot()
    x = [s.started_at for s in rated]
    ax.plot(x, [s.first for s in rated], marker="o", linestyle="-", color="#08519c",
            label="first")
    ax.plot(x, [s.peak for s in rated], marker="^", linestyle=":", color="#a50f15",
            label="peak")
    ax.plot(x, [s.last for s in rated], marker="s", linestyle="--", color="#006d2c",
            label="last")
    ax.set_ylim(-0.3, 10.5)
    ax.set_yticks(range(0, 11, 2))
    ax.set_ylabel("distress (0 to 10)")
    ax.set_xlabel("session date")
    ax.grid(True, alpha=0.3)
    ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), frameon=False)
    fig.autofmt_xdate()
    return Chart(title, alt, headers, table, png=_png(fig))


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
        across = tuple(s for s in store.sessions() if start <= s.started_at <= one.started_at)
        return ReportContent(f"Session report: {one.script}, {one.started_at:%Y-%m-%d}",
                             f"Session {one.id}, with the {DEFAULT_DAYS} days before it.",
                             (one,), across)
    span = days if days is not None else DEFAULT_DAYS
    across = tuple(store.sessions(days=span))
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
                across: Sequence[Chart], *, generated: datetime | None = None) -> str:
    """The whole page as one string."""
    e = html.escape
    generated = generated or datetime.now().astimezone()
    out = ["<!DOCTYPE html>", '<html lang="en">', "<head>", '<meta charset="utf-8">',
           '<meta name="viewport" content="width=device-width, initial-scale=1">',
           f"<title>{e(content.title)}</title>", f"<style>{_CSS}</style>", "</head>",
           "<body>", "<main>", f"<h1>{e(content.title)}</h1>",
           f"<p>{e(content.scope)} Made on {generated:%Y-%m-%d %H:%M}. Distress is rated "
           "from 0 (calm) to 10 (the worst imaginable). This page holds private health "
           "information: share it only with people you choose.</p>"]
    out += [f"<p>{e(note)}</p>" for note in content.notes]
    out.append('<section aria-labelledby="during"><h2 id="during">Distress during the '
               "session" + ("s" if len(per_session) != 1 else "") + "</h2>")
    out += [_chart_html(chart, 3, f"session-{s.id}")
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
    page = render_html(content, per_session, across)
    write_private_text(out, page, what="the report")
    return out


def write_private_text(out: Path, text: str, *, what: str) -> None:
    """Write ``text`` to ``out`` readable by the user only; a clear error if that fails."""
    try:
        fd = os.open(out, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as stream:
            stream.write(text)
    except OSError as error:
        raise RecordError(f"Cannot write {what} to {out}: {error.strerror}.",
                          hint="Choose another path with --out.") from error
