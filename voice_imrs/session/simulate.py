"""``voice-imrs simulate``: a whole session with no sound devices.

The session's speech goes to a WAV file (or nowhere); a scripted client answers from
recordings through the real recognizer, from typed text, or with silence. Time is the
session's audio clock, so pauses and timers take no wall time unless ``realtime``.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from voice_imrs.core.events import LogEvent
from voice_imrs.core.intents import Expectation
from voice_imrs.core.profile import Profile
from voice_imrs.core.script import Script
from voice_imrs.ports import AudioSink
from voice_imrs.session import parts
from voice_imrs.session.recorded_voice import RecordedVoice
from voice_imrs.session.runner import IntentSource, Observers, SessionRunner
from voice_imrs.session.signals import signals_to_session
from voice_imrs.session.simulated_client import Reply, Scenario, SimulatedClient

if TYPE_CHECKING:
    from voice_imrs.console.session import ConsoleSession
    from voice_imrs.render.mixer import BackgroundBed


@dataclass
class SimulationResult:
    """How the simulated session ended and everything it logged."""

    reason: str
    events: list[LogEvent] = field(default_factory=list)
    captions: list[str] = field(default_factory=list)


def simulate(script: Script, scenario: Scenario, profile: Profile, *,
             out_wav: Path | None = None, recognizer: str = "whisper",
             model: str | None = None, tts: str = "auto", realtime: bool = False,
             observers: Sequence[Callable[[LogEvent], None]] | None = None,
             speech: parts.Speech | None = None, listener: IntentSource | None = None,
             fallback: Callable[[Expectation], Reply | None] | None = None,
             recorded_voice: str | None = None,
             background: str | None = None,
             console: ConsoleSession | None = None) -> SimulationResult:
    """Run ``script`` against the scripted client; return the end reason and the log.

    ``recorded_voice`` and ``background`` override the profile's (see ``parts``);
    ``console`` serves the therapist's console page beside the session.
    """
    from voice_imrs.audio.output import NullSink, WavFileSink

    own_speech = speech is None
    speech = speech or parts.make_speech(tts)
    listener = listener or parts.make_listener(recognizer, model, profile)
    try:
        renderer = parts.prompt_voice(speech, script, profile, recorded_voice)
        bed = parts.background_bed(profile, speech.sample_rate, background)
    except BaseException:
        if own_speech:
            speech.close()
        raise
    sink = (WavFileSink(out_wav, speech.sample_rate) if out_wav
            else NullSink(speech.sample_rate))
    result = SimulationResult("fault")
    try:
        client = SimulatedClient(scenario, asyncio.Queue(), realtime=realtime,
                                 fallback=fallback)
        result.reason = asyncio.run(_run(script, client, profile, renderer, bed, listener,
                                         sink, result, observers or [], console))
    finally:
        sink.close()
        if own_speech:
            speech.close()
    return result


async def _run(script: Script, client: SimulatedClient, profile: Profile,
               renderer: RecordedVoice, bed: BackgroundBed | None, listener: IntentSource,
               sink: AudioSink, result: SimulationResult,
               observers: Sequence[Callable[[LogEvent], None]],
               console: ConsoleSession | None = None) -> str:
    typed: asyncio.Queue[str] = asyncio.Queue()
    client.typed = typed  # the queue must belong to the running loop
    consoles = [console.observe] if console else []
    watchers = Observers(events=[result.events.append, *observers, *consoles],
                         captions=result.captions.append,
                         on_listen=client.on_listen, on_say=client.on_say)
    runner = SessionRunner(
        parts.plan_for(script, profile), parts.variables_for(profile),
        renderer=renderer, voice=parts.voice_for(profile), sink=sink,
        blocks=client.blocks(), listener=listener, typed=typed,
        stop_words=tuple(profile.stop_words), bell_sound=parts.bell_sounds(sink.sample_rate),
        observers=watchers, echo_gate=False, bed=bed)
    # Ctrl-C, SIGTERM and SIGHUP end a simulation as they end a live session.
    with signals_to_session(asyncio.get_running_loop(), runner.signal):
        if console is None:
            return await runner.run()
        await console.start(runner)
        try:
            return await runner.run()
        finally:
            await console.stop()
