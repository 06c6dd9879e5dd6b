"""Wording: placeholders, perspective and eyes alternatives, undefined placeholders."""

from __future__ import annotations

import pytest

from voice_imrs.core.wording import placeholders, render_text, wording_problems
from voice_imrs.errors import ScriptError

VARS = {"safe_place": "a quiet beach", "helper": "your adult self", "name": "Sam"}


@pytest.mark.parametrize(("text", "perspective", "eyes", "expected"), [
    ("Go to {safe_place}.", "first", "closed", "Go to a quiet beach."),
    ("{helper} arrives, {name}.", "first", "closed", "your adult self arrives, Sam."),
    ("[first: See it through your own eyes | third: Watch your younger self from a little "
     "distance].", "first", "closed", "See it through your own eyes."),
    ("[first: See it through your own eyes | third: Watch your younger self from a little "
     "distance].", "third", "closed", "Watch your younger self from a little distance."),
    ("[closed: Let your eyes close. | open: Rest your gaze.] Breathe.", "first", "closed",
     "Let your eyes close. Breathe."),
    ("[closed: Let your eyes close. | open: Rest your gaze.] Breathe.", "first", "open",
     "Rest your gaze. Breathe."),
    ("Watch it [third: from a little distance] now.", "first", "open", "Watch it now."),
    ("Watch it [third: from a little distance] now.", "third", "open",
     "Watch it from a little distance now."),
    ("[first: You go to {safe_place} | third: They go to {safe_place}].", "third", "closed",
     "They go to a quiet beach."),
    ("[ FIRST : upper case keys work | third: x]", "first", "closed", "upper case keys work"),
    ("Plain [brackets] stay, {{braces}} too.", "first", "closed",
     "Plain [brackets] stay, {braces} too."),
    ("Both [first: mine | third: theirs] and [closed: dark | open: light].", "third", "open",
     "Both theirs and light."),
])
def test_render_text(text: str, perspective: str, eyes: str, expected: str) -> None:
    assert render_text(text, VARS, perspective, eyes) == expected


@pytest.mark.parametrize(("text", "expected"), [
    ("No placeholders.", set()),
    ("{safe_place} and {helper}", {"safe_place", "helper"}),
    ("[first: {a} | third: {b}] {c}", {"a", "b", "c"}),
    ("{{not_a_placeholder}}", set()),
])
def test_placeholders(text: str, expected: set[str]) -> None:
    assert placeholders(text) == expected


def test_undefined_placeholder_names_it() -> None:
    with pytest.raises(ScriptError, match=r"\{favourite_tree\}"):
        render_text("Picture {favourite_tree}.", VARS, "first", "closed")


@pytest.mark.parametrize(("perspective", "eyes", "word"), [
    ("second", "closed", "perspective"), ("first", "half", "eyes")])
def test_unknown_settings_are_named(perspective: str, eyes: str, word: str) -> None:
    with pytest.raises(ScriptError, match=word):
        render_text("Hello.", VARS, perspective, eyes)


@pytest.mark.parametrize(("text", "fragment"), [
    ("[first: a | open: b]", "mixes perspective and eyes"),
    ("[live: a | closed: b]", "mixes delivery and eyes"),
    ("[first: a | first: b]", "twice"),
    ("[first: a | sideways b]", "does not start with"),
    ("[first: never closed", "no closing"),
    ("A lone { brace", "lone brace"),
])
def test_wording_problems(text: str, fragment: str) -> None:
    problems = wording_problems(text)
    assert problems and fragment in " ".join(problems)


def test_sound_text_has_no_problems() -> None:
    assert wording_problems("[first: a | third: b] [closed: c | open: d] {x} {{y}}") == []
