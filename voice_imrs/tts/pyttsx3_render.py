"""Speech synthesis through pyttsx3, used to RENDER prompts to PCM, never to play them.

pyttsx3 is the portable front: SAPI5 on Windows, NSSpeech on macOS, espeak-ng on Linux.
Its own ``say()``/``stop()`` cannot interrupt speech on Linux, so we only ask it to write
a WAV file (``save_to_file`` + ``runAndWait``), read that back and hand out chunks that
our own output stream plays (and can cut off).

Two pyttsx3 habits are handled here: a driver may print "Audio saved to ..." (we silence
that module's ``print``), and a file target sticks to the engine (we build a fresh engine
for every render).

On Linux pyttsx3's driver is espeak-ng, the library EspeakSynthesizer already drives in
this process. The driver runs it in an asynchronous mode without waiting for its settings
to take effect, and 9 of 60 renders came out at the wrong rate; the library also cannot be
started twice. So on Linux this synthesizer renders through EspeakSynthesizer: the same
voices, the same library, no race.
"""

from __future__ import annotations

import contextlib
import importlib
import os
import sys
import tempfile
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np

from voice_imrs.audio.wav import read_wav
from voice_imrs.errors import AudioFormatError, UnknownChoiceError, VoiceError
from voice_imrs.ports import PCM, VoiceInfo, VoiceSettings
from voice_imrs.tts.espeak import EspeakSynthesizer

#: Samples per yielded chunk (about 100 ms at 22050 Hz), like EspeakSynthesizer.
_CHUNK = 2205
_render_lock = threading.Lock()


def _quiet(*_args: object, **_kwargs: object) -> None:
    """Stands in for ``print`` inside pyttsx3's driver module."""


def _new_engine() -> Any:
    """A fresh pyttsx3 engine (pyttsx3.init() would hand back a cached one)."""
    try:
        from pyttsx3.engine import Engine
    except ImportError as error:
        raise VoiceError(f"pyttsx3 cannot be imported ({error}).",
                         hint="Install it: python3 -m pip install pyttsx3.") from None
    try:
        engine = Engine()
    except (OSError, RuntimeError, ImportError) as error:
        raise VoiceError(f"pyttsx3 could not start a speech engine ({error}).",
                         hint="Choose another voice engine with --tts.") from None
    driver = importlib.import_module(f"pyttsx3.drivers.{engine.driver_name}")
    driver.print = _quiet  # type: ignore[attr-defined]  # its "Audio saved to ..." line
    return engine


class Pyttsx3Synthesizer:
    """ports.Synthesizer rendering whole prompts with pyttsx3, then streaming them in chunks.

    Voices are named by pyttsx3 id, by name, or by language code ("en-us").
    """

    name = "pyttsx3"

    def __init__(self) -> None:
        self._rate = 22050
        self._voices: list[VoiceInfo] | None = None
        # Linux: pyttsx3's driver would be this same library (see the module docstring).
        self._espeak = EspeakSynthesizer() if sys.platform.startswith("linux") else None

    @property
    def sample_rate(self) -> int:
        """The rate of the last render (22050 Hz for espeak-ng until something is rendered)."""
        return self._rate

    def voices(self) -> list[VoiceInfo]:
        if self._espeak is not None:
            return self._espeak.voices()
        if self._voices is None:
            with _render_lock:
                engine = _new_engine()
                try:
                    raw = engine.getProperty("voices")
                finally:
                    del engine  # its driver unhooks itself from the library now
            self._voices = [
                VoiceInfo(id=str(voice.id), name=str(voice.name),
                          languages=tuple(str(lang) for lang in (voice.languages or [])))
                for voice in raw
            ]
        return self._voices

    def voice_id(self, voice: str) -> str | None:
        """The pyttsx3 id for a user's voice choice (None: the engine's default)."""
        wanted = voice.strip().lower()
        if not wanted:
            return None
        infos = self.voices()
        for keys in (lambda v: (v.id.lower(),),
                     lambda v: (v.name.lower(), v.id.rsplit("/", 1)[-1].lower()),
                     lambda v: tuple(lang.lower() for lang in v.languages)):
            for info in infos:
                if wanted in keys(info):
                    return info.id
        raise UnknownChoiceError("voice", voice, [v.id for v in infos])

    def render(self, text: str, settings: VoiceSettings) -> PCM:
        """The whole prompt as PCM at ``sample_rate``."""
        if self._espeak is not None:
            chunks = list(self._espeak.synthesize(text, settings))
            self._rate = self._espeak.sample_rate
            return np.concatenate(chunks) if chunks else np.zeros(0, np.int16)
        voice = self.voice_id(settings.voice)
        with tempfile.TemporaryDirectory(prefix="voice-imrs-tts-") as folder:
            path = Path(folder) / "prompt.wav"
            with _render_lock:
                engine = _new_engine()
                try:
                    if voice is not None:
                        engine.setProperty("voice", voice)
                    engine.setProperty("rate", int(settings.rate_wpm))
                    # Volume is applied at the output so that "louder" acts at once.
                    engine.setProperty("volume", 1.0)
                    self._set_pitch(engine, settings.pitch)
                    engine.save_to_file(text, os.fspath(path))
                    engine.runAndWait()
                except (RuntimeError, ValueError, KeyError) as error:
                    raise VoiceError(f"pyttsx3 could not render the prompt ({error}).",
                                     hint="Try another voice, or --tts espeak.") from None
                finally:
                    del engine  # its driver unhooks itself from the library now
            try:
                samples, rate = read_wav(path)
            except AudioFormatError:
                raise VoiceError("pyttsx3 produced no audio for the prompt.",
                                 hint="Try another voice, or --tts espeak.") from None
        self._rate = rate
        return samples

    @staticmethod
    def _set_pitch(engine: Any, pitch: int) -> None:
        # SAPI5 and NSSpeech have no pitch property: they keep the voice's own.
        with contextlib.suppress(KeyError, ValueError, AttributeError):
            engine.setProperty("pitch", min(max(int(pitch), 0), 100))

    def synthesize(self, text: str, settings: VoiceSettings) -> Iterator[PCM]:
        """Render the prompt, then yield it in ~100 ms chunks."""
        samples = self.render(text, settings)
        for start in range(0, len(samples), _CHUNK):
            yield samples[start:start + _CHUNK]
