"""A session on the real sound devices, with the keyboard beside the voice.

The microphone's callback thread hands 20 ms blocks to the event loop; a keyboard thread
hands typed text; Ctrl-C, SIGTERM and SIGHUP become a ``Signal`` for the engine (a short
grounding, then the end), and a second one ends at once (``session.signals``).
"""

from __future__ import annotations

import asyncio
import sys
import threading
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from voice_imrs.core.events import LogEvent
from voice_imrs.core.profile import Profile
from voice_imrs.core.script import Script
from voice_imrs.errors import DeviceError
from voice_imrs.ports import ASR_RATE, BLOCK, PCM, AudioSink, AudioSource
from voice_imrs.session import parts
from voice_imrs.session.captions import CaptionLines
from voice_imrs.session.key_hints import KeyHints
from voice_imrs.session.keys import KeyReader
from voice_imrs.session.recorded_voice import RecordedVoice
from voice_imrs.session.runner import IntentSource, Observers, SessionRunner
from voice_imrs.session.signals import signals_to_session

if TYPE_CHECKING:
    from voice_imrs.console.cues import CuePlayer
    from voice_imrs.console.session import ConsoleOptions
    from voice_imrs.render.mixer import BackgroundBed


@dataclass
class LiveOptions:
    """The command line's choices for a live session."""

    recognizer: str = "whisper"
    model: str | None = None
    input_device: str | None = None
    output_device: str | None = None
    tts: str = "auto"
    voice: str | None = None
    rate: int | None = None
    keyboard: bool = True
    captions: CaptionLines | None = None  # None: no captions (--captions off)
    recorded_voice: str | None = None  # None: the profile's
    background: str | None = None  # None: the profile's; "none": no background
    keep_audio: Path | None = None  # write what the microphone heard here (store_audio)
    console: ConsoleOptions | None = None  # serve the therapist's console beside it
    cue_output: str | None = None  # the therapist's private cues go to this output


class MicrophoneBlocks:
    """Moves blocks from a blocking ``AudioSource`` on a thread into the event loop.

    Until the device delivers its first block, silent blocks keep the session's clock
    going (20 ms of wall time each): a capture stream over PulseAudio can take 0.2-2 s to
    start, and the first prompt should not wait for it. No audio exists before the first
    block, so nothing is counted twice; from then on the device is the clock.

    A device that fails (``DeviceLostError`` from ``read``) is re-raised in the event loop,
    where the runner ends the session; the thread never waits for ever.
    """

    def __init__(self, source: AudioSource, loop: asyncio.AbstractEventLoop,
                 start_filler: bool = True) -> None:
        self.source = source
        self.queue: asyncio.Queue[PCM | DeviceError | None] = asyncio.Queue()
        self._loop = loop
        self._stop = threading.Event()
        self._started = not start_filler
        self._thread = threading.Thread(target=self._pump, name="microphone", daemon=True)
        self._thread.start()

    def _pump(self) -> None:
        while not self._stop.is_set():
            block: PCM | DeviceError | None
            try:
                block = self.source.read()
            except DeviceError as error:
                block = error
            try:
                self._loop.call_soon_threadsafe(self.queue.put_nowait, block)
            except RuntimeError:  # the event loop is closed: nobody is listening any more
                return
            if block is None or isinstance(block, DeviceError):
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
            yield _or_raise(block)
        while (block := await self.queue.get()) is not None:
            yield _or_raise(block)

    def close(self) -> None:
        self._stop.set()
        self.source.close()
        self._thread.join(timeout=2.0)

def _or_raise(block: PCM | DeviceError) -> PCM:
    if isinstance(block, DeviceError):
        raise block
    return block


def run_live(script: Script, profile: Profile, options: LiveOptions,
             observers: list[Callable[[LogEvent], None]]) -> str:
    """Run ``script`` on the sound devices until it ends; return the end reason."""
    from voice_imrs.audio.native_noise import quiet_native_output

    if sys.stderr is sys.__stderr__:  # not under a test harness that holds stderr
        quiet_native_output()  # ALSA/PortAudio/espeak lines off the captions' terminal
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
    # Which devices are in use, once, on stderr (the captions are on stdout).
    print(f"voice-imrs: listening on {getattr(source, 'device_name', '?')}, speaking on "
          f"{getattr(sink, 'device_name', '?')}", file=sys.stderr, flush=True)
    cues = None
    try:
        if options.cue_output is not None:
            cues = _cue_player(options.cue_output, options.tts)
            observers = [*observers, cues]
        return asyncio.run(_session(script, profile, options, observers, renderer, bed,
                                    listener, sink, source))
    finally:
        if cues is not None:
            cues.close()
            cues.sink.close()
        sink.close()
        speech.close()


def _cue_player(device: str, tts: str) -> CuePlayer:
    """The therapist's private cues on ``device`` (console/cues.py)."""
    from voice_imrs.audio.output import SoundDeviceSink
    from voice_imrs.console.cues import CuePlayer, speaker_for_numbers

    rate = 22050
    return CuePlayer(SoundDeviceSink(device, rate), speaker_for_numbers(tts, rate))


async def _session(script: Script, profile: Profile, options: LiveOptions,
                   observers: list[Callable[[LogEvent], None]], renderer: RecordedVoice,
                   bed: BackgroundBed | None, listener: IntentSource, sink: AudioSink,
                   source: AudioSource) -> str:
    loop = asyncio.get_running_loop()
    typed: asyncio.Queue[str] = asyncio.Queue()
    mic = MicrophoneBlocks(source, loop)
    kept = None
    blocks = mic.__aiter__()
    if options.keep_audio is not None:
        from voice_imrs.records.kept_audio import KeptAudio

        kept = KeptAudio(options.keep_audio)
        blocks = _kept(blocks, kept)
    console = None
    if options.console is not None:
        from voice_imrs.console.session import ConsoleSession

        console = ConsoleSession(options.console)
        observers = [*observers, console.observe]
    runner = SessionRunner(
        parts.plan_for(script, profile), parts.variables_for(profile),
        renderer=renderer, bed=bed,
        voice=parts.voice_for(profile, options.voice, options.rate), sink=sink,
        blocks=blocks, listener=listener,
        typed=typed, stop_words=tuple(profile.stop_words),
        bell_sound=parts.bell_sounds(sink.sample_rate),
        observers=Observers(events=observers, lines=options.captions),
        key_hints=KeyHints() if options.keyboard and _at_a_terminal() else None)
    keys = None
    if options.keyboard:
        def deliver(text: str) -> None:
            loop.call_soon_threadsafe(typed.put_nowait, text)

        keys = KeyReader(deliver).start()

    try:
        if console is not None:
            await console.start(runner)
        with signals_to_session(loop, runner.signal):  # SIGINT, SIGTERM and SIGHUP
            return await runner.run()
    finally:
        if console is not None:
            await console.stop()
        if keys:
            keys.close()
        mic.close()
        if kept is not None:
            kept.close()


def _at_a_terminal() -> bool:
    """Someone may press keys: standard input is a terminal (a pipe is a program)."""
    import sys

    try:
        return sys.stdin.isatty()
    except (AttributeError, ValueError, OSError):
        return False


async def _kept(blocks: AsyncIterator[PCM], kept: object) -> AsyncIterator[PCM]:
    """``blocks``, each also written to the kept audio file."""
    async for block in blocks:
        kept.write(block)  # type: ignore[attr-defined]
        yield block
