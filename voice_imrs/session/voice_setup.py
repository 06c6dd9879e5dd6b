"""``voice-imrs setup`` by voice: the profile's spoken choices, asked as a conversation.

The conversation is an ordinary script, so stop, silence, reprompts and the keyboard work
as in every exercise. It asks what can be answered by voice: the pace and loudness (tried
out live with "slower", "louder"...), perspective, eyes, the helper figure, the spoken
summary and whether words are kept. The safe place, cue word, anchor phrase and the local
crisis number are the user's own words; they are kept as they are (``setup --keyboard``
or ``profile set`` changes them, and the closing words say so). Answers are applied as
they were given: a stop part-way keeps the answers before it.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import replace
from typing import TYPE_CHECKING

from voice_imrs.core.events import LogEvent
from voice_imrs.core.profile import Profile
from voice_imrs.core.script import (
    AskChoice,
    AskYesNo,
    ChoiceOption,
    End,
    RepeatUntil,
    Say,
    Script,
)
from voice_imrs.session.spoken import Answers

if TYPE_CHECKING:
    from voice_imrs.session.live import LiveOptions

#: Helper choices: value -> the helper figures stored in the profile (in the user's words).
HELPER_CHOICES: dict[str, tuple[str, ...]] = {
    "therapist": ("my therapist",),
    "adult_self": ("my adult self",),
    "protector": ("a protector",),
    "two_helpers": ("my adult self", "a protector"),
}
_VOICE_COMMANDS = ("slower", "faster", "louder", "softer")


def _option(value: str, number: str, *phrases: str) -> ChoiceOption:
    digit = str(("one", "two", "three", "four", "five").index(number) + 1)
    return ChoiceOption(value, (number, digit, *phrases))


def setup_script() -> Script:
    """The spoken setup; its answers are read by ``SetupAnswers``."""
    return Script(
        name="setup", title="Setup",
        steps=(
            Say("setup_intro",
                "Let us set up how the exercises speak to you. There are six short "
                "questions. You can answer aloud or with the keys, and say stop at any time."),
            AskYesNo("setup_pace",
                     "First, my voice. You can say slower, faster, louder or softer at any "
                     "moment, now and in every exercise. Is this pace and loudness "
                     "comfortable for you?", yes="setup_perspective", no="setup_pace_try",
                     var="pace_ok"),
            Say("setup_pace_try",
                "Say slower, faster, louder or softer now, as often as you like.",
                pause_after_s=6.0),
            RepeatUntil("setup_pace_again", start="setup_pace", until="pace_ok",
                        max_rounds=3),
            AskChoice("setup_perspective",
                      "When you picture something, would you like to see it through your own "
                      "eyes, or from a little distance, as if watching a film? Say one for "
                      "your own eyes, or two for a little distance.",
                      options=(_option("first", "one", "own eyes", "my own eyes"),
                               _option("third", "two", "distance", "a little distance",
                                       "film")),
                      var="perspective"),
            AskChoice("setup_eyes",
                      "During the exercises, would you like to close your eyes, or rest them "
                      "on a spot in front of you? Say one for closed, or two for resting them.",
                      options=(_option("closed", "one", "closed", "close them"),
                               _option("open", "two", "resting", "rest them")),
                      var="eyes"),
            AskChoice("setup_helper",
                      "When you change an image, who would you like beside you? One: your "
                      "therapist. Two: your adult self. Three: a protector. Four: two helpers, "
                      "your adult self and a protector. Or five, to keep {helpers}.",
                      options=(_option("therapist", "one", "therapist", "my therapist"),
                               _option("adult_self", "two", "adult self", "my adult self"),
                               _option("protector", "three", "protector", "a protector"),
                               _option("two_helpers", "four", "two helpers"),
                               _option("keep", "five", "keep")),
                      var="helper"),
            AskYesNo("setup_summary",
                     "At the end of an exercise, shall I tell you how your ratings went?",
                     var="spoken_summary"),
            AskYesNo("setup_transcripts",
                     "Your records keep the steps and your ratings, never your words. Shall "
                     "they also keep the words I recognize from you? Most people say no.",
                     var="store_transcripts"),
            Say("grounding_setup_done",
                "Thank you, that is all. Your safe place, cue word and anchor phrase are in "
                "your own words, and so is a crisis number where you live; you can type them "
                "with setup, keyboard. Take a slow breath, and notice the room around you.",
                pause_after_s=1.0),
            End("setup_end"),
        ))


class SetupAnswers(Answers):
    """``Answers`` of the setup conversation, and the voice the user chose.

    A rate or volume counts only when the user changed it ("slower", "louder"...), not when
    safety raised the volume after a long silence.
    """

    def __init__(self) -> None:
        super().__init__()
        self.voice: dict[str, str] = {}
        self._asked_for_voice = False

    def __call__(self, event: LogEvent) -> None:
        super().__call__(event)
        if event.event == "intent":
            self._asked_for_voice = event.fields.get("intent") in _VOICE_COMMANDS
        elif event.event == "setting" and self._asked_for_voice:
            name = str(event.fields.get("name"))
            if name in ("rate_wpm", "volume"):
                self.voice[name] = str(event.fields.get("value"))


def profile_after_setup(profile: Profile, answers: SetupAnswers) -> Profile:
    """``profile`` with every answer the conversation got (unanswered keys stay as they are)."""
    said = answers.by_step
    changes: dict[str, object] = {}
    if "rate_wpm" in answers.voice:
        changes["rate_wpm"] = int(answers.voice["rate_wpm"])
    if "volume" in answers.voice:
        changes["volume"] = float(answers.voice["volume"])
    if said.get("setup_perspective") in ("first", "third"):
        changes["perspective"] = said["setup_perspective"]
    if said.get("setup_eyes") in ("closed", "open"):
        changes["eyes"] = said["setup_eyes"]
    if said.get("setup_helper") in HELPER_CHOICES:
        changes["helpers"] = HELPER_CHOICES[said["setup_helper"]]
    for step_id, key in (("setup_summary", "spoken_summary"),
                         ("setup_transcripts", "store_transcripts")):
        if step_id in said:
            changes[key] = said[step_id] == "yes"
    return replace(profile, **changes)  # type: ignore[arg-type]


def setup_by_voice(profile: Profile, options: LiveOptions,
                   observers: Sequence[Callable[[LogEvent], None]] = ()) -> tuple[Profile, str]:
    """Run the spoken setup on the sound devices; the updated profile and the end reason.

    After Ctrl-C, SIGTERM or a fault the profile comes back unchanged (the user left);
    after a stop the answers given before it count.
    """
    from voice_imrs.session.live import run_live

    answers = SetupAnswers()
    options = replace(options, background="none")  # a conversation, not an exercise
    reason = run_live(setup_script(), profile, options, [*observers, answers])
    if reason not in ("completed", "stopped"):
        return profile, reason
    return profile_after_setup(profile, answers), reason
