"""A simulated session sounds the same, to the sample, however fast its voice renders.

A file or null sink waits for the voice; only a sound device plays on with silence. So a
prompt that arrives in small, slow pieces must not gain gaps in the middle or a block of
silence at its end, and the piece added just before the render finishes must be played.
(Both happened: they moved the session's clock by a block from run to run, and with it
where an answer fell in the recognizer's windows.)
"""

from __future__ import annotations

import asyncio
import threading
import time

import numpy as np
from quiet_session import NobodySpeaks, PacedSink, silence

from voice_imrs.core.profile import Profile
from voice_imrs.core.script import End, Say, Script
from voice_imrs.ports import VoiceSettings
from voice_imrs.session import parts
from voice_imrs.session.recorded_voice import RecordedVoice
from voice_imrs.session.runner import Observers, SessionRunner
from voice_imrs.tts.cache import PromptStream

SCRIPT = Script("slow", "Slow", (
    Say("hello", "Hello. Notice the floor under your feet."),
    Say("grounding_done", "Notice the room around you."),
    End("end"),
))
PIECE = 37  # samples: far smaller than an output block, and not a divisor of one


class WholePrompts:
    """The synthesizer's prompts, each handed over complete."""

    def __init__(self, speech: parts.Speech) -> None:
        self.speech = speech
        self.sample_rate = speech.sample_rate

    def prompt(self, text: str, settings: VoiceSettings) -> np.ndarray:
        # A last piece that is loud and long: were it dropped, the prompt would be shorter.
        tone = (8000 * np.sin(np.arange(self.sample_rate // 2) * 0.05)).astype(np.int16)
        return np.concatenate([self.speech.renderer.render(text, settings), tone])

    def stream(self, text: str, settings: VoiceSettings) -> PromptStream:
        return PromptStream.complete(self.prompt(text, settings))

    def render(self, text: str, settings: VoiceSettings) -> np.ndarray:
        return self.prompt(text, settings)

    def prefetch(self, text: str, settings: VoiceSettings) -> None:
        """Each prompt renders when it is asked for."""

    def close(self) -> None:
        """Nothing runs in the background."""


class SlowPrompts(WholePrompts):
    """The same prompts, arriving in small pieces with pauses, finished right after the
    last piece (the moment a reader can miss it)."""

    def stream(self, text: str, settings: VoiceSettings) -> PromptStream:
        audio, stream = self.prompt(text, settings), PromptStream()

        def feed() -> None:
            for index, start in enumerate(range(0, len(audio), PIECE)):
                stream.add(audio[start:start + PIECE])
                if index % 40 == 0:
                    time.sleep(0.002)
            stream.finish()

        threading.Thread(target=feed, daemon=True).start()
        return stream


class RecordingSink(PacedSink):
    """Keeps every block the session wrote."""

    def __init__(self, rate: int) -> None:
        super().__init__(rate)
        self.blocks: list[np.ndarray] = []

    def write(self, block: np.ndarray) -> None:
        self.blocks.append(np.array(block))


def _played(renderer: WholePrompts) -> np.ndarray:
    profile = Profile()
    sink = RecordingSink(renderer.sample_rate)

    async def go() -> str:
        runner = SessionRunner(
            parts.plan_for(SCRIPT, profile), parts.variables_for(profile),
            renderer=RecordedVoice.plain(renderer), voice=parts.voice_for(profile),
            sink=sink, blocks=silence(60.0), listener=NobodySpeaks(),  # type: ignore[arg-type]
            observers=Observers(), echo_gate=False)
        return await asyncio.wait_for(runner.run(), 60.0)

    assert asyncio.run(go()) == "completed"
    return np.concatenate(sink.blocks)


def test_a_slowly_rendered_prompt_plays_exactly_as_a_whole_one() -> None:
    speech = parts.make_speech("espeak")
    try:
        whole = _played(WholePrompts(speech))
        slow = _played(SlowPrompts(speech))
    finally:
        speech.close()
    assert len(slow) == len(whole)
    assert np.array_equal(slow, whole)
