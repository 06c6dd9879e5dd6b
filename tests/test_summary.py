"""The spoken summary: numbers as words, practice this week, and nothing that judges."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from test_records_store import cli, record, session_events

from voice_imrs.core.events import LogEvent
from voice_imrs.records.store import SessionSummary
from voice_imrs.records.summary import number_words, ordinal_words, spoken_summary

NOW = datetime(2024, 5, 9, 18, 0, tzinfo=timezone.utc)  # a Thursday
JUDGING = ("streak", "great", "well done", "good job", "missed", "only", "again", "proud",
           "should", "!")


def _session(session_id: int, when: datetime) -> SessionSummary:
    return SessionSummary(id=session_id, script="safe_place", mode="homework", started_at=when,
                          ended_at=when + timedelta(minutes=5), end_reason="completed",
                          pid=None, duration_s=300.0, ratings=(5, 3))


@pytest.mark.parametrize(("n", "words"), [
    (0, "zero"), (7, "seven"), (10, "ten"), (13, "thirteen"), (20, "twenty"),
    (42, "forty-two"), (100, "one hundred"), (115, "one hundred and fifteen"),
])
def test_number_words(n: int, words: str) -> None:
    assert number_words(n) == words


@pytest.mark.parametrize(("n", "words"), [
    (1, "first"), (2, "second"), (3, "third"), (5, "fifth"), (8, "eighth"), (9, "ninth"),
    (12, "twelfth"), (20, "twentieth"), (21, "twenty-first"), (33, "thirty-third"),
])
def test_ordinal_words(n: int, words: str) -> None:
    assert ordinal_words(n) == words


def test_distress_went_from_seven_to_three_and_fifth_practice_this_week() -> None:
    week = [_session(i, NOW - timedelta(days=d)) for i, d in enumerate((3, 2, 1, 0.5), 1)]
    older = [_session(10, NOW - timedelta(days=8)), _session(11, NOW - timedelta(days=20))]
    text = spoken_summary(session_events((7, 8, 3)), older + week, now=NOW)
    assert text == ("Your distress went from seven to three. "
                    "This was your fifth practice this week.")


def test_the_current_session_is_counted_once() -> None:
    current = _session(7, NOW - timedelta(minutes=6))
    text = spoken_summary(session_events((4, 6)), [current], now=NOW, current_session_id=7)
    assert text == ("Your distress went from four to six. "
                    "This was your first practice this week.")


def test_same_single_and_high_ratings() -> None:
    assert spoken_summary(session_events((4, 4)), [], now=NOW).startswith(
        "Your distress was at four at the start and at the end.")
    assert spoken_summary(session_events((6,), stop=False), [], now=NOW).startswith(
        "Your distress was at six.")
    high = spoken_summary(session_events((5, 9)), [], now=NOW)
    assert "from five to nine" in high and "grounding exercise" in high


def test_no_ratings_is_neutral() -> None:
    events = [LogEvent(0.0, "session_start", None, {"script": "breathing"}),
              LogEvent(120.0, "session_end", "grounding_close", {"reason": "completed"})]
    assert spoken_summary(events, [], now=NOW) == "This was your first practice this week."


def test_a_belief_rating_is_not_distress() -> None:
    events = [LogEvent(1.0, "rating", "belief", {"value": 9, "scale": "belief"})]
    assert "distress" not in spoken_summary(events, [], now=NOW)


def test_nothing_judges_or_counts_missed_days() -> None:
    gap = [_session(1, NOW - timedelta(days=30))]  # a long pause: nothing to say about it
    texts = [spoken_summary(session_events(r), gap, now=NOW)
             for r in ((), (3,), (7, 3), (2, 9), (5, 5))]
    for text in texts:
        assert not any(word in text.lower() for word in JUDGING), text
        assert not any(ch.isdigit() for ch in text), text


def test_cli_summary_of_the_last_and_an_unknown_session(tmp_path: Path) -> None:
    folder = tmp_path / "data"
    record(folder, session_events((4, 2), stop=False, script="grounding"))
    record(folder, session_events((7, 8, 3)))
    result = cli(folder, "summary")
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("Your distress went from seven to three.")
    assert "practice this week" in result.stdout
    unknown = cli(folder, "summary", "--session", "9")
    assert unknown.returncode == 8 and "Traceback" not in unknown.stderr
    assert "no recorded session 9" in unknown.stderr
