"""Short spoken conversations that are not exercises: the menu and the first-session screen.

Both are ordinary scripts built here, so they run through the same engine with the same
stop, silence and keyboard handling as every exercise.
"""

from __future__ import annotations

from collections.abc import Iterable

from voice_imrs.core.script import (
    AskChoice,
    AskYesNo,
    ChoiceOption,
    End,
    Say,
    Script,
    SetVar,
)

_ORDINALS = ("one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten")


def menu_script(scripts: Iterable[Script]) -> Script:
    """A spoken menu that asks which exercise to do; the answer lands in ``exercise``."""
    offered = list(scripts)[: len(_ORDINALS)]
    listing = " ".join(f"{_ORDINALS[i].capitalize()}: {s.title}." for i, s in enumerate(offered))
    options = tuple(
        ChoiceOption(s.name, (s.title.lower(), s.name.replace("_", " "), _ORDINALS[i],
                              str(i + 1)))
        for i, s in enumerate(offered))
    return Script(
        name="menu", title="Menu",
        steps=(
            AskChoice("menu_choice", "Which exercise would you like to do? " + listing +
                      " Say its name or its number, or say stop to leave.",
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
    """Consent and contraindication screen before the first session.

    Ends with ``screen`` = "clear" (go on), "refer" (a contraindication: resources, no
    session) or "declined" (no consent). Answers are not stored beyond that word.
    """
    steps: list = [
        Say("screen_intro",
            "Before your first exercise, four short questions about your safety right now. "
            "Please answer yes or no. You can say stop at any time."),
    ]
    for step_id, question in SCREEN_QUESTIONS:
        steps.append(AskYesNo(step_id, question, yes="screen_refer"))
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
