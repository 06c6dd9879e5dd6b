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
    Pause,
    RatingBranch,
    RepeatUntil,
    Say,
    SetVar,
    Step,
    Timed,
)

RESUME = "$resume"


@dataclass(frozen=True)
class SafetyPolicy:
    """Thresholds and timings that keep a session safe (from the user's profile).

    high: a distress rating at or above this goes to grounding; a session never ends with
      its last rating this high unless a second, longer grounding and the crisis resources
      came first.
    medium: ratings from here up to ``high - 1`` slow down and offer a gentler way on.
    resume_at: after grounding, the imagery resumes only at or below this rating.
    rise: a rise of this much between two ratings (below ``high``) also slows down.
    silence_s: seconds of silence before a question is asked again.
    confirm_below: a recognized rating with confidence below this is confirmed first.
    barge_in: "hotword" (only stop words interrupt) or "speech" (any speech pauses).
    slow_step_wpm: how much "slower"/"faster" and a medium rating change the rate.
    pace: pauses are this many times as long (the profile's pace; 1 as written).
    quiet_check_s: after this many seconds of imagery pauses with nothing heard, a soft
      check asks whether the client is still there (dissociation is watched in pauses too).
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
    pace: float = 1.0
    quiet_check_s: float = 60.0


GROUNDING_STOP = "grounding_stop"
GROUNDING_STOP_WORDS = "grounding_stop_words"
GROUNDING_STOP_BODY = "grounding_stop_body"
GROUNDING_HIGH = "grounding_high"
GROUNDING_NOINPUT = "grounding_noinput"
GROUNDING_CHECK = "grounding_check"
GROUNDING_MORE = "grounding_more"
GROUNDING_LONGER = "grounding_longer"
GROUNDING_LAST_CHECK = "grounding_last_check"
GROUNDING_END_CHECK = "grounding_end_check"
GROUNDING_CRISIS = "grounding_crisis"
GROUNDING_CHOICE = "grounding_choice"
GROUNDING_CLOSE = "grounding_close"
SAFETY_SAFE_PLACE = "grounding_safe_place"
SAFETY_LEAD_IN = "safety_lead_in"
SAFETY_SLOW = "safety_slow_down"
SAFETY_MEDIUM_HOMEWORK = "safety_medium_homework"
SAFETY_MEDIUM_THERAPIST = "safety_medium_therapist"
SAFETY_EYES_OPEN = "safety_eyes_open"
SAFETY_THIRD = "safety_third_person"
SAFETY_SAFE_PLACE_LONG = "safety_safe_place_long"
SAFETY_GO_ON = "safety_go_on"
SAFETY_INCOMPLETE = "safety_incomplete"
SAFETY_INCOMPLETE_MARK = "safety_incomplete_mark"
SAFETY_SHORTER = "safety_shorter"
SAFETY_END = "safety_end"
#: Kept for scripts and tools that name the old distance offer: the medium-band choice.
SAFETY_DISTANCE = SAFETY_MEDIUM_THERAPIST

#: The variable whose value "incomplete" ends a session as ``incomplete``.
OUTCOME = "outcome"

_CHECK_RATING = "From zero to ten, how distressed are you feeling right now?"
_GO_ON = ("go on", "continue", "as we are", "carry on", "keep going")


def safety_steps(policy: SafetyPolicy) -> tuple[Step, ...]:
    """The safety steps for ``policy`` (the re-checks branch on its thresholds)."""
    return (
        # A stop: a brief quiet, one short sentence, then the grounding itself.
        Pause(GROUNDING_STOP, 1.5, next=GROUNDING_STOP_WORDS),
        Say(GROUNDING_STOP_WORDS, "I'm here with you.", pause_after_s=1.5,
            next=GROUNDING_STOP_BODY),
        Say(GROUNDING_STOP_BODY,
            "{eyes_grounding} Feel your feet on the floor, and the seat holding you. "
            "Breathe in slowly, and out even more slowly.",
            pause_after_s=3.0, next=GROUNDING_CHECK),
        Say(GROUNDING_HIGH,
            "Thank you for telling me. Let's leave the image for now and come back to the room. "
            "{eyes_grounding} Press your feet into the floor. Name three things you can see, "
            "and two things you can hear.",
            pause_after_s=8.0, next=GROUNDING_CHECK),
        Say(GROUNDING_NOINPUT,
            "Come back to my voice. I'm going to help you come back to the room now. "
            "Open your eyes. Look around and name five things you can see. Press your feet "
            "into the floor. If something is near you, hold it in your hand and feel its "
            "weight. Say to yourself what day it is today, and where you are.",
            pause_after_s=8.0, bell="bell", next=GROUNDING_CHECK),
        AskRating(GROUNDING_CHECK, _CHECK_RATING,
                  branches=(RatingBranch(0, policy.resume_at, GROUNDING_CHOICE),
                            RatingBranch(policy.resume_at + 1, 10, GROUNDING_MORE)),
                  var="grounding_rating"),
        Say(GROUNDING_MORE,
            "Let's stay with the room a little longer. Notice the temperature of the air. "
            "Feel the weight of your hands. Breathe in for four, and out for six.",
            pause_after_s=10.0),
        RepeatUntil("grounding_more_loop", start=GROUNDING_CHECK, until="settled",
                    max_rounds=2, next=GROUNDING_LONGER),
        # Still not settled after two rounds: a second, longer grounding before any end.
        Say(GROUNDING_LONGER,
            "We will take longer with the room now. Open your eyes if they are closed. "
            "Put both feet flat on the floor and press down. Look for five things of one "
            "colour around you. Then breathe with me.",
            pause_after_s=15.0),
        Timed("grounding_longer_breathing", "breathing", duration_s=60.0,
              inhale_cue="Breathe in", exhale_cue="and breathe out"),
        AskRating(GROUNDING_LAST_CHECK, _CHECK_RATING,
                  branches=(RatingBranch(0, policy.high - 1, GROUNDING_CLOSE),
                            RatingBranch(policy.high, 10, GROUNDING_CRISIS)),
                  var="grounding_rating"),
        # Reached from an end while the last rating was high: asked again before any end.
        AskRating(GROUNDING_END_CHECK,
                  "Before we finish, let's check once more. " + _CHECK_RATING,
                  branches=(RatingBranch(0, policy.high - 1, RESUME),
                            RatingBranch(policy.high, 10, GROUNDING_LONGER)),
                  var="grounding_rating"),
        Say(GROUNDING_CRISIS,
            "The distress is still high, and that is a time to have a person with you. "
            "{crisis_resources}",
            pause_after_s=3.0, next=GROUNDING_CLOSE),
        AskChoice(GROUNDING_CHOICE,
                  "Would you like to continue, go to your safe place, or end for today?",
                  options=(
                      ChoiceOption("continue", _GO_ON, SAFETY_LEAD_IN),
                      ChoiceOption("safe_place", ("safe place", "safe", "place"),
                                   SAFETY_SAFE_PLACE),
                      ChoiceOption("end", ("end", "finish", "end for today", "stop"),
                                   GROUNDING_CLOSE),
                  ), var="after_stop"),
        Say(SAFETY_SAFE_PLACE,
            "Let your attention go to your safe place: {safe_place}. Notice what you see there, "
            "what you hear, and how the air feels. Stay here as long as you like.",
            pause_after_s=15.0, next=GROUNDING_CHOICE),
        # "Continue" leads the client back in before the exercise goes on.
        Say(SAFETY_LEAD_IN,
            "Let's go back gently, at your pace. [closed: If it feels right, let your eyes "
            "close again. | open: Let your gaze rest on a spot in front of you.] Take one "
            "slow breath, and we will pick up where we were.",
            pause_after_s=3.0, next=RESUME),
        Say(SAFETY_SLOW, "Let's slow down a little, and take a slow breath out.",
            pause_after_s=2.0, next=RESUME),
        AskChoice(SAFETY_MEDIUM_HOMEWORK,
                  "Let's slow down. You can go on as we are, keep your eyes open, go to your "
                  "safe place, or make it shorter today. What would you like?",
                  options=(
                      ChoiceOption("go_on", _GO_ON, RESUME),
                      ChoiceOption("eyes_open", ("eyes open", "open", "keep my eyes open"),
                                   SAFETY_EYES_OPEN),
                      ChoiceOption("safe_place", ("safe place", "safe", "place"),
                                   SAFETY_SAFE_PLACE),
                      ChoiceOption("shorter", ("shorter", "short", "make it shorter"),
                                   SAFETY_SHORTER),
                  ), var="medium_choice"),
        SetVar(SAFETY_EYES_OPEN, "eyes", "open", next=RESUME),
        SetVar(SAFETY_SHORTER, OUTCOME, "incomplete", next=GROUNDING_CLOSE),
        AskChoice(SAFETY_MEDIUM_THERAPIST,
                  "Let's slow down. You can go on as we are, watch from a little distance, "
                  "spend longer in your safe place, or leave the memory for today, before the "
                  "hardest moment. What would you like?",
                  options=(
                      ChoiceOption("go_on", _GO_ON, RESUME),
                      ChoiceOption("distance", ("distance", "a little distance", "watch",
                                                "screen"), SAFETY_THIRD),
                      ChoiceOption("safe_place", ("safe place", "longer", "safe"),
                                   SAFETY_SAFE_PLACE_LONG),
                      # Not "stop": that word always stops (and grounds) first.
                      ChoiceOption("leave", ("leave the memory", "leave it", "leave",
                                             "not today", "before the hardest moment"),
                                   SAFETY_INCOMPLETE),
                  ), var="medium_choice"),
        SetVar(SAFETY_THIRD, "perspective", "third", next=RESUME),
        Say(SAFETY_SAFE_PLACE_LONG,
            "Let your attention go to your safe place: {safe_place}. Take all the time you "
            "need there. Notice what you see, what you hear, and how your body feels.",
            pause_after_s=30.0),
        AskYesNo(SAFETY_GO_ON,
                 "Would you like to go on with the exercise now? Say yes to go on, or no to "
                 "leave the memory for today.",
                 yes=SAFETY_LEAD_IN, no=SAFETY_INCOMPLETE, var="go_on"),
        Say(SAFETY_INCOMPLETE,
            "That's all right. We leave the memory for today. If a scene is in "
            "your mind, let your younger self be taken somewhere safe, to {safe_place} or "
            "wherever they choose, and let the scene fade, like a screen going dark.",
            pause_after_s=6.0),
        SetVar(SAFETY_INCOMPLETE_MARK, OUTCOME, "incomplete", next=GROUNDING_CLOSE),
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
