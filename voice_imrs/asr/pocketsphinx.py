"""PocketSphinx over the session's closed vocabulary, with the English model in its wheel.

Works on a fresh machine with no download. Speech is cut out of the stream by our own
voice-activity detector (``voice_imrs.asr.vad``) with a short pre-roll, so the decoder
sees utterances rather than endless room noise; each utterance gives partial results as
they change and one final result when the speaker pauses.

Search: a JSGF grammar of the session's phrases (``grammar``), keyword spotting of the
same phrases (``kws``). Chosen by measurement on tests/data/speech/dev (see the module
constant ``DEFAULT_SEARCH`` and tests/test_speech_floors.py): the grammar plus a handful
of "filler" words that soak up out-of-vocabulary speech ("top", "go", "up" ...) gave the
best stop recall at a false-stop rate no worse than keyword spotting's.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable

import numpy as np

from voice_imrs.asr.vad import SpeechDetector
from voice_imrs.asr.vocabulary import session_vocabulary
from voice_imrs.core.intents import DEFAULT_STOP_WORDS
from voice_imrs.errors import ModelError
from voice_imrs.ports import ASR_RATE, PCM, Hypothesis

#: Words the grammar may hear that mean nothing to us: without them every sound is
#: forced onto a vocabulary word ("top" -> "stop", "go" -> "no").
FILLER_WORDS = ("the", "a", "top", "shop", "go", "on", "off", "up", "down", "left", "right",
                "hey", "hmm", "um", "uh", "so", "and", "it", "is", "well", "know", "not",
                "got", "bed", "cat", "dog", "house")
DEFAULT_SEARCH = "grammar"
PRE_ROLL_S = 0.3  # audio kept from before the detected onset (the VAD decides late)
MAX_UTTERANCE_S = 8.0  # endless "speech" (noise) is cut so results keep coming


def _jsgf(phrases: list[str], fillers: list[str]) -> str:
    alternatives = " | ".join(phrases + fillers)
    return ("#JSGF V1.0;\ngrammar session;\n"
            f"public <utterance> = <phrase>+;\n<phrase> = {alternatives};\n")


class PocketSphinxRecognizer:
    """``ports.Recognizer`` on PocketSphinx 5 with the wheel's en-us model.

    phrases: what to listen for (default: the session vocabulary for ``stop_words``).
    search: "grammar" or "kws" (keyword spotting, ``kws_threshold`` per phrase).
    fillers: out-of-vocabulary words the grammar may match instead of ours.
    """

    name = "pocketsphinx"

    def __init__(self, phrases: Iterable[str] | None = None, *,
                 stop_words: Iterable[str] = DEFAULT_STOP_WORDS,
                 search: str = DEFAULT_SEARCH, fillers: Iterable[str] = FILLER_WORDS,
                 kws_threshold: float = 1e-20) -> None:
        import pocketsphinx

        wanted = list(phrases) if phrases is not None else session_vocabulary(stop_words)
        try:
            self._decoder = pocketsphinx.Decoder(samprate=ASR_RATE, dither=True, lm=None,
                                                 bestpath=False, loglevel="FATAL")
        except (RuntimeError, ValueError) as error:
            raise ModelError(f"PocketSphinx could not load its English model ({error}).",
                             hint="Reinstall it: pip install --force-reinstall pocketsphinx"
                             ) from None
        known = {w for p in wanted for w in p.split() if self._decoder.lookup_word(w)}
        #: Phrases dropped because a word is not in the pronunciation dictionary.
        self.missing_phrases = [p for p in wanted if not set(p.split()) <= known]
        self.phrases = [p for p in wanted if p not in self.missing_phrases]
        self.search = search
        if search == "grammar":
            extra = [f for f in fillers if f not in self.phrases and self._decoder.lookup_word(f)]
            self._decoder.add_jsgf_string("session", _jsgf(self.phrases, extra))
        elif search == "kws":
            self._add_keyphrases(kws_threshold)
        else:
            raise ValueError(f"unknown search {search!r}")
        self._decoder.activate_search("session")
        self._vad = SpeechDetector()
        self._pre_roll: deque[PCM] = deque(maxlen=max(1, round(PRE_ROLL_S / 0.02)))
        self._in_utterance = False
        self._deaf = False  # after reset(): ignore the rest of the utterance in progress
        self._utterance_samples = 0
        self._last_partial = ""

    def _add_keyphrases(self, threshold: float) -> None:
        import os
        import tempfile

        # PocketSphinx reads several keyphrases only from a file.
        handle, path = tempfile.mkstemp(suffix=".kws")
        try:
            with os.fdopen(handle, "w") as out:
                for phrase in self.phrases:
                    out.write(f"{phrase} /{threshold:g}/\n")
            self._decoder.add_kws("session", path)
        finally:
            os.unlink(path)

    def _hypothesis_text(self) -> str:
        hyp = self._decoder.hyp()
        return " ".join(hyp.hypstr.split()) if hyp is not None else ""

    def _start(self) -> None:
        self._decoder.start_utt()
        self._in_utterance = True
        self._utterance_samples = 0
        self._last_partial = ""
        for block in self._pre_roll:
            self._process(block)
        self._pre_roll.clear()

    def _process(self, block: PCM) -> None:
        self._decoder.process_raw(np.ascontiguousarray(block, np.int16).tobytes(), False, False)
        self._utterance_samples += len(block)

    def _end(self) -> list[Hypothesis]:
        self._decoder.end_utt()
        self._in_utterance = False
        text = self._hypothesis_text()
        return [Hypothesis(text, final=True, confidence=self._confidence())]

    def _confidence(self) -> float | None:
        # A posterior needs the word lattice, and building it for a looping grammar took
        # seconds to tens of seconds per utterance here; bestpath is off, so no confidence.
        return None

    def accept(self, block: PCM) -> list[Hypothesis]:
        out: list[Hypothesis] = []
        events = self._vad.feed(block)
        started = any(e.kind == "start" for e in events)
        ended = any(e.kind == "end" for e in events)
        if self._deaf:
            if ended or not self._vad.in_speech:
                self._deaf = False
            return out
        if not self._in_utterance:
            if started:
                self._start()
            else:
                self._pre_roll.append(block)
                return out
        self._process(block)
        text = self._hypothesis_text()
        if text != self._last_partial:
            self._last_partial = text
            out.append(Hypothesis(text, final=False))
        if ended or self._utterance_samples >= MAX_UTTERANCE_S * ASR_RATE:
            out.extend(self._end())
            if not ended:
                self._vad.reset()
        return out

    def finish(self) -> list[Hypothesis]:
        if self._in_utterance:
            return self._end()
        return []

    def reset(self) -> None:
        if self._in_utterance:
            self._decoder.end_utt()
            self._in_utterance = False
            self._deaf = self._vad.in_speech
        self._pre_roll.clear()
        self._last_partial = ""
