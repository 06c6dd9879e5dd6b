"""Words to intents: what a heard or typed phrase means, given what the step expects.

Stop always counts, and so do words of acute distress ("too much", "I'm scared"): they
stop like the stop word. Commands (pause, repeat, slower, help, ...) count in every state.
Answers (a rating, yes/no, a choice, ready) count only when the current step asked for
them, so a "seven" overheard while a prompt plays is ignored rather than acted on.

Unclear is never yes: a hedge ("maybe", "I'm not sure", "I don't know") gives the kind
``unsure``, and a negated yes ("not okay", "not right now") gives ``no``. The engine then
decides what ``unsure`` counts as at each question (no, or at a risk question, yes).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Literal

IntentKind = Literal[
    "stop", "pause", "resume", "repeat", "slower", "faster", "louder", "softer",
    "eyes_open", "help", "rating", "yes", "no", "unsure", "ready", "choice", "speech",
    "unknown",
]

#: Answers: they count only when the step asks for them (commands count whatever it asks).
ANSWER_KINDS: frozenset[IntentKind] = frozenset(
    {"rating", "yes", "no", "unsure", "ready", "choice"})

DEFAULT_STOP_WORDS: tuple[str, ...] = ("stop", "i need to stop", "i need a break")

#: The numbers of a rating, by name: NUMBER_NAMES[n] is n's (the one table of them).
NUMBER_NAMES: tuple[str, ...] = ("zero", "one", "two", "three", "four", "five", "six",
                                 "seven", "eight", "nine", "ten")
#: What a rating answer may say: the names and what recognizers write for them.
NUMBER_WORDS: dict[str, int] = {
    **{name: value for value, name in enumerate(NUMBER_NAMES)},
    "oh": 0, "nought": 0, "nothing": 0, "to": 2, "too": 2, "for": 4,
}
# Homophones ("to", "for") are accepted only when the whole answer is that one word,
# so "I want to stop" or "for a while" never reads as a rating.
_WEAK_NUMBER_WORDS = frozenset({"to", "too", "for", "oh", "nothing"})

YES_PHRASES = ("yes", "yeah", "yep", "yup", "sure", "okay", "ok", "i do", "i can", "correct",
               "that's right", "right")
NO_PHRASES = ("no", "nope", "not really", "i can't", "i cannot", "wrong", "not now",
              "not right now", "not okay", "not ok", "not yet", "i don't want", "don't",
              "rather not", "no thanks")
#: Hedges: never a yes. Checked before yes, so "sure" in "not sure" is not a yes.
UNSURE_PHRASES = ("not sure", "i'm not sure", "unsure", "i don't know", "don't know", "dunno",
                  "maybe", "perhaps", "i guess", "i think so", "kind of", "sort of",
                  "probably", "possibly", "a bit", "a little", "i suppose", "not certain")
#: Words that turn a yes into something else: a yes said with any of them is not clear.
_NEGATIONS = ("not", "no", "don't", "dont", "can't", "cant", "cannot", "never", "won't",
              "wont", "isn't", "aren't", "wouldn't", "shouldn't", "nothing", "neither")
#: Acute distress said in words: it stops, as the stop word does (grounding follows).
DISTRESS_PHRASES = ("too much", "i'm scared", "im scared", "i am scared", "scared",
                    "i can't do this", "i cant do this", "make it stop", "i want out",
                    "get me out", "panic", "i'm panicking")

COMMAND_PHRASES: dict[IntentKind, tuple[str, ...]] = {
    # First: "what can I say" must not read as "what" (repeat).
    "help": ("help", "what can i say", "what do i say", "options", "i don't understand"),
    "pause": ("pause", "wait", "hold on"),
    "resume": ("resume", "go on", "carry on", "keep going"),
    "repeat": ("repeat", "say that again", "again", "what"),
    "slower": ("slower", "slow down", "more slowly"),
    "faster": ("faster", "speed up", "quicker"),
    "louder": ("louder", "speak up", "volume up"),
    "softer": ("softer", "quieter", "volume down", "too loud"),
    "eyes_open": ("eyes open", "open my eyes", "open eyes"),
}
READY_PHRASES = ("ready", "continue", "i'm ready", "next", "done")


@dataclass(frozen=True)
class Intent:
    """What the user meant.

    kind: one of ``IntentKind``.
    value: the number for a rating, the option value for a choice, else None.
    text: the words heard or typed that gave this intent.
    confidence: 0..1 where the recognizer gives one; None when unknown (typed text).
    """

    kind: IntentKind
    value: int | str | None = None
    text: str = ""
    confidence: float | None = None


@dataclass(frozen=True)
class Expectation:
    """What the current step listens for beyond stop and the commands.

    kinds: answer kinds that count now ("rating", "yes", "no", "ready", "choice").
    choices: for a choice question, (value, phrases) pairs.
    """

    kinds: frozenset[str] = frozenset()
    choices: tuple[tuple[str, tuple[str, ...]], ...] = field(default_factory=tuple)

    @classmethod
    def named(cls, name: str) -> Expectation:
        """The expectation for a CLI name: any, rating, yesno, none."""
        return {
            "any": cls(frozenset({"rating", "yes", "no", "ready"})),
            "rating": RATING,
            "yesno": YES_NO,
            "none": NOTHING,
        }[name]


NOTHING = Expectation()
RATING = Expectation(frozenset({"rating"}))
YES_NO = Expectation(frozenset({"yes", "no"}))
READY = Expectation(frozenset({"ready"}))


def normalize(text: str) -> str:
    """Lower-case words separated by single spaces, punctuation other than ' removed."""
    return " ".join(re.sub(r"[^a-z0-9' ]+", " ", text.lower()).split())


def _contains(haystack: str, phrase: str) -> bool:
    return f" {phrase} " in f" {haystack} "


#: A long option word heard with one letter wrong still names it ("protactor"): Whisper
#: spells rare words by ear. Short words must match exactly ("two" and "too" differ).
_MISSPELT_MIN_LETTERS = 7


def _misspelt_choice(said: str, expect: Expectation) -> str | None:
    """The one option with a long word that ``said`` holds with one letter changed,
    added or left out; None when none or several do.
    """
    heard = [w for w in said.split() if len(w) >= _MISSPELT_MIN_LETTERS - 1]
    found = {value for value, phrases in expect.choices for phrase in phrases
             for word in normalize(phrase).split() if len(word) >= _MISSPELT_MIN_LETTERS
             and any(_one_edit_apart(word, w) for w in heard)}
    return found.pop() if len(found) == 1 else None


def _one_edit_apart(a: str, b: str) -> bool:
    if abs(len(a) - len(b)) > 1:
        return False
    if len(a) == len(b):
        return sum(x != y for x, y in zip(a, b, strict=True)) <= 1
    short, long = (a, b) if len(a) < len(b) else (b, a)
    return any(long[:i] + long[i + 1:] == short for i in range(len(long)))


def _first_phrase(text: str, phrases: tuple[str, ...]) -> str | None:
    return next((p for p in phrases if _contains(text, p)), None)


def parse_rating(text: str) -> int | None:
    """The 0-10 number in an answer such as "seven", "7", "about a six", or None.

    Several different numbers ("five or six") are ambiguous and give None so that the
    engine asks again rather than guess; a repeated number ("five five") counts once.
    """
    words = normalize(text).split()
    found: list[int] = []
    for word in words:
        if word.isdigit() and 0 <= int(word) <= 10:
            found.append(int(word))
        elif word in NUMBER_WORDS and (word not in _WEAK_NUMBER_WORDS or len(words) == 1):
            found.append(NUMBER_WORDS[word])
    if not found or len(set(found)) > 1:
        return None
    return found[0]


def interpret(text: str, expect: Expectation = NOTHING,
              stop_words: tuple[str, ...] = DEFAULT_STOP_WORDS,
              confidence: float | None = None) -> Intent | None:
    """The intent in ``text`` given what the step expects, or None when nothing counts.

    Returns ``Intent("unknown")`` when the step expects an answer and the words match none,
    so the engine can reprompt naming the valid answers.
    """
    said = normalize(text)
    if not said:
        return None

    def make(kind: IntentKind, value: int | str | None = None) -> Intent:
        return Intent(kind, value, said, confidence)

    if any(_contains(said, normalize(word)) for word in stop_words if normalize(word)):
        return make("stop")
    if _first_phrase(said, DISTRESS_PHRASES):
        return make("stop")
    kinds = expect.kinds
    negated = _negated(said)
    if "rating" in kinds and (number := parse_rating(said)) is not None:
        return make("rating", number)
    if "choice" in kinds and not negated:
        # A negated choice ("not the protector", "I don't want to go on") picks nothing.
        for value, phrases in expect.choices:
            if any(_contains(said, normalize(p)) for p in phrases):
                return make("choice", value)
        if (misspelt := _misspelt_choice(said, expect)) is not None:
            return make("choice", misspelt)
    if {"yes", "no"} & kinds:
        answer = yes_no_of(said)
        if answer is not None:
            return make(answer)
    for kind, phrases in COMMAND_PHRASES.items():
        if kind == "resume" and negated:
            continue  # "I don't want to go on" never goes on
        if _first_phrase(said, phrases):
            return make(kind)
    if "ready" in kinds and not negated and _first_phrase(said, READY_PHRASES):
        return make("ready")
    if kinds:
        return make("unknown")
    return None


def _negated(said: str) -> bool:
    return any(_contains(said, word) for word in _NEGATIONS) or "n't " in f"{said} "


def yes_no_of(text: str) -> Literal["yes", "no", "unsure"] | None:
    """"yes", "no" or "unsure" for an answer to a yes/no question, or None (no such words).

    Order matters: a hedge ("not sure", "maybe") is checked before yes, so the "sure" in
    "not sure" never reads as a yes; a no or a negated yes ("not okay", "not right now")
    is a no; only a yes phrase with no hedge and no negation is a yes.
    """
    said = normalize(text)
    if _first_phrase(said, UNSURE_PHRASES):
        return "unsure"
    if _first_phrase(said, NO_PHRASES):
        return "no"
    if _first_phrase(said, YES_PHRASES):
        return "unsure" if _negated(said) else "yes"
    return None


def valid_answers(expect: Expectation) -> list[str]:
    """Plain words naming what counts as an answer now, for a nomatch reprompt."""
    answers: list[str] = []
    if "rating" in expect.kinds:
        answers.append("a number from zero to ten")
    if {"yes", "no"} & expect.kinds:
        answers.append("yes or no")
    if "choice" in expect.kinds:
        answers.extend(phrases[0] for _, phrases in expect.choices if phrases)
    if "ready" in expect.kinds:
        answers.append("ready")
    answers.append("stop")
    return answers
