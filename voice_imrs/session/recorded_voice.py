"""A session's prompts in a recorded human voice, with the synthetic voice for the rest.

A therapist's take replaces the synthetic voice for the step it was recorded for, as long
as the step's text is still the text it was recorded for (a hash is kept with each take:
an edited prompt falls back to the synthesizer until it is recorded again). Prompts with
placeholders, reprompts and safety lines are always synthetic. The client's own message
(``voice-imrs record-message``) is played at a script's ``own_message`` step, after a
short synthetic lead-in.

The runner asks ``stream_for(step_id, text, settings)`` (or ``render_for`` for the whole
prompt at once); plain ``render``, ``stream`` and ``prefetch`` pass through to the
synthetic voice. A session without takes runs through one too (``RecordedVoice.plain``),
so the runner has one kind of prompt renderer.
"""

from __future__ import annotations

from typing import Protocol

import numpy as np

from voice_imrs.core.script import Script
from voice_imrs.errors import VoiceImrsError
from voice_imrs.ports import PCM, VoiceSettings
from voice_imrs.render.takes import (
    OWN_MESSAGE_GAP_S,
    OWN_MESSAGE_LEAD_IN,
    OWN_MESSAGE_STEP,
    TakeLibrary,
    recordable,
    recorded_voices,
)
from voice_imrs.tts.cache import PromptStream


class UnknownRecordedVoiceError(VoiceImrsError):
    """A recorded voice was asked for that has no takes."""

    exit_code = 4


class PromptSource(Protocol):
    """The synthetic voice's prompts (``tts.cache.PromptCache``)."""

    @property
    def sample_rate(self) -> int: ...

    def render(self, text: str, settings: VoiceSettings) -> PCM: ...

    def stream(self, text: str, settings: VoiceSettings) -> PromptStream: ...

    def prefetch(self, text: str, settings: VoiceSettings) -> None: ...

    def close(self) -> None: ...


class RecordedVoice:
    """Recorded takes of one script (and the client's message) in front of a renderer.

    base: the synthetic voice.
    takes: step id -> (text hash the take was recorded for, samples at ``sample_rate``).
    message: the client's own message at ``sample_rate``, or None.
    """

    def __init__(self, base: PromptSource, sample_rate: int,
                 takes: dict[str, tuple[str, PCM]], message: PCM | None = None) -> None:
        self.base = base
        self.sample_rate = sample_rate
        self.takes = takes
        self.message = message
        self.played: list[str] = []  # step ids spoken from a recording, in order

    @classmethod
    def plain(cls, base: PromptSource) -> RecordedVoice:
        """The synthetic voice alone (no takes, no message)."""
        return cls(base, base.sample_rate, {})

    @classmethod
    def for_script(cls, base: PromptSource, sample_rate: int, script: Script,
                   voice_name: str | None, message: PCM | None) -> RecordedVoice:
        """The fresh takes of ``voice_name`` for ``script``; a clear error for no such voice."""
        from voice_imrs.render.takes import text_hash

        takes: dict[str, tuple[str, PCM]] = {}
        if voice_name:
            library = TakeLibrary(voice_name)
            if not library.index():
                known = ", ".join(recorded_voices(library.root)) or "none yet"
                raise UnknownRecordedVoiceError(
                    f"There is no recorded voice named {voice_name!r} (recorded voices: "
                    f"{known}).",
                    hint=f"Record one with `voice-imrs record-prompts SCRIPT --voice-name "
                         f"{voice_name}`, or leave out --recorded-voice.")
            for step_id, text in recordable(script):
                take = library.take_for(step_id, text, sample_rate)
                if take is not None:
                    takes[step_id] = (text_hash(text), take)
        return cls(base, sample_rate, takes, message)

    def render_for(self, step_id: str | None, text: str, settings: VoiceSettings) -> PCM:
        """The prompt for ``step_id``: its recording when one fits ``text``, else synthetic."""
        from voice_imrs.render.takes import text_hash

        if step_id == OWN_MESSAGE_STEP and self.message is not None:
            lead_in = self.render(OWN_MESSAGE_LEAD_IN, settings)
            gap = np.zeros(int(OWN_MESSAGE_GAP_S * self.sample_rate), np.int16)
            self.played.append(step_id)
            return np.concatenate([lead_in, gap, self.message])
        take = self.takes.get(step_id or "")
        if take is not None and take[0] == text_hash(text):
            self.played.append(step_id or "")
            return take[1]
        return self.render(text, settings)

    def stream_for(self, step_id: str | None, text: str,
                   settings: VoiceSettings) -> PromptStream:
        """Like ``render_for``, but synthetic prompts play as their sentences render."""
        from voice_imrs.render.takes import text_hash

        take = self.takes.get(step_id or "")
        recorded = take is not None and take[0] == text_hash(text)
        if recorded or (step_id == OWN_MESSAGE_STEP and self.message is not None):
            return PromptStream.complete(self.render_for(step_id, text, settings))
        return self.stream(text, settings)

    def render(self, text: str, settings: VoiceSettings) -> PCM:
        return self.base.render(text, settings)

    def stream(self, text: str, settings: VoiceSettings) -> PromptStream:
        return self.base.stream(text, settings)

    def prefetch(self, text: str, settings: VoiceSettings) -> None:
        self.base.prefetch(text, settings)

    def close(self) -> None:
        self.base.close()
