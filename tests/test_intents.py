"""Words to intents, table by table: ``interpret()`` called directly.

Unclear is never yes: hedges and negated yeses never come out as ``yes``, whatever the
question; choices are not picked by a negated phrase; distress in words stops.
"""

from __future__ import annotations

import pytest

from voice_imrs.core.intents import (
    NOTHING,
    RATING,
    READY,
    YES_NO,
    Expectation,
    interpret,
    yes_no_of,
)

HEDGES = ["not sure", "I'm not sure", "I am not sure", "I don't know", "maybe", "Maybe.",
          "perhaps", "I guess so", "sort of", "yes maybe", "maybe yes", "I think so",
          "dunno", "okay maybe", "sure, I guess"]
NEGATED = ["not okay", "not okay with that", "not right now", "no", "nope", "not really",
           "not now", "no thanks", "I don't want that", "not yet", "no, not yes",
           "yes, but not now", "I can't"]
CLEAR_YES = ["yes", "Yes.", "yeah", "yep", "okay", "sure", "ok", "that's right", "yes please",
             "I do", "correct"]
HELPER = Expectation(frozenset({"choice"}), (
    ("protector", ("a protector", "protector")),
    ("adult", ("my adult self", "adult self")),
    ("go_on", ("go on", "continue")),
))


@pytest.mark.parametrize("text", HEDGES)
def test_hedges_are_unsure_never_yes(text: str) -> None:
    intent = interpret(text, YES_NO)
    assert intent is not None and intent.kind == "unsure", (text, intent)
    assert yes_no_of(text) == "unsure"


@pytest.mark.parametrize("text", NEGATED)
def test_negations_are_no_never_yes(text: str) -> None:
    intent = interpret(text, YES_NO)
    assert intent is not None and intent.kind in ("no", "unsure"), (text, intent)
    assert intent.kind != "yes"


@pytest.mark.parametrize("text", CLEAR_YES)
def test_only_a_clear_yes_is_yes(text: str) -> None:
    intent = interpret(text, YES_NO)
    assert intent is not None and intent.kind == "yes", (text, intent)


@pytest.mark.parametrize("expect", [NOTHING, RATING, READY, HELPER, YES_NO])
@pytest.mark.parametrize("text", [*HEDGES, *NEGATED])
def test_no_hedge_or_negation_is_yes_at_any_question(text: str, expect: Expectation) -> None:
    intent = interpret(text, expect)
    assert intent is None or intent.kind != "yes", (text, expect, intent)


@pytest.mark.parametrize(("text", "kind", "value"), [
    ("a protector", "choice", "protector"),
    ("my adult self please", "choice", "adult"),
    ("not the protector", "unknown", None),
    ("I don't want to go on", "unknown", None),
    ("not sure", "unknown", None),
    ("go on", "choice", "go_on"),
])
def test_a_negated_phrase_picks_no_choice(text: str, kind: str, value: str | None) -> None:
    intent = interpret(text, HELPER)
    assert intent is not None and (intent.kind, intent.value) == (kind, value), intent


@pytest.mark.parametrize(("text", "value"), [
    ("a protactor", "protector"),   # Whisper's spelling of espeak-ng's "a protector"
    ("protecter please", "protector"),
    ("my adult shelf", None),       # short words must match exactly: "self" is not long
    ("a prospector", None),         # two letters apart
    ("not the protactor", None),    # a negated option is still no choice
])
def test_a_long_option_word_heard_one_letter_off_names_it(text: str, value: str | None) -> None:
    intent = interpret(text, HELPER)
    assert intent is not None
    assert (intent.value if intent.kind == "choice" else None) == value, intent


@pytest.mark.parametrize(("text", "kind"), [
    ("too much", "stop"), ("it's too much", "stop"), ("I'm scared", "stop"),
    ("stop", "stop"), ("I need a break", "stop"),
    ("help", "help"), ("what can I say", "help"), ("what", "repeat"),
    ("not ready", "unknown"), ("ready", "ready"),
])
def test_distress_stops_and_help_is_a_command(text: str, kind: str) -> None:
    expect = READY if kind in ("ready", "unknown") else YES_NO
    intent = interpret(text, expect)
    assert intent is not None and intent.kind == kind, (text, intent)


@pytest.mark.parametrize(("text", "value"), [
    ("seven", 7), ("7", 7), ("about a six", 6), ("ten", 10), ("zero", 0),
    ("five or six", None), ("banana", None), ("I don't know", None), ("maybe", None),
])
def test_ratings_are_numbers_or_nothing(text: str, value: int | None) -> None:
    intent = interpret(text, RATING)
    assert intent is not None
    if value is None:
        assert intent.kind in ("unknown",), intent
    else:
        assert (intent.kind, intent.value) == ("rating", value)


def test_unknown_words_give_unknown_only_when_something_is_asked() -> None:
    assert interpret("banana", NOTHING) is None
    unknown = interpret("banana", YES_NO)
    assert unknown is not None and unknown.kind == "unknown"
