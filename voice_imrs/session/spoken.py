"""One spoken question or sentence outside an exercise, and what a conversation answered.

A question ("delete everything?", "ground first?") is a tiny script run live, so stop,
silence, the keyboard and captions behave as in every exercise. Nothing here is recorded.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import replace

from voice_imrs.core.events import LogEvent
from voice_imrs.core.profile import Profile
from voice_imrs.core.script import AskYesNo, End, Say, Script
from voice_imrs.session.live import LiveOptions, run_live

Observer = Callable[[LogEvent], None]


class Answers:
    """An observer that keeps what a conversation was told.

    by_step: the last answer given at each question step ("yes", "no", a choice's value,
      a rating as text).
    settings: the last value of every variable the session set, and of the voice settings
      changed by voice (``rate_wpm``, ``volume``).
    """

    def __init__(self) -> None:
        self.by_step: dict[str, str] = {}
        self.settings: dict[str, str] = {}

    def __call__(self, event: LogEvent) -> None:
        if event.event == "setting":
            self.settings[str(event.fields.get("name"))] = str(event.fields.get("value"))
        elif event.event == "rating" and event.step:
            self.by_step[event.step] = str(event.fields.get("value"))
        elif event.event == "intent" and event.step:
            kind = event.fields.get("intent")
            if kind in ("yes", "no"):
                self.by_step[event.step] = str(kind)
            elif kind == "choice":
                self.by_step[event.step] = str(event.fields.get("value"))


def ask_yes(question: str, profile: Profile, options: LiveOptions,
            observers: Sequence[Observer] = ()) -> bool:
    """Ask ``question`` aloud; True only for a yes (a no, a stop or silence is a no)."""
    answers = Answers()
    options = replace(options, background="none")  # a question, not an exercise
    ask = Script("ask", "Question", (AskYesNo("ask", question), End("ask_end")))
    reason = run_live(ask, profile, options, [*observers, answers])
    return reason == "completed" and answers.by_step.get("ask") == "yes"


def say(text: str, profile: Profile, options: LiveOptions,
        observers: Sequence[Observer] = ()) -> str:
    """Speak ``text`` as a one-step session (captioned, stoppable); return the end reason."""
    options = replace(options, background="none")
    return run_live(Script("said", "Said", (Say("said", text), End("said_end"))),
                    profile, options, list(observers))
