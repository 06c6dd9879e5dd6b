"""The engine's own short sentences: reprompts, read-backs, help and check-ins. Pure.

Kept apart from the decision logic so the wording can be read (and reviewed by a
clinician) in one place. Every sentence names only what the client can say or check now.
"""

from __future__ import annotations

from voice_imrs.core.intents import NUMBER_NAMES, Expectation

#: The dissociation check after silence at a question, or through long imagery pauses.
FEET_CHECK = "Can you feel your feet on the floor? Say yes, or press y."
QUIET_CHECK = "Just checking in. If you can hear me, say yes, or press y."
READY_CHECK = "Take all the time you need. Say ready when it is done, or press Enter."


def read_back(value: int) -> str:
    """The brief read-back of an accepted rating, so the client hears what was taken."""
    return NUMBER_NAMES[value].capitalize() + "."


def confirm_rating(value: int) -> str:
    return f"I heard {NUMBER_NAMES[value]}. Is that right?"


def accepted_now(expect: Expectation) -> str:
    """What can be accepted now, as one sentence ("Say a number from zero to ten, or stop.")."""
    if "rating" in expect.kinds:
        return "Say a number from zero to ten, or stop."
    if "choice" in expect.kinds:
        return "You can say " + _or_list(_choice_names(expect)) + ", or stop."
    if {"yes", "no"} & expect.kinds:
        return "Say yes or no, or stop."
    return "Say ready when you are ready, or stop."


def shorter(expect: Expectation) -> str:
    """The second, shorter reprompt after a miss."""
    if "rating" in expect.kinds:
        return "A number, zero to ten."
    if "choice" in expect.kinds:
        return _or_list(_choice_names(expect)) + "?"
    if {"yes", "no"} & expect.kinds:
        return "Yes, or no?"
    return "Say ready."


def keyboard_hint(expect: Expectation) -> str:
    """The third reprompt: the keys that answer the same question."""
    if "rating" in expect.kinds:
        answer = "type the number"
    elif {"yes", "no"} & expect.kinds:
        answer = "press y for yes or n for no"
    elif "choice" in expect.kinds:
        answer = "type your answer and press Enter"
    else:
        answer = "press Enter when you are ready"
    return f"You can also use the keyboard: {answer}. The space bar stops at any moment."


def silence_prompt(count: int, expect: Expectation) -> str:
    """The reprompt after the ``count``-th silence (1 or 2)."""
    if count == 1:
        return "Take your time. " + accepted_now(expect)
    return shorter(expect) + " Or say stop."


def help_text(expect: Expectation) -> str:
    """A short spoken list of what works now ("help", "what can I say")."""
    now = accepted_now(expect) if expect.kinds else ""
    return ("You can say stop at any moment, and I will stop. " + now +
            " You can also say pause, repeat, slower, faster, louder or softer.").replace(
                "  ", " ")


def _choice_names(expect: Expectation) -> list[str]:
    return [phrases[0] for _, phrases in expect.choices if phrases]


def _or_list(names: list[str]) -> str:
    if len(names) <= 1:
        return "".join(names)
    return ", ".join(names[:-1]) + " or " + names[-1]
