"""PocketSphinx over the session's closed vocabulary, with the English model in its wheel.

Works on a fresh machine with no download. Speech is cut out of the stream by our own
voice-activity detector (``voice_imrs.asr.vad``) with a short pre-roll, so the decoder
sees utterances rather than endless room noise; each utterance gives partial results as
they change and one final result when the speaker pauses.

Search: a JSGF grammar, one phrase per utterance, built from what the step expects:
stop words (weighted 20), the expected answers (5) and the commands (1); searches are
built once per expectation and switched between utterances. Each finished utterance is
decoded a second time in one batch for its final result. Chosen by measurement on a
fixed subset of tests/data/speech/dev (50 stop, 80 other, 50 digit, 40 yes/no clips):
  keyword spotting (1e-20):          stop 0.70, false stops 10/80, yes/no 0.60
  grammar of all phrases + fillers:  stop 0.54, false stops 0/80, ratings 0.44, yes/no 0.55
  grammar, no fillers:               stop 0.64, false stops 1/80, ratings 0.48, yes/no 0.88
  narrowed, weighted (the default):  stop 0.70, false stops 1/80, ratings 0.52, yes/no 0.93
Whole dev set figures are in tests/test_speech_floors.py. Confidence is not given: a
posterior needs the word lattice, which took seconds per utterance to build here.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable

import numpy as np

from voice_imrs.asr.vad import SpeechDetector
from voice_imrs.asr.vocabulary import answer_phrases, command_phrases, session_vocabulary
from voice_imrs.core.intents import DEFAULT_STOP_WORDS, NOTHING, Expectation, normalize
from voice_imrs.errors import ModelError
from voice_imrs.ports import ASR_RATE, PCM, Hypothesis

#: Words a grammar may match instead of ours. Measured on the dev set they cost far more
#: than they saved ("no" became "know", "stop" became "top"), so none by default.
FILLER_WORDS = ("the", "a", "go", "on", "off", "up", "down", "left", "hey", "um", "uh",
                "so", "and", "it", "well", "bed", "cat", "dog", "house")
DEFAULT_SEARCH = "grammar"
#: Prior weights in the grammar: stop phrases, then the answers the step expects, then
#: commands (1). A missed stop is worse than a false one, and without weights "stop" was
#: often read as "slower" or "what", and "one" as "what".
STOP_WEIGHT = 20.0
ANSWER_WEIGHT = 5.0
PRE_ROLL_S = 0.3  # audio kept from before the detected onset (the VAD decides late)
MAX_UTTERANCE_S = 8.0  # endless "speech" (noise) is cut so results keep coming


def _jsgf(weighted: dict[str, float]) -> str:
    """A grammar of one phrase per utterance, each with its prior weight."""
    alternatives = " | ".join(f"/{weight:g}/ {phrase}" for phrase, weight in weighted.items())
    return f"#JSGF V1.0;\ngrammar session;\npublic <utterance> = {alternatives};\n"


class PocketSphinxRecognizer:
    """``ports.Recognizer`` on PocketSphinx 5 with the wheel's en-us model.

    phrases: a fixed list to listen for. When None (the session), the grammar follows
        what the step expects (``expect()``): stop words, the expected answers, commands.
    search: "grammar" or "kws" (keyword spotting of ``phrases``, ``kws_threshold``).
    fillers: out-of-vocabulary words the grammar may match instead of ours.
    rescore: decode each finished utterance again in one batch (see ``_end``).
    """

    name = "pocketsphinx"

    def __init__(self, phrases: Iterable[str] | None = None, *,
                 stop_words: Iterable[str] = DEFAULT_STOP_WORDS,
                 search: str = DEFAULT_SEARCH, fillers: Iterable[str] = (),
                 kws_threshold: float = 1e-20, rescore: bool = True) -> None:
        import pocketsphinx

        try:
            self._decoder = pocketsphinx.Decoder(samprate=ASR_RATE, dither=True, lm=None,
                                                 bestpath=False, loglevel="FATAL")
        except (RuntimeError, ValueError) as error:
            raise ModelError(f"PocketSphinx could not load its English model ({error}).",
                             hint="Reinstall it: pip install --force-reinstall pocketsphinx"
                             ) from None
        self.stop_words = [w for w in dict.fromkeys(normalize(w) for w in stop_words) if w]
        self.fixed = list(phrases) if phrases is not None else None
        wanted = self.fixed if self.fixed is not None else session_vocabulary(self.stop_words)
        #: Phrases left out because a word is not in the pronunciation dictionary.
        self.missing_phrases = [p for p in wanted if not self._known(p)]
        self.phrases = [p for p in wanted if p not in self.missing_phrases]
        self.fillers = [f for f in fillers if f not in self.phrases and self._known(f)]
        self.search = search
        self._by_expectation: dict[Expectation, str] = {}
        self._wanted_search = self._active_search = ""
        if search == "kws":
            self._add_keyphrases(kws_threshold)
        elif search == "grammar":
            self.expect(NOTHING)
        else:
            raise ValueError(f"unknown search {search!r}")
        self._activate()
        self._vad = SpeechDetector()
        self._pre_roll: deque[PCM] = deque(maxlen=max(1, round(PRE_ROLL_S / 0.02)))
        self._in_utterance = False
        self._deaf = False  # after reset(): ignore the rest of the utterance in progress
        self._utterance_samples = 0
        self._last_partial = ""
        self.rescore = rescore
        self._utterance: list[PCM] = []

    def _known(self, phrase: str) -> bool:
        return all(self._decoder.lookup_word(word) for word in phrase.split())

    #: PocketSphinx finds utterance ends itself; the listener runs the detector.
    detector = None

    def expect(self, expectation: Expectation) -> None:
        """Narrow the grammar to what the step expects, from the next utterance on.

        Stop words and commands stay in every grammar; searches are built once per
        distinct expectation and then only switched (a few microseconds).
        """
        if self.search != "grammar":
            return
        if self.fixed is not None:  # a fixed phrase list has one grammar whatever is expected
            expectation = NOTHING
        known = self._by_expectation.get(expectation)
        if known is None:
            known = self._by_expectation[expectation] = self._add_grammar(expectation)
        self._wanted_search = known

    def _add_grammar(self, expectation: Expectation) -> str:
        if self.fixed is not None:
            weighted = {p: STOP_WEIGHT if p in self.stop_words else 1.0 for p in self.phrases}
        else:
            answers = [p for p in answer_phrases(expectation) if self._known(p)]
            commands = [p for p in command_phrases() if self._known(p)]
            # Answers not expected now are left out: keeping them all in (weighted 1)
            # measured worse on the dev subset (stop recall 0.50 against 0.575, ratings
            # 0.37 against 0.43). The price: an unexpected "three" may be read as a
            # command, as any out-of-grammar sound may (there is no rejection model).
            weighted = {p: 1.0 for p in commands}
            weighted.update({p: ANSWER_WEIGHT for p in answers})
            weighted.update({p: STOP_WEIGHT for p in self.stop_words if self._known(p)})
        weighted.update({f: 1.0 for f in self.fillers})
        name = f"grammar{len(self._by_expectation)}"
        self._decoder.add_jsgf_string(name, _jsgf(weighted))
        return name

    def _activate(self) -> None:
        # Searches switch only between utterances; PocketSphinx cannot switch inside one.
        if self._wanted_search and self._active_search != self._wanted_search:
            self._decoder.activate_search(self._wanted_search)
            self._active_search = self._wanted_search

    def _add_keyphrases(self, threshold: float) -> None:
        import os
        import tempfile

        # PocketSphinx reads several keyphrases only from a file.
        handle, path = tempfile.mkstemp(suffix=".kws")
        try:
            with os.fdopen(handle, "w") as out:
                for phrase in self.phrases:
                    out.write(f"{phrase} /{threshold:g}/\n")
            self._decoder.add_kws("keywords", path)
            self._wanted_search = "keywords"
        finally:
            os.unlink(path)

    def _hypothesis_text(self) -> str:
        hyp = self._decoder.hyp()
        return " ".join(hyp.hypstr.split()) if hyp is not None else ""

    def _start(self) -> None:
        self._activate()
        self._decoder.start_utt()
        self._in_utterance = True
        self._utterance_samples = 0
        self._last_partial = ""
        self._utterance = []
        for block in self._pre_roll:
            self._process(block)
        self._pre_roll.clear()

    def _process(self, block: PCM) -> None:
        self._decoder.process_raw(np.ascontiguousarray(block, np.int16).tobytes(), False, False)
        self._utterance_samples += len(block)
        self._utterance.append(block)

    def _end(self) -> list[Hypothesis]:
        self._decoder.end_utt()
        self._in_utterance = False
        if self.rescore and self._utterance:
            # Second pass over the whole utterance: live decoding normalizes the cepstrum
            # with a running mean carried over from earlier audio, which misfits a new
            # speaker or room; the batch pass uses this utterance's own mean. Measured on
            # the dev set it lifted yes/no and ratings markedly, for a few ms per utterance.
            audio = np.concatenate(self._utterance)
            self._decoder.start_utt()
            self._decoder.process_raw(audio.tobytes(), False, True)
            self._decoder.end_utt()
        self._utterance = []
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
        self._utterance = []
        if self._in_utterance:
            self._decoder.end_utt()
            self._in_utterance = False
            self._deaf = self._vad.in_speech
        self._pre_roll.clear()
        self._last_partial = ""
