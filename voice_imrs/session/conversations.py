"""Short spoken conversations that are not exercises: the menu, the safety screen and the
short check before every other session.

Both are ordinary scripts built here, so they run through the same engine with the same
stop, silence and keyboard handling as every exercise.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace
from datetime import date

from voice_imrs.core.intents import NUMBER_NAMES
from voice_imrs.core.script import (
    AskChoice,
    AskYesNo,
    ChoiceOption,
    End,
    Say,
    Script,
    SetVar,
)

_ORDINALS = NUMBER_NAMES[1:]  # options are named "one" to "ten"
#: Short spoken names for the built-in exercises: seven titles in full take over 20 s to
#: hear, and the menu must be heard in under 15 s. Other scripts are named by their title.
MENU_NAMES = {
    "safe_place": "safe place", "paced_breathing": "breathing",
    "grounding_54321": "grounding", "anchor_phrase": "anchor",
    "micro_imagery": "kindness", "nightmare_rehearsal": "dream",
    "imrs_session": "rescripting",
}
#: Homework first in this order, then other homework scripts by name, then the ones a
#: therapist enables: enabling more never renumbers what a client already knows.
MENU_ORDER = ("safe_place", "paced_breathing", "grounding_54321", "anchor_phrase",
              "micro_imagery", "nightmare_rehearsal")
#: Words too common to pick an exercise on their own.
_COMMON = frozenset({"your", "practice", "session", "minute", "minutes", "exercise", "with",
                     "from", "the", "of", "a", "and", "new"})


def menu_order(scripts: Iterable[Script]) -> list[Script]:
    """The menu's stable order: homework (built-in order, then by name), then therapist."""
    def key(script: Script) -> tuple[int, int, str]:
        rank = MENU_ORDER.index(script.name) if script.name in MENU_ORDER else len(MENU_ORDER)
        return (script.mode != "homework", rank, script.name)

    return sorted(scripts, key=key)


def menu_name(script: Script) -> str:
    """What the menu calls ``script``."""
    return MENU_NAMES.get(script.name, script.title)


def _menu_phrases(script: Script, number: int, others: list[Script]) -> tuple[str, ...]:
    """Its number, spoken name, title and file name, and any word only it has."""
    spoken = menu_name(script).lower()
    phrases = [str(number), _ORDINALS[number - 1], spoken]
    # A title or file name with a number word in it ("grounding five four three two one")
    # would be read as that number's exercise: the first option that matches wins.
    phrases += [name for name in (script.title.lower(), script.name.replace("_", " "))
                if not set(name.split()) & set(_ORDINALS) and not any(c.isdigit() for c in name)]
    taken = {word for other in others if other is not script
             for word in f"{menu_name(other)} {other.title}".lower().split()}
    for word in f"{spoken} {script.title}".lower().split():
        if (len(word) > 3 and word not in _COMMON and word not in taken
                and word not in _ORDINALS and word not in phrases):
            phrases.append(word)
    return tuple(dict.fromkeys(phrases))


def menu_script(scripts: Iterable[Script]) -> Script:
    """A spoken menu that asks which exercise to do; the answer lands in ``exercise``.

    The exercises are said by name with their numbers, and understood by number (said or
    pressed), name, title or a word only one of them has ("breathing").
    """
    offered = menu_order(scripts)[: len(_ORDINALS)]
    # No comma between a number and its name: each comma is a pause, and the menu must
    # be heard in under 15 s even at a slow pace.
    listing = ", ".join(f"{_ORDINALS[i]} {menu_name(s)}" for i, s in enumerate(offered))
    options = tuple(ChoiceOption(s.name, _menu_phrases(s, i + 1, offered))
                    for i, s in enumerate(offered))
    return Script(
        name="menu", title="Menu",
        steps=(
            # Short enough to hear in under 15 s with the neural voice's pauses, all
            # seven included (15.8 s as "Which exercise? ... Say or press a number.");
            # the key hint says the keys once.
            AskChoice("menu_choice", f"Choose an exercise: {listing}. Say a number.",
                      options=options, var="exercise"),
            End("menu_end"),
        ))


SCREEN_QUESTIONS = (
    ("screen_danger", "Is anyone hurting you or threatening you at present, "
                      "or are you unsafe where you live?"),
    ("screen_suicide", "Are you having thoughts of ending your life, or of seriously "
                       "harming yourself?"),
    ("screen_substance", "Are you using alcohol or drugs heavily, in a way that is hard "
                         "to control?"),
    ("screen_psychosis", "Are you hearing or seeing things that others do not, or "
                         "feeling that your thoughts are not your own?"),
)


def screening_script() -> Script:
    """Consent and contraindication screen (see ``screen_due`` for when it runs).

    Ends with ``screen`` = "clear" (go on), "refer" (a contraindication: resources, no
    session) or "declined" (no consent). Answers are not stored beyond that word.
    An unclear answer to a risk question ("maybe", "I'm not sure", words not understood
    twice, or no answer at all) counts as a yes: the crisis resources are spoken (and shown
    as captions) and no session starts. At the consent question only a clear yes goes on.
    """
    steps: list = [
        Say("screen_intro",
            "Before we start, four short questions about your safety right now. "
            "Please answer yes or no. You can say stop at any time."),
    ]
    for step_id, question in SCREEN_QUESTIONS:
        steps.append(AskYesNo(step_id, question, yes="screen_refer", unclear="yes"))
    steps += [
        AskYesNo("screen_consent",
                 "These exercises use imagery of difficult memories, gently and with "
                 "grounding. You stay in charge: saying stop always ends the imagery. "
                 "Would you like to go on?", yes="screen_clear", no="screen_declined"),
        SetVar("screen_clear", "screen", "clear", next="grounding_screen_done"),
        SetVar("screen_declined", "screen", "declined", next="grounding_screen_done"),
        SetVar("screen_refer", "screen", "refer", next="screen_resources"),
        Say("screen_resources",
            "Thank you for telling me. Right now it is best not to do this exercise alone. "
            "{crisis_resources} Please talk with your therapist or a professional first.",
            pause_after_s=2.0, next="grounding_screen_done"),
        Say("grounding_screen_done",
            "Take a slow breath, and notice the room around you.", pause_after_s=1.0),
        End("screen_end"),
    ]
    return Script(name="screen", title="Safety questions", steps=tuple(steps))


#: Said first in every session that does not need the full screen.
SHORT_CHECK = ("Before we start: make sure you are somewhere private, where you can stop "
               "at any moment.")
SHORT_CHECK_STEP = "short_check"


def with_short_check(script: Script) -> Script:
    """``script`` opened by the short check (a private place, able to stop).

    The exercises themselves then say how to stop and ask for the starting rating.
    """
    if any(step.id == SHORT_CHECK_STEP for step in script.steps):
        return script
    check = Say(SHORT_CHECK_STEP, SHORT_CHECK, pause_after_s=1.0)
    return replace(script, steps=(check, *script.steps))


def screen_due(*, screen_done: bool, screened_on: str, interval_days: int, therapist: bool,
               today: date) -> bool:
    """Whether the full screen runs before this session.

    Before the first session, before every full rescripting session (``therapist``), and
    again once ``interval_days`` have passed since ``screened_on``. A profile from before
    the date was kept (screen done, no date) is not screened again until a date is set.
    """
    if not screen_done or therapist:
        return True
    if not screened_on:
        return False
    try:
        last = date.fromisoformat(screened_on)
    except ValueError:
        return True  # an unreadable date: screen again rather than guess
    return (today - last).days >= interval_days
