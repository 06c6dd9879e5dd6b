"""The safety policy and the built-in safety steps every session carries.

A stop, a high rating, an "eyes open" or a silence that does not end leads into these
steps: a short grounding, a rating, then the choice to continue, do the safe place or end.
They are ordinary script steps (so the engine walks them like any other), merged into every
script under ids that start with ``grounding`` (recognizable in logs) or ``safety``.
Special jump targets: ``$resume`` returns to the step that was interrupted.
"""

from __future__ import annotations

from dataclasses import dataclass

from voice_imrs.core.script import (
    AskChoice,
    AskRating,
    AskYesNo,
    ChoiceOption,
    End,
    RatingBranch,
    RepeatUntil,
    Say,
    SetVar,
    Step,
)

RESUME = "$resume"


@dataclass(frozen=True)
class SafetyPolicy:
    """Thresholds and timings that keep a session safe (from the user's profile).

    high: a distress rating at or above this goes to grounding.
    medium: ratings from here up to ``high - 1`` slow down and offer the third person.
    resume_at: after grounding, the imagery resumes only at or below this rating.
    rise: a rise of this much between two ratings also slows down.
    silence_s: seconds of silence before a question is asked again.
    confirm_below: a recognized rating with confidence below this is confirmed first.
    barge_in: "hotword" (only stop words interrupt) or "speech" (any speech pauses).
    slow_step_wpm: how much "slower"/"faster" and a medium rating change the rate.
    """

    high: int = 8
    medium: int = 5
    resume_at: int = 4
    rise: int = 3
    silence_s: float = 8.0
    confirm_below: float = 0.5
    barge_in: str = "hotword"
    slow_step_wpm: int = 20
    min_rate_wpm: int = 90
    max_rate_wpm: int = 220


GROUNDING_STOP = "grounding_stop"
GROUNDING_HIGH = "grounding_high"
GROUNDING_NOINPUT = "grounding_noinput"
GROUNDING_CHECK = "grounding_check"
GROUNDING_MORE = "grounding_more"
GROUNDING_CHOICE = "grounding_choice"
GROUNDING_CLOSE = "grounding_close"
SAFETY_SAFE_PLACE = "grounding_safe_place"
SAFETY_DISTANCE = "safety_offer_distance"
SAFETY_THIRD = "safety_third_person"
SAFETY_END = "safety_end"

_CHECK_RATING = "From zero to ten, how distressed do you feel right now?"

def safety_steps(policy: SafetyPolicy) -> tuple[Step, ...]:
    """The safety steps for ``policy`` (the re-check branches on its resume threshold)."""
    return (
        Say(GROUNDING_STOP,
            "Okay. We stop here. You are safe, and you are in the present. "
            "{eyes_grounding} Feel your feet on the floor, and the seat holding you. "
            "Breathe in slowly, and out even more slowly.",
            pause_after_s=3.0, next=GROUNDING_CHECK),
        Say(GROUNDING_HIGH,
            "Thank you for telling me. Let's leave the image for now and come back to the room. "
            "{eyes_grounding} Press your feet into the floor. Name three things you can see, "
            "and two things you can hear.",
            pause_after_s=8.0, next=GROUNDING_CHECK),
        Say(GROUNDING_NOINPUT,
            "I'm going to help you come back to the room now. Open your eyes. "
            "Look around and name five things you can see. Press your feet into the floor. "
            "You are here, in the present, and you are safe.",
            pause_after_s=6.0, bell="bell", next=GROUNDING_CHECK),
        AskRating(GROUNDING_CHECK, _CHECK_RATING,
                  branches=(RatingBranch(0, policy.resume_at, GROUNDING_CHOICE),
                            RatingBranch(policy.resume_at + 1, 10, GROUNDING_MORE)),
                  var="grounding_rating"),
        Say(GROUNDING_MORE,
            "Let's stay with the room a little longer. Notice the temperature of the air. "
            "Feel the weight of your hands. Breathe in for four, and out for six.",
            pause_after_s=10.0),
        RepeatUntil("grounding_more_loop", start=GROUNDING_CHECK, until="settled",
                    max_rounds=2, next=GROUNDING_CLOSE),
        AskChoice(GROUNDING_CHOICE,
                  "Would you like to continue, go to your safe place, or end for today?",
                  options=(
                      ChoiceOption("continue", ("continue", "go on", "carry on", "keep going"),
                                   RESUME),
                      ChoiceOption("safe_place", ("safe place", "safe", "place"),
                                   SAFETY_SAFE_PLACE),
                      ChoiceOption("end", ("end", "finish", "end for today", "stop"),
                                   GROUNDING_CLOSE),
                  ), var="after_stop"),
        Say(SAFETY_SAFE_PLACE,
            "Let your attention go to your safe place: {safe_place}. Notice what you see there, "
            "what you hear, and how the air feels. Stay here as long as you like.",
            pause_after_s=15.0, next=GROUNDING_CHOICE),
        AskYesNo(SAFETY_DISTANCE,
                 "Let's slow down. Would it help to watch from a little distance, "
                 "as if you were seeing it on a screen?",
                 yes=SAFETY_THIRD, no=RESUME, var="distance"),
        SetVar(SAFETY_THIRD, "perspective", "third", next=RESUME),
        Say(GROUNDING_CLOSE,
            "Before we finish, come back fully to the room. Feel your feet on the floor. "
            "Look around and notice where you are. You are here, now. Take your time.",
            pause_after_s=2.0, next=SAFETY_END),
        End(SAFETY_END),
    )


SAFETY_IDS = frozenset(step.id for step in safety_steps(SafetyPolicy()))
EYES_GROUNDING = {
    "closed": "When you are ready, open your eyes and look around the room.",
    "open": "Let your eyes rest on something near you.",
}
