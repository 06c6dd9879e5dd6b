"""The closed vocabulary a session listens for, as phrases for a recognizer's grammar.

Everything the intent interpreter (``voice_imrs.core.intents``) can act on: stop words
(built-in and configured), commands, number words, yes/no and ready phrases. A grammar
built from these phrases keeps small-vocabulary recognizers on the words that matter.
"""

from __future__ import annotations

from collections.abc import Iterable

from voice_imrs.core.intents import (
    COMMAND_PHRASES,
    DEFAULT_STOP_WORDS,
    NO_PHRASES,
    NUMBER_NAMES,
    READY_PHRASES,
    YES_PHRASES,
    Expectation,
    normalize,
)

#: Number words spoken as ratings; homophones ("to", "for") are left out because the
#: recognizer should write the number itself.
RATING_WORDS = ("oh", *NUMBER_NAMES)

def session_vocabulary(stop_words: Iterable[str] = DEFAULT_STOP_WORDS) -> list[str]:
    """Every phrase the session acts on, normalized, without duplicates, stop words first."""
    phrases: list[str] = []
    groups: list[Iterable[str]] = [DEFAULT_STOP_WORDS, stop_words, RATING_WORDS, YES_PHRASES,
                                   NO_PHRASES, READY_PHRASES]
    groups.extend(COMMAND_PHRASES.values())
    for group in groups:
        for phrase in group:
            said = normalize(phrase)
            if said and said not in phrases:
                phrases.append(said)
    return phrases

def vocabulary_words(phrases: Iterable[str]) -> list[str]:
    """The distinct words of ``phrases`` in first-seen order."""
    words: list[str] = []
    for phrase in phrases:
        for word in phrase.split():
            if word not in words:
                words.append(word)
    return words


def answer_phrases(expect: Expectation) -> list[str]:
    """The answer phrases that count for ``expect`` (not stop words, not commands)."""
    groups: list[Iterable[str]] = []
    if "rating" in expect.kinds:
        groups.append(RATING_WORDS)
    if "yes" in expect.kinds:
        groups.append(YES_PHRASES)
    if "no" in expect.kinds:
        groups.append(NO_PHRASES)
    if "ready" in expect.kinds:
        groups.append(READY_PHRASES)
    if "choice" in expect.kinds:
        groups.extend(phrases for _, phrases in expect.choices)
    return list(dict.fromkeys(normalize(p) for group in groups for p in group if normalize(p)))


def command_phrases() -> list[str]:
    """Phrases of the commands that count in every state (pause, repeat, slower, ...)."""
    return list(dict.fromkeys(normalize(p) for group in COMMAND_PHRASES.values() for p in group))
