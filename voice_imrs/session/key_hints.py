"""The key hint said after a question: "Or press 1 for the wise adult, 2 for ...".

Every question can be answered by keys, and the hint says so once: for a choice the first
time that question is asked in a session (its numbers are its own), for ratings and yes/no
questions the first time one is asked (the keys are the same every time). Reprompts and
repeats leave it out, so an ear is not told the same keys over and over.

The hint is spoken as a piece of its own after the question's prompt, so a therapist's
recorded take of the question still fits its text.
"""

from __future__ import annotations

from collections.abc import Sequence

from voice_imrs.core.intents import Expectation
from voice_imrs.core.script import AskChoice, AskRating, AskYesNo, Step

#: (value, phrases) of each option, in the order the keys number them.
Options = Sequence[tuple[str, Sequence[str]]]

RATING_HINT = "Or press a number key."
YES_NO_HINT = "Or press y for yes, n for no."
#: A choice longer than this is hinted by its first option only: the list is in the prompt.
MAX_LISTED = 4


def choice_hint(options: Options) -> str | None:
    """"Or press 1 for X, 2 for Y." for ``options``; None when the prompt numbers them."""
    if not options:
        return None
    if all(str(i) in phrases for i, (_, phrases) in enumerate(options, start=1)):
        return None  # the prompt says the numbers itself (the menu)
    names = [phrases[0] if phrases else value.replace("_", " ") for value, phrases in options]
    if len(names) > MAX_LISTED:
        return f"Or press 1 for {names[0]}, and so on, up to {len(names)}."
    listed = [f"{i} for {name}" for i, name in enumerate(names, start=1)]
    body = listed[0] if len(listed) == 1 else ", ".join(listed[:-1]) + ", or " + listed[-1]
    return f"Or press {body}."


class KeyHints:
    """Decides the hint for each question as it is first asked in one session."""

    def __init__(self) -> None:
        self._said: set[str] = set()

    def hint(self, step: Step | None, expect: Expectation | None = None) -> str | None:
        """The hint to say after ``step``'s prompt now, or None.

        ``expect``: what the engine accepts now; its choices are the ones the keys number
        (a helper question may offer the client's own figures beside the script's).
        """
        if isinstance(step, AskChoice):
            offered: Options = (expect.choices if expect is not None and expect.choices
                                else [(o.value, o.phrases) for o in step.options])
            key, text = f"choice:{step.id}", choice_hint(offered)
        elif isinstance(step, AskRating):
            key, text = "rating", RATING_HINT
        elif isinstance(step, AskYesNo):
            key, text = "yes_no", YES_NO_HINT
        else:
            return None
        if text is None or key in self._said:
            return None
        self._said.add(key)
        return text
