"""Recognizer output to intents, as the session runner needs them: the glue of speech in.

The rules, in order of urgency:
- a stop word in a PARTIAL result is acted on at once (no waiting for the speaker to
  pause), and the recognizer is reset so the same "stop" does not fire twice;
- commands and answers are taken from FINAL results, interpreted against what the step
  expects (``core.intents.interpret``), so "seven" while no rating was asked is dropped;
- speech onset (voice activity) gives ``Intent("speech")`` once per utterance, for the
  "speech" barge-in mode that pauses the voice on any speech.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from voice_imrs.asr.vad import SpeechDetector
from voice_imrs.core.intents import DEFAULT_STOP_WORDS, Expectation, Intent, interpret
from voice_imrs.ports import ASR_RATE, PCM, Hypothesis, Recognizer


def _words(text: str) -> str:
    """Lower-case words of any script, single-spaced.

    Stop words are matched here rather than by ``core.intents.interpret`` because its
    normalization keeps only a-z, and a stop word may be configured in any language.
    """
    return " ".join(re.sub(r"[^\w' ]+", " ", text.casefold()).split())


@dataclass(frozen=True)
class Heard:
    """An intent and when it was decided: ``t`` is seconds of audio fed so far."""

    intent: Intent
    t: float


class IntentListener:
    """Feeds audio to a recognizer and turns what it hears into ``Heard`` intents.

    recognizer: any ``ports.Recognizer``.
    stop_words: phrases that mean stop (always count, acted on from partial results).
    vad: also report speech onsets as ``Intent("speech")``.
    """

    def __init__(self, recognizer: Recognizer,
                 stop_words: Iterable[str] = DEFAULT_STOP_WORDS, vad: bool = True) -> None:
        self.recognizer = recognizer
        self.stop_words = tuple(stop_words)
        self._stop_phrases = [f" {_words(w)} " for w in self.stop_words if _words(w)]
        self._detector = SpeechDetector() if vad else None
        self._samples = 0

    @property
    def t(self) -> float:
        """Seconds of audio fed so far."""
        return self._samples / ASR_RATE

    def feed(self, block: PCM, expect: Expectation) -> list[Heard]:
        """Hear ``block``; return the intents decided by it (often none)."""
        self._samples += len(block)
        narrow = getattr(self.recognizer, "expect", None)
        if narrow is not None:  # recognizers that can, listen for what the step expects
            narrow(expect)
        heard: list[Heard] = []
        if self._detector is not None:
            for event in self._detector.feed(block):
                if event.kind == "start":
                    heard.append(Heard(Intent("speech"), self.t))
        for hypothesis in self.recognizer.accept(block):
            heard.extend(self._consider(hypothesis, expect))
        return heard

    def finish(self, expect: Expectation) -> list[Heard]:
        """End of input: what the utterance in progress amounts to."""
        heard: list[Heard] = []
        for hypothesis in self.recognizer.finish():
            heard.extend(self._consider(hypothesis, expect))
        return heard

    def reset(self) -> None:
        """Forget the utterance in progress (after an intent was acted on)."""
        self.recognizer.reset()
        if self._detector is not None:
            self._detector.reset()

    def _says_stop(self, text: str) -> bool:
        said = f" {_words(text)} "
        return any(phrase in said for phrase in self._stop_phrases)

    def _consider(self, hypothesis: Hypothesis, expect: Expectation) -> list[Heard]:
        if not hypothesis.text:
            return []
        if not hypothesis.final:
            if self._says_stop(hypothesis.text):
                # Barge-in must not wait for the speaker to pause.
                self.recognizer.reset()
                return [Heard(Intent("stop", None, _words(hypothesis.text),
                                     hypothesis.confidence), self.t)]
            return []
        if self._says_stop(hypothesis.text):
            return [Heard(Intent("stop", None, _words(hypothesis.text),
                                 hypothesis.confidence), self.t)]
        intent = interpret(hypothesis.text, expect, self.stop_words, hypothesis.confidence)
        return [Heard(intent, self.t)] if intent is not None else []
