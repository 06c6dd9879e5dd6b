"""A session on the real sound devices, with the keyboard beside the voice.

The microphone's callback thread hands 20 ms blocks to the event loop; a keyboard thread
hands typed text; Ctrl-C and SIGTERM become a ``Signal`` for the engine (a short
grounding, then the end), and a second one ends at once.
"""

from __future__ import annotations

import asyncio
import signal
import threading
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from voice_imrs.core.events import LogEvent
from voice_imrs.core.profile import Profile
from voice_imrs.core.script import Script
from voice_imrs.ports import ASR_RATE, PCM, AudioSink, AudioSource
from voice_imrs.session import parts
from voice_imrs.session.keys import KeyReader
from voice_imrs.session.runner import BLOCK, Observers, SessionRunner


@dataclass
class LiveOptions:
    """The command line's choices for a live session."""

    recognizer: str = "keyword"
    model: str | None = None
    input_device: str | None = None
    output_device: str | None = None
    tts: str = "auto"
    voice: str | None = None
    rate: int | None = None
    keyboard: bool = True
    captions: Callable[[str], None] | None = None
    recorded_voice: str | None = None  # None: the profile's
    background: str | None = None  # None: the profile's; "none": no background
    keep_audio: Path | None = None  # write what the microphone heard here (store_audio)


class MicrophoneBlocks:
    """Moves blocks from a blocking ``AudioSource`` on a thread into the event loop.

    Until the device delivers its first block, silent blocks keep the session's clock
    going (20 ms of wall time each): a capture stream over PulseAudio can take 0.2-2 s to
    start, and the first prompt should not wait for it. No audio exists before the first
    block, so nothing is counted twice; from then on the device is the clock.
    """

    def __init__(self, source: AudioSource, loop: asyncio.AbstractEventLoop,
                 start_filler: bool = True) -> None:
        self.source = source
        self.queue: asyncio.Queue[PCM | None] = asyncio.Queue()
        self._loop = loop
        self._stop = threading.Event()
        self._started = not start_filler
        self._thread = threading.Thread(target=self._pump, name="microphone", daemon=True)
        self._thread.start()

    def _pump(self) -> None:
        while not self._stop.is_set():
            block = self.source.read()
            self._loop.call_soon_threadsafe(self.queue.put_nowait, block)
            if block is None:
                return

    async def __aiter__(self) -> AsyncIterator[PCM]:
        silent = np.zeros(BLOCK, np.int16)
        next_tick = self._loop.time()
        while not self._started:
            next_tick += BLOCK / ASR_RATE
            try:
                block = await asyncio.wait_for(self.queue.get(),
                                               max(0.0, next_tick - self._loop.time()))
            except asyncio.TimeoutError:
                yield silent
                continue
            self._started = True
            if block is None:
                return
            yield block
        while (block := await self.queue.get()) is not None:
            yield block

    def close(self) -> None:
        self._stop.set()
        self.source.close()
        self._thread.join(timeout=2.0)

def run_live(script: Script, profile: Profile, options: LiveOptions,
             observers: list[Callable[[LogEvent], None]]) -> str:
    """Run ``script`` on the sound devices until it ends; return the end reason."""
    from voice_imrs.audio.input import SoundDeviceSource
    from voice_imrs.audio.output import SoundDeviceSink

    speech = parts.make_speech(options.tts)
    try:
        renderer = parts.prompt_voice(speech, script, profile, options.recorded_voice)
        bed = parts.background_bed(profile, speech.sample_rate, options.background)
    except BaseException:
        speech.close()
        raise
    listener = parts.make_listener(options.recognizer, options.model, profile)
    # The microphone opens first: the output stream then starts in 0.2-0.5 s here, after
    # the microphone up to 2 s (PulseAudio's ALSA plugin, measured by bench startup).
    source: AudioSource = SoundDeviceSource(options.input_device)
    try:
        sink: AudioSink = SoundDeviceSink(options.output_device, speech.sample_rate)
    except BaseException:
        source.close()
        speech.close()
        raise
    try:
        return asyncio.run(_session(script, profile, options, observers, renderer, bed,
                                    listener, sink, source))
    finally:
        sink.close()
        speech.close()


async def _session(script: Script, profile: Profile, options: LiveOptions,
                   observers: list[Callable[[LogEvent], None]], renderer: object, bed: object,
                   listener: object, sink: AudioSink, source: AudioSource) -> str:
    loop = asyncio.get_running_loop()
    typed: asyncio.Queue[str] = asyncio.Queue()
    mic = MicrophoneBlocks(source, loop)
    kept = None
    blocks = mic.__aiter__()
    if options.keep_audio is not None:
        from voice_imrs.records.kept_audio import KeptAudio

        kept = KeptAudio(options.keep_audio)
        blocks = _kept(blocks, kept)
    runner = SessionRunner(
        parts.plan_for(script, profile), parts.variables_for(profile),
        renderer=renderer, bed=bed,  # type: ignore[arg-type]
        voice=parts.voice_for(profile, options.voice, options.rate), sink=sink,
        blocks=blocks, listener=listener,  # type: ignore[arg-type]
        typed=typed, stop_words=tuple(profile.stop_words),
        bell_sound=parts.bell_sounds(sink.sample_rate),
        observers=Observers(events=observers, captions=options.captions))
    keys = None
    if options.keyboard:
        def deliver(text: str) -> None:
            loop.call_soon_threadsafe(typed.put_nowait, text)

        keys = KeyReader(deliver).start()

    def on_signal(sig: signal.Signals) -> None:
        # The first Ctrl-C or SIGTERM grounds briefly, then ends. A second one is not
        # caught any more: Python's default handling ends the process at once.
        for each in (signal.SIGINT, signal.SIGTERM):
            loop.remove_signal_handler(each)
        signal.signal(signal.SIGINT, signal.default_int_handler)
        runner.signal(sig.name)

    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, on_signal, sig)
    try:
        return await runner.run()
    finally:
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.remove_signal_handler(sig)
        if keys:
            keys.close()
        mic.close()
        if kept is not None:
            kept.close()


async def _kept(blocks: AsyncIterator[PCM], kept: object) -> AsyncIterator[PCM]:
    """``blocks``, each also written to the kept audio file."""
    async for block in blocks:
        kept.write(block)  # type: ignore[attr-defined]
        yield block
