"""The peers a user would otherwise pick, each as its documentation shows.

``FasterWhisperPeer``: faster-whisper's own ``transcribe()`` on each clip (the same tiny.en
model file as ours, its default settings: beam 5, 30 s input, its own VAD off because the
clips are short), the text then read by our intent rules.

``SpeechRecognitionPeer``: the SpeechRecognition library over PocketSphinx.

Used as its documentation shows, on the same clips as ours: ``recognize_sphinx`` with
``keyword_entries=[("stop", 1e-20)]`` to spot the stop word, and plain ``recognize_sphinx``
(its default English language model) for answers, whose text is then read by the same
intent interpreter as ours. It builds a decoder per call (about 0.3 s a clip here).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from voice_imrs.ports import ASR_RATE, PCM

STOP_KEYWORDS = (("stop", 1e-20),)


@dataclass(frozen=True)
class PeerResult:
    """What the peer made of one clip: keyword-spotting text and free text ("" = nothing)."""

    keywords: str
    text: str


class SpeechRecognitionPeer:
    """SpeechRecognition 3.x ``Recognizer`` with its PocketSphinx back end."""

    def __init__(self) -> None:
        import speech_recognition as sr

        self._sr = sr
        self._recognizer = sr.Recognizer()

    def _recognize(self, audio: PCM, **options: Any) -> str:
        data = self._sr.AudioData(audio.astype("<i2").tobytes(), ASR_RATE, 2)
        try:
            return str(self._recognizer.recognize_sphinx(data, **options)).strip().lower()
        except self._sr.UnknownValueError:
            return ""

    def keywords(self, audio: PCM) -> str:
        """Keyword spotting of "stop": the spotted words, "" when none."""
        return self._recognize(audio, keyword_entries=list(STOP_KEYWORDS))

    def text(self, audio: PCM) -> str:
        """Plain recognition with the default language model."""
        return self._recognize(audio)

    def hear(self, audio: PCM, free_text: bool = True) -> PeerResult:
        """Both readings of one clip (free text only when asked: it costs a decoder)."""
        return PeerResult(self.keywords(audio), self.text(audio) if free_text else "")


class FasterWhisperPeer:
    """faster-whisper ``WhisperModel.transcribe`` with the embedded tiny.en model, offline."""

    def __init__(self) -> None:
        import os

        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        from faster_whisper import WhisperModel

        from voice_imrs.asr.whisper_model import embedded_model_dir

        self._model = WhisperModel(str(embedded_model_dir()), device="cpu",
                                   compute_type="int8", cpu_threads=1, local_files_only=True)

    def text(self, audio: PCM) -> str:
        """The transcript of one clip, lower case ("" when nothing)."""
        segments, _ = self._model.transcribe(audio.astype("float32") / 32768.0,
                                             language="en")
        return " ".join(s.text.strip() for s in segments).strip().lower()
