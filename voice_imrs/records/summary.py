"""A short spoken summary of a session: where distress went, and how often the user practised.

Written to be heard, not read: numbers as words, short sentences. It reports and never
judges: no streaks, no counting of missed days, no praise that a missed day would take away.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from voice_imrs.core.events import LogEvent
from voice_imrs.core.intents import NUMBER_NAMES
from voice_imrs.records.store import RecordStore, SessionSummary, is_distress_rating

_ONES = (*NUMBER_NAMES, "eleven", "twelve", "thirteen", "fourteen", "fifteen", "sixteen",
         "seventeen", "eighteen", "nineteen")
_TENS = ("", "", "twenty", "thirty", "forty", "fifty", "sixty", "seventy", "eighty", "ninety")
_ORDINAL_ENDINGS = {"one": "first", "two": "second", "three": "third", "five": "fifth",
                    "eight": "eighth", "nine": "ninth", "twelve": "twelfth"}


def number_words(n: int) -> str:
    """0..999 in words ("seven", "forty-two"); larger numbers as digits."""
    if n < 0 or n > 999:
        return str(n)
    if n < 20:
        return _ONES[n]
    if n < 100:
        tens, ones = divmod(n, 10)
        return _TENS[tens] + (f"-{_ONES[ones]}" if ones else "")
    hundreds, rest = divmod(n, 100)
    return f"{_ONES[hundreds]} hundred" + (f" and {number_words(rest)}" if rest else "")


def ordinal_words(n: int) -> str:
    """1..999 as an ordinal in words ("fifth", "twenty-first")."""
    words = number_words(n)
    if not words[0].isalpha():
        return f"{n}th"
    head, sep, last = words.rpartition("-") if "-" in words else words.rpartition(" ")
    if last in _ORDINAL_ENDINGS:
        last = _ORDINAL_ENDINGS[last]
    elif last.endswith("y"):
        last = last[:-1] + "ieth"
    else:
        last += "th"
    return f"{head}{sep}{last}"


def _distress_sentence(ratings: Sequence[int]) -> str:
    if not ratings:
        return ""
    first, last = ratings[0], ratings[-1]
    if len(ratings) == 1:
        return f"Your distress was at {number_words(first)}."
    if first == last:
        return f"Your distress was at {number_words(first)} at the start and at the end."
    return f"Your distress went from {number_words(first)} to {number_words(last)}."


def _practice_sentence(recent: Sequence[SessionSummary], now: datetime,
                       current_session_id: int | None) -> str:
    week = now.isocalendar()[:2]
    earlier = [s for s in recent if s.id != current_session_id
               and s.started_at.astimezone(now.tzinfo).isocalendar()[:2] == week
               and s.started_at <= now]
    return f"This was your {ordinal_words(len(earlier) + 1)} practice this week."


def spoken_summary(session_events: Sequence[LogEvent], recent_sessions: Sequence[SessionSummary],
                   *, now: datetime | None = None, current_session_id: int | None = None) -> str:
    """What to say at the end of a session, or on request.

    ``session_events``: this session's events. ``recent_sessions``: the user's recorded
    sessions (the current one may be among them: pass ``current_session_id`` so it is counted
    once). "This week" is the calendar week of ``now`` (default: the current time).
    """
    now = (now or datetime.now()).astimezone()
    ratings = [int(e.fields["value"]) for e in session_events
               if is_distress_rating(e.event, e.fields)]
    sentences = [_distress_sentence(ratings)]
    ends = [e.fields.get("reason") for e in session_events if e.event == "session_end"]
    if ends and ends[-1] == "incomplete":
        # Said plainly, without judging: stopping early is part of doing this safely.
        sentences.append("The session ended before the end of the exercise, as incomplete; "
                         "that is all right, and worth telling your therapist.")
    if ratings and ratings[-1] >= 8:
        # Said as an option, not an instruction: the session has already ended grounded.
        sentences.append("If it still feels strong, the grounding exercise is there for you.")
    sentences.append(_practice_sentence(recent_sessions, now, current_session_id))
    return " ".join(s for s in sentences if s)


def summary_of(store: RecordStore, session_id: int | None = None) -> str:
    """The spoken summary of one recorded session (default: the most recent)."""
    one = store.session(session_id) if session_id is not None else store.last_session()
    return spoken_summary(store.events(one.id), store.sessions(), now=one.started_at,
                          current_session_id=one.id)
