"""Recognizers by name, and where Vosk models are found.

Adding a recognizer is one line in ``RECOGNIZERS``: a name and a factory taking the
``--model`` choice and the stop words. The factories import their engines lazily, so
choosing "keyboard" never loads PocketSphinx or Vosk.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from pathlib import Path

from voice_imrs.core.intents import DEFAULT_STOP_WORDS
from voice_imrs.errors import ModelError, UnknownChoiceError
from voice_imrs.ports import Recognizer

RecognizerFactory = Callable[[str | None, tuple[str, ...]], Recognizer]
#: Whisper answer lane plus keyword fast lane (``asr.two_lane``): it rejects what is none
#: of the allowed answers, where the keyword classifier alone maps every sound to a word.
DEFAULT_RECOGNIZER = "whisper"
APP_NAME = "voice-imrs"


def _pocketsphinx(model: str | None, stop_words: tuple[str, ...]) -> Recognizer:
    from voice_imrs.asr.pocketsphinx import PocketSphinxRecognizer

    return PocketSphinxRecognizer(stop_words=stop_words)


def _vosk(model: str | None, stop_words: tuple[str, ...]) -> Recognizer:
    from voice_imrs.asr.vocabulary import session_vocabulary
    from voice_imrs.asr.vosk import VoskRecognizer

    return VoskRecognizer(find_vosk_model(model), session_vocabulary(stop_words))


def _keyboard(model: str | None, stop_words: tuple[str, ...]) -> Recognizer:
    from voice_imrs.asr.keyboard import KeyboardRecognizer

    return KeyboardRecognizer()


def _keyword(model: str | None, stop_words: tuple[str, ...]) -> Recognizer:
    from voice_imrs.asr.keyword_net import KeywordNetRecognizer

    return KeywordNetRecognizer(model) if model else KeywordNetRecognizer()


def _whisper(model: str | None, stop_words: tuple[str, ...]) -> Recognizer:
    from voice_imrs.asr.two_lane import TwoLaneRecognizer

    return TwoLaneRecognizer(model, stop_words)


RECOGNIZERS: dict[str, RecognizerFactory] = {
    "whisper": _whisper,
    "keyword": _keyword,
    "pocketsphinx": _pocketsphinx,
    "vosk": _vosk,
    "keyboard": _keyboard,
}


def make_recognizer(name: str = DEFAULT_RECOGNIZER, *, model: str | None = None,
                    stop_words: Iterable[str] = DEFAULT_STOP_WORDS) -> Recognizer:
    """A fresh recognizer called ``name``; UnknownChoiceError lists the names."""
    factory = RECOGNIZERS.get(name)
    if factory is None:
        raise UnknownChoiceError("recognizer", name, RECOGNIZERS)
    return factory(model, tuple(stop_words))


def repo_models_dir() -> Path:
    """``models/`` at the top of the checkout this package runs from."""
    return Path(__file__).resolve().parents[2] / "models"


def user_models_dir() -> Path:
    """The per-user models folder (platformdirs' user data folder)."""
    from platformdirs import user_data_dir

    return Path(user_data_dir(APP_NAME)) / "models"


def default_models_dir() -> Path:
    """Where a downloaded model goes: the checkout's models/ when running from one.

    Otherwise the per-user folder: an installed package has no models/ of its own.
    """
    repo = repo_models_dir()
    return repo if (repo / "README.md").is_file() else user_models_dir()


def model_search_dirs() -> list[Path]:
    """Where installed models are looked for, in order."""
    return [repo_models_dir(), user_models_dir()]


def installed_vosk_models() -> list[Path]:
    """Model directories found in the search folders, in search order then name order."""
    from voice_imrs.asr.vosk import check_model_dir

    found: list[Path] = []
    for folder in model_search_dirs():
        if not folder.is_dir():
            continue
        for candidate in sorted(p for p in folder.iterdir() if p.is_dir()):
            try:
                found.append(check_model_dir(candidate))
            except ModelError:
                continue
    return found


def find_vosk_model(model: str | None) -> Path:
    """The ``--model`` directory if given, else the first installed model, else ModelError."""
    from voice_imrs.asr.vosk import DOWNLOAD_HINT, check_model_dir

    if model:
        return check_model_dir(model)
    installed = installed_vosk_models()
    if installed:
        return installed[0]
    where = " or ".join(str(d) for d in model_search_dirs())
    raise ModelError(f"No Vosk model was found in {where}.", hint=DOWNLOAD_HINT)
