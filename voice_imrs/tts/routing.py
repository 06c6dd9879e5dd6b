"""One synthesizer over two: the neural voice first, another for the voices it lacks.

The default synthesizer is the Piper voice; a profile or ``--voice`` that names an
espeak-ng voice ("en-us", "en-gb+f3") is spoken by espeak-ng instead, so a clinic can
choose the fully free voice without a new option. The second synthesizer is made only
when one of its voices is first asked for, and its audio is resampled to the first one's
rate, so callers see one sample rate for the whole session.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

from voice_imrs.audio.wav import resample
from voice_imrs.errors import UnknownChoiceError
from voice_imrs.ports import PCM, Synthesizer, VoiceInfo, VoiceSettings
from voice_imrs.tts.piper import PiperSynthesizer


class NeuralFirstSynthesizer:
    """ports.Synthesizer: ``neural`` for its own voices and "", ``other`` for the rest."""

    def __init__(self, neural: PiperSynthesizer, other: Callable[[], Synthesizer]) -> None:
        self.neural = neural
        self._make_other = other
        self._other: Synthesizer | None = None
        self.name = neural.name

    @property
    def sample_rate(self) -> int:
        return self.neural.sample_rate

    def other(self) -> Synthesizer:
        """The second synthesizer, made on first use."""
        if self._other is None:
            self._other = self._make_other()
        return self._other

    def voices(self) -> list[VoiceInfo]:
        return [*self.neural.voices(), *self.other().voices()]

    def is_neural(self, voice: str) -> bool:
        try:
            self.neural.check_voice(voice)
        except UnknownChoiceError:
            return False
        return True

    def check_voice(self, voice: str) -> None:
        """Raise a clear error naming every choice unless one of the two has ``voice``."""
        if self.is_neural(voice):
            return
        other = self.other()
        check = getattr(other, "espeak_voice_name", None) or getattr(other, "voice_id", None)
        try:
            if callable(check):
                check(voice)
        except UnknownChoiceError as error:
            raise self._unknown(voice, error) from None

    def variants(self) -> list[str]:
        """espeak-ng's variants ("f3", ...) when espeak-ng is the second synthesizer."""
        variants = getattr(self.other(), "variants", None)
        return list(variants()) if callable(variants) else []

    def _unknown(self, voice: str, error: UnknownChoiceError) -> UnknownChoiceError:
        if error.what != "voice":
            return error  # an unknown variant: espeak-ng's message says it best
        return UnknownChoiceError("voice", voice,
                                  [*error.choices, *(v.id for v in self.neural.voices())])

    def synthesize(self, text: str, settings: VoiceSettings) -> Iterator[PCM]:
        if self.is_neural(settings.voice):
            yield from self.neural.synthesize(text, settings)
            return
        other = self.other()
        chunks = other.synthesize(text, settings)
        try:
            for chunk in chunks:
                # The rate is read per chunk: pyttsx3 knows its rate only after a render.
                yield resample(chunk, other.sample_rate, self.sample_rate)
        except UnknownChoiceError as error:
            raise self._unknown(settings.voice, error) from None
        finally:
            close = getattr(chunks, "close", None)
            if close is not None:
                close()  # abandons the rest of a synthesis stopped early
