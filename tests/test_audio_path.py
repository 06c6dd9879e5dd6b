"""The audio path itself (issue 16): what a stop silences, how bells sound, how blocks are
resampled, and that nothing we play clips.

The session tests run the real ``SessionRunner`` with the real bell and background assets
into a sink that records every block; the resampler tests compare block-by-block output
with the same stream resampled at once and with the ideal signal.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import numpy as np
import pytest

from voice_imrs.audio.levels import Limiter, bell_gain, soft_onset
from voice_imrs.audio.output import NullSink
from voice_imrs.audio.resampler import StreamResampler
from voice_imrs.audio.wav import resample
from voice_imrs.core.events import Interrupt
from voice_imrs.core.profile import Profile
from voice_imrs.core.script import End, Say, Script
from voice_imrs.ports import BLOCK, PCM, VoiceSettings
from voice_imrs.render.mixer import BackgroundBed
from voice_imrs.session import parts
from voice_imrs.session.recorded_voice import RecordedVoice
from voice_imrs.session.runner import Observers, SessionRunner
from voice_imrs.tts.cache import PromptStream

RATE = 22050


class RecordingSink(NullSink):
    """A sink that keeps every block written and notes when ``abort`` was called."""

    def __init__(self) -> None:
        super().__init__(RATE)
        self.blocks: list[PCM] = []
        self.aborted_at: list[int] = []   # number of blocks written before each abort

    def write(self, block: PCM) -> None:
        self.blocks.append(np.array(block, np.int16))

    def abort(self) -> None:
        self.aborted_at.append(len(self.blocks))


class Voice:
    """A renderer whose prompts are loud tones (``tone``) or silence."""

    sample_rate = RATE

    def __init__(self, tone: bool) -> None:
        self.tone = tone

    def render(self, text: str, settings: VoiceSettings) -> PCM:
        n = RATE * 3
        if not self.tone:
            return np.zeros(n, np.int16)
        return (np.sin(np.arange(n) * 2 * np.pi * 300 / RATE) * 30000).astype(np.int16)

    def stream(self, text: str, settings: VoiceSettings) -> PromptStream:
        return PromptStream.complete(self.render(text, settings))

    def prefetch(self, text: str, settings: VoiceSettings) -> None:
        """Nothing to prepare."""

    def close(self) -> None:
        """Nothing to stop."""


class Deaf:
    """A listener that hears nothing: only typed input counts."""

    hearing_speech = False

    def feed(self, block: PCM, expect: object) -> list:
        return []

    def reset(self) -> None:
        """Nothing to forget."""


def _script(bell: str | None = "bell") -> Script:
    return Script("t", "T", (Say("intro", "Imagine a calm place.", bell=bell),
                             Say("grounding_end", "Feel your feet on the floor."),
                             End("end")))


def _run(script: Script, *, tone: bool, stop_after: int | None, bed: bool,
         blocks: int = 150, volume: float = 0.8) -> tuple[RecordingSink, SessionRunner]:
    sink = RecordingSink()

    async def session() -> SessionRunner:
        typed: asyncio.Queue[str] = asyncio.Queue()

        async def microphone() -> AsyncIterator[PCM]:
            for index in range(blocks):
                if index == stop_after:
                    typed.put_nowait("stop")
                yield np.zeros(BLOCK, np.int16)

        runner = SessionRunner(
            parts.plan_for(script, Profile()), {}, renderer=RecordedVoice.plain(Voice(tone)),
            voice=VoiceSettings(volume=volume), sink=sink, blocks=microphone(),
            listener=Deaf(), typed=typed, bell_sound=parts.bell_sounds(RATE),
            observers=Observers(), echo_gate=False,
            bed=BackgroundBed("rain", RATE) if bed else None)
        await runner.run()
        return runner

    return sink, asyncio.run(session())


def test_a_stop_silences_a_ringing_bell_and_the_background_within_one_block() -> None:
    stop_at = 50  # 1 s into a 5 s bell
    sink, runner = _run(_script(), tone=False, stop_after=stop_at, bed=True)
    assert runner.interrupts >= 1  # the engine's explicit Interrupt action was carried out
    stop_block = sink.aborted_at[0]  # the sink's abort was called at the stop ...
    assert stop_block >= stop_at - 1
    before = np.concatenate(sink.blocks[stop_block - 5:stop_block]).astype(float)
    assert np.abs(before).max() > 1000  # ... while the bell rang over the rain
    # The first block after the stop holds no bell; the bed fades out across it, and from
    # the second block on nothing at all is played.
    first = sink.blocks[stop_block].astype(float)
    assert np.abs(first).max() < 0.5 * np.abs(before).max()
    after = np.concatenate(sink.blocks[stop_block + 1:])
    assert len(after) > RATE and not after.any()


def test_the_engine_says_interrupt_on_a_stop() -> None:
    from voice_imrs.core import engine
    from voice_imrs.core.intents import Intent

    plan = parts.plan_for(_script(), Profile())
    state, _ = engine.start(plan, {}, 150, 0.8)
    _, actions = engine.advance(plan, state, engine.Heard(Intent("stop")))
    assert Interrupt("stop") in actions


def test_a_bell_asked_twice_at_once_rings_once_below_the_voice_with_a_soft_onset() -> None:
    runner_sink, runner = _run(_script(), tone=False, stop_after=None, bed=False, blocks=20,
                               volume=1.0)
    from voice_imrs.core.messages import Bell

    runner._perform([Bell("bell", gain=2.0), Bell("bell")])  # what grounding_noinput asks
    bells = [b for b in runner._bells if b.name == "bell"]
    assert len(bells) == 1
    raw = parts.bell_sounds(RATE)("bell").astype(float)
    played = np.concatenate(runner_sink.blocks).astype(float)
    assert 0 < np.abs(played).max() <= bell_gain(2.0, 1.0) * np.abs(raw).max() + 1
    # The loudest a bell can be is 10 dB under full scale; espeak-ng peaks near -2 dBFS.
    assert 20 * np.log10(bell_gain(2.0, 1.0) * np.abs(raw).max() / 32768) < -10
    onset = soft_onset(raw.astype(np.int16), RATE)
    assert abs(int(onset[0])) <= 1 and np.abs(onset[:RATE // 200]).max() < np.abs(raw).max() / 4


def test_nothing_clips_when_a_loud_voice_meets_an_alerting_bell_and_the_bed() -> None:
    sink, runner = _run(_script(), tone=True, stop_after=None, bed=True, blocks=150,
                        volume=1.0)
    from voice_imrs.core.messages import Bell

    runner._perform([Bell("bell", gain=2.0)])
    played = np.concatenate(sink.blocks).astype(np.int32)
    assert np.abs(played).max() > 20000   # loud, but ...
    assert np.abs(played).max() < 32767   # ... no sample at full scale: nothing clipped
    assert runner.limiter.clipped_samples == 0


def test_the_limiter_turns_an_overload_down_as_a_whole_and_recovers() -> None:
    limiter = Limiter()
    loud = np.sin(np.arange(441) / 10.0) * 60000.0
    out = limiter.process(loud)
    assert np.abs(out).max() <= limiter.ceiling + 1
    # The shape is kept (a gain, not a clip): the output is the input scaled.
    assert np.corrcoef(out, loud)[0, 1] > 0.9999
    quiet = np.sin(np.arange(441) / 10.0) * 10000.0
    for _ in range(60):
        out = limiter.process(quiet)
    assert limiter.gain == 1.0 and np.abs(out - np.round(quiet)).max() <= 1


@pytest.mark.parametrize(("source", "target"), [(22050, 44100), (22050, 48000), (48000, 16000)])
def test_streamed_resampling_has_no_seam_at_block_edges(source: int, target: int) -> None:
    seconds = 1.0
    t = np.arange(int(source * seconds)) / source
    signal = (np.sin(2 * np.pi * 440 * t) * 16000).astype(np.int16)
    block = source // 50  # 20 ms, as the session writes and the microphone reads
    whole = StreamResampler(source, target)
    streamed = StreamResampler(source, target)
    at_once = whole.process(signal)
    pieces = np.concatenate([streamed.process(signal[i:i + block])
                             for i in range(0, len(signal), block)])
    assert np.array_equal(pieces, at_once)  # blocks change nothing
    ideal = np.sin(2 * np.pi * 440 * (np.arange(len(pieces)) / target - streamed.delay_s)) * 16000
    middle = slice(target // 20, len(pieces) - target // 20)
    error = np.abs(pieces[middle] - ideal[middle]).max()
    assert error < 40, error  # measured 8-12 on a 16,000 peak
    # The old way, each block on its own, stepped at every edge (thousands).
    old = np.concatenate([resample(signal[i:i + block], source, target)
                          for i in range(0, len(signal), block)])
    old_ideal = np.sin(2 * np.pi * 440 * np.arange(len(old)) / target) * 16000
    assert np.abs(old[middle] - old_ideal[middle]).max() > 100 * error


def test_uneven_blocks_give_the_same_stream() -> None:
    rng = np.random.default_rng(7)
    signal = rng.integers(-8000, 8000, 30000).astype(np.int16)
    at_once = StreamResampler(22050, 48000).process(signal)
    streamed = StreamResampler(22050, 48000)
    cuts = np.cumsum(rng.integers(1, 700, 200))
    cuts = cuts[cuts < len(signal)]
    pieces = np.concatenate([streamed.process(part) for part in np.split(signal, cuts)])
    assert np.array_equal(pieces, at_once)

