"""Vosk (Kaldi) recognition with a model directory the user installed.

One grammar for the whole session, holding the session's phrases plus "[unk]" so that
other speech has somewhere to go; what a step expects is narrowed afterwards by the
intent interpreter, not by swapping grammars. Words of the grammar that the model does
not know are reported (``missing_words`` and one line on stderr), never silently
dropped. A model path is always explicit: without one, vosk tries to download a model.
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np

from voice_imrs.core.intents import Expectation
from voice_imrs.errors import ModelError
from voice_imrs.ports import ASR_RATE, PCM, Hypothesis

DOWNLOAD_HINT = ("Install one with `voice-imrs models download vosk-model-small-en-us-0.15` "
                 "(or pass --model DIR).")
UNKNOWN_WORD = "[unk]"


def check_model_dir(path: str | Path) -> Path:
    """``path`` if it looks like a Vosk model directory, else a ModelError."""
    model_dir = Path(path)
    if not model_dir.is_dir():
        raise ModelError(f"Vosk model directory {str(model_dir)!r} does not exist.",
                         hint=DOWNLOAD_HINT)
    if not ((model_dir / "am" / "final.mdl").is_file() or (model_dir / "final.mdl").is_file()):
        raise ModelError(f"{str(model_dir)!r} is not a Vosk model directory "
                         "(no am/final.mdl inside).", hint=DOWNLOAD_HINT)
    return model_dir


@lru_cache(maxsize=2)
def load_model(path: str) -> Any:
    """The loaded vosk Model for a checked directory (cached: loading takes seconds)."""
    import vosk

    # -1 silences Kaldi's info lines; its warnings ("Ignoring word missing in vocabulary")
    # sit at -1 too and repeat, in escaped form, what ``missing_words`` reports clearly.
    vosk.SetLogLevel(-2)
    model_dir = check_model_dir(path)
    try:
        with _quiet_native_stderr():
            return vosk.Model(str(model_dir))
    except Exception as error:  # vosk raises a bare Exception when the model is broken
        raise ModelError(f"The Vosk model in {str(model_dir)!r} could not be loaded ({error}).",
                         hint=DOWNLOAD_HINT) from None


@contextmanager
def _quiet_native_stderr() -> Iterator[None]:
    """Silence file descriptor 2 for a moment.

    Kaldi prints its own multi-line ERROR on a broken model whatever the log level, and
    the user should see only our one sentence.
    """
    sys.stderr.flush()
    saved = os.dup(2)
    try:
        with open(os.devnull, "w") as null:
            os.dup2(null.fileno(), 2)
            yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)


class VoskRecognizer:
    """``ports.Recognizer`` over a Vosk model directory and the session's phrases."""

    name = "vosk"

    def __init__(self, model_dir: str | Path, phrases: Iterable[str], *,
                 warn: bool = True) -> None:
        import vosk

        self.model_dir = str(model_dir)
        self._model = load_model(str(Path(model_dir).resolve()))
        wanted = [p for p in dict.fromkeys(" ".join(p.split()) for p in phrases) if p]
        words = list(dict.fromkeys(w for p in wanted for w in p.split()))
        #: Grammar words the model's vocabulary lacks (their phrases are left out).
        self.missing_words = [w for w in words if self._model.vosk_model_find_word(w) < 0]
        missing = set(self.missing_words)
        self.phrases = [p for p in wanted if not missing & set(p.split())]
        #: Whether the model knows "[unk]"; without it, any speech is forced onto a phrase.
        self.has_unknown_word = self._model.vosk_model_find_word(UNKNOWN_WORD) >= 0
        if not self.phrases:
            raise ModelError(f"The Vosk model in {self.model_dir!r} knows none of the words "
                             f"to listen for (such as {words[0] if words else 'stop'!r}).",
                             hint="Use a model for the session's language. " + DOWNLOAD_HINT)
        if warn and self.missing_words:
            print(f"voice-imrs: the Vosk model in {self.model_dir!r} lacks "
                  f"{len(self.missing_words)} word(s), so these cannot be heard: "
                  f"{', '.join(self.missing_words)}.", file=sys.stderr)
        self._recognizer = vosk.KaldiRecognizer(self._model, ASR_RATE,
                                                json.dumps([*self.phrases, UNKNOWN_WORD],
                                                           ensure_ascii=False))
        self._recognizer.SetWords(True)
        self._last_partial = ""

    def accept(self, block: PCM) -> list[Hypothesis]:
        data = np.ascontiguousarray(block, np.int16).tobytes()
        if self._recognizer.AcceptWaveform(data):
            self._last_partial = ""
            return self._final(self._recognizer.Result())
        partial = _clean(json.loads(self._recognizer.PartialResult()).get("partial", ""))
        if partial != self._last_partial:
            self._last_partial = partial
            return [Hypothesis(partial, final=False)]
        return []

    def finish(self) -> list[Hypothesis]:
        self._last_partial = ""
        return self._final(self._recognizer.FinalResult())

    #: Vosk/typed text has no detector of its own: the listener runs one.
    detector = None

    def expect(self, expectation: Expectation) -> None:
        """Listens for everything; the intent rules decide what counts."""

    def reset(self) -> None:
        self._recognizer.Reset()
        self._last_partial = ""

    @staticmethod
    def _final(raw: str) -> list[Hypothesis]:
        result = json.loads(raw)
        text = _clean(result.get("text", ""))
        confidences = [float(w["conf"]) for w in result.get("result", []) if "conf" in w]
        confidence = sum(confidences) / len(confidences) if confidences else None
        return [Hypothesis(text, final=True, confidence=confidence)] if text else []


def _clean(text: str) -> str:
    """Words without the "[unk]" filler."""
    return " ".join(w for w in text.split() if w != UNKNOWN_WORD)
