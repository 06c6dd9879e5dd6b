"""Choosing a speech synthesizer by name ("espeak", "pyttsx3", or "auto")."""

from __future__ import annotations

import sys

from voice_imrs.errors import UnknownChoiceError, VoiceError
from voice_imrs.ports import Synthesizer

SYNTHESIZERS = ("auto", "espeak", "pyttsx3")


def make_synthesizer(name: str = "auto") -> Synthesizer:
    """A synthesizer by name.

    "auto" is espeak-ng driven directly on Linux when its library loads (it streams and
    stops fastest), else pyttsx3 (SAPI5 on Windows, NSSpeech on macOS).
    """
    choice = name.strip().lower()
    if choice not in SYNTHESIZERS:
        raise UnknownChoiceError("speech synthesizer", name, SYNTHESIZERS)
    if choice == "espeak" or (choice == "auto" and sys.platform.startswith("linux")):
        from voice_imrs.tts.espeak import EspeakSynthesizer

        try:
            return EspeakSynthesizer()
        except VoiceError:
            if choice == "espeak":
                raise
    from voice_imrs.tts.pyttsx3_render import Pyttsx3Synthesizer

    return Pyttsx3Synthesizer()
