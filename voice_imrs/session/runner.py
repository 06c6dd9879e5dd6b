"""The session loop: speaks, listens and asks the engine what comes next, block by block.

The microphone is the clock. Each 20 ms block of input is one tick: it goes through the
echo gate to the intent listener, the next 20 ms of the current prompt (or silence) goes
to the output, and waits and listening time-outs count ticks. Real sessions get their
blocks from the sound device in real time; simulations get them from a simulated client
as fast as the machine allows, so a 20-minute session takes seconds and time in the log
is the same either way.

The engine's decision is pure (``voice_imrs.core.engine``); this module only carries it
out. A stop cuts the voice within one block: the rest of the prompt is dropped and the
sink is told to abort what it has queued.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable, Iterable
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Protocol

import numpy as np

from voice_imrs.core import engine
from voice_imrs.core.events import LogEvent
from voice_imrs.core.intents import DEFAULT_STOP_WORDS, Expectation, Intent, interpret
from voice_imrs.core.messages import (
    Action,
    Bell,
    Finish,
    Heard,
    Listen,
    Log,
    Setting,
    Signal,
    Silence,
    Speak,
    SpeechDone,
    TimerDone,
    Wait,
)
from voice_imrs.ports import ASR_RATE, PCM, AudioSink, VoiceSettings
from voice_imrs.session.echo_gate import EchoGate

if TYPE_CHECKING:
    from voice_imrs.render.mixer import BackgroundBed

BLOCK = ASR_RATE // 50  # 20 ms of microphone audio per tick
TICK_S = BLOCK / ASR_RATE
#: A sound device is kept this far ahead rather than sent one block per tick: a tick then
#: never waits for the speaker, so a backlog of microphone blocks (a stalled callback, a
#: slow moment) is worked off at once instead of delaying every later stop by as much.
OUTPUT_AHEAD_S = 0.04
#: How long an answer that began before the silence timeout may go on before it counts
#: as no input after all (speech that never ends, such as a noise the detector hears).
ANSWER_GRACE_S = 4.0


class IntentSource(Protocol):
    """Turns microphone audio into intents (``voice_imrs.asr.listener.IntentListener``)."""

    def feed(self, block: PCM, expect: Expectation) -> list: ...  # list of (intent, t)

    def reset(self) -> None: ...


class PromptRenderer(Protocol):
    """Renders prompt text to PCM (``voice_imrs.tts.cache.PromptCache``)."""

    def render(self, text: str, settings: VoiceSettings) -> PCM: ...

    def prefetch(self, text: str, settings: VoiceSettings) -> None: ...


@dataclass
class Observers:
    """Who is told what happens: each gets every logged event; captions get spoken text."""

    events: list[Callable[[LogEvent], None]] = field(default_factory=list)
    captions: Callable[[str], None] | None = None
    on_listen: Callable[[float, Expectation], None] | None = None
    on_say: Callable[[str | None, float], None] | None = None


@dataclass
class _Playing:
    """The prompt being played: its samples at the sink's rate and how far we are."""

    audio: PCM
    position: int = 0
    started_t: float = 0.0
    hold_s: float = 0.0
    gain: float = 1.0


class SessionRunner:
    """Carries out one session of ``plan`` on the given audio ends.

    blocks: async iterator of 20 ms 16 kHz microphone blocks (ends when input ends).
    typed: a queue the keyboard (or a simulated client) puts typed text into ("stop", "7").
    bell_sound: name -> PCM at the sink's rate, for Bell actions.
    bed: a background texture under the voice; "softer"/"louder" move it with the voice,
      and a stop, any grounding step and the end silence it.
    """

    def __init__(self, plan: engine.Plan, variables: dict[str, str], *,
                 renderer: PromptRenderer, voice: VoiceSettings, sink: AudioSink,
                 blocks: AsyncIterator[PCM], listener: IntentSource,
                 typed: asyncio.Queue[str] | None = None,
                 stop_words: tuple[str, ...] = DEFAULT_STOP_WORDS,
                 bell_sound: Callable[[str], PCM] | None = None,
                 observers: Observers | None = None, echo_gate: bool = True,
                 bed: BackgroundBed | None = None) -> None:
        self.plan = plan
        self.variables = variables
        self.renderer = renderer
        self.voice = voice
        self.sink = sink
        self.blocks = blocks
        self.listener = listener
        self.typed = typed or asyncio.Queue()
        self.stop_words = stop_words
        self.bell_sound = bell_sound
        self.observers = observers or Observers()
        self.gate = EchoGate() if echo_gate else None
        self.bed = bed
        self._voice_volume = voice.volume
        self.t = 0.0
        self.state = engine.State()
        self.reason: str | None = None
        self._playing: _Playing | None = None
        self._bells: list[_Playing] = []
        self._deadline: float | None = None  # end of a Wait or a Listen
        self._listening = False
        self._signals: asyncio.Queue[str] = asyncio.Queue()
        self._out_block = max(1, round(sink.sample_rate * TICK_S))

    # ------------------------------------------------------------ public

    def signal(self, name: str = "SIGINT") -> None:
        """Ctrl-C or SIGTERM (thread-safe through ``loop.call_soon_threadsafe``)."""
        self._signals.put_nowait(name)

    async def run(self) -> str:
        """Run to the end; return the end reason (completed, stopped, signal, fault)."""
        self.state, actions = engine.start(self.plan, self.variables, self.voice.rate_wpm,
                                           self.voice.volume)
        self._perform(actions)
        faults = 0
        async for block in self.blocks:
            try:
                self._tick(block)
            except Exception as error:  # noqa: BLE001 - any fault must still end grounded
                faults += 1
                if faults > 1:
                    self._emit(Log("fault", self.state.step, {"error": repr(error)}))
                    self._emit(Log("session_end", self.state.step, {"reason": "fault"}))
                    self.reason = "fault"
                    self._caption("The session ended. Take your time to come back to the room.")
                    break
                self._apply(engine.Fault(repr(error)))
            if self.reason is not None:
                break
        else:
            if self.reason is None:  # the microphone went away: end grounded all the same
                self._apply(engine.Fault("the microphone input ended"))
                self._drain_without_input()
        self._flush_output()
        return self.reason or "fault"

    # ------------------------------------------------------------ one tick

    def _tick(self, block: PCM) -> None:
        self.t += len(block) / ASR_RATE
        while not self._signals.empty():
            self._apply(Signal(self._signals.get_nowait()))
        heard_audio = self.gate.filter(block) if self.gate else block
        expect = engine.expectation(self.plan, self.state)
        for heard in self.listener.feed(heard_audio, expect):
            intent = heard.intent if hasattr(heard, "intent") else heard
            self._hear(intent)
        while not self.typed.empty():
            typed = interpret(self.typed.get_nowait(), engine.expectation(self.plan, self.state),
                              self.stop_words)
            if typed is not None:
                self._hear(typed)
        if self.reason is None:
            self._play_block()
        if self.reason is None:
            self._check_deadline()

    def _hear(self, intent: Intent) -> None:
        # The engine ignores answers that no question asked for; stop always counts.
        if self.reason is None:
            self._apply(Heard(intent))

    def _apply(self, event: engine.Event) -> None:
        self.state, actions = engine.advance(self.plan, self.state, event)
        self._perform(actions)

    def _perform(self, actions: Iterable[Action]) -> None:
        for action in actions:
            if isinstance(action, Log):
                self._quiet_bed_for(action)
                self._emit(action)
            elif isinstance(action, Setting):
                self._setting(action)
            elif isinstance(action, Bell):
                self._bell(action)
            elif isinstance(action, Finish):
                self.reason = action.reason
                self._stop_audio()
            elif isinstance(action, Speak):
                self._speak(action)
            elif isinstance(action, Wait):
                self._stop_audio()
                self._deadline = self.t + action.seconds
                self._listening = False
            elif isinstance(action, Listen):
                self._stop_audio()
                self._deadline = self.t + action.timeout_s
                self._listening = True
                # An answer begun as the question ends is heard whole: a reset now would
                # make the recognizer ignore the rest of that utterance.
                if not getattr(self.listener, "hearing_speech", False):
                    self.listener.reset()
                if self.observers.on_listen:
                    self.observers.on_listen(self.t, action.expect)

    # ------------------------------------------------------------ output

    def _speak(self, action: Speak) -> None:
        self._stop_audio()
        self._deadline = None
        self._listening = False
        settings = replace(self.voice, rate_wpm=self.state.rate_wpm)
        render_for = getattr(self.renderer, "render_for", None)  # recorded takes know steps
        audio = (render_for(self.state.step, action.text, settings) if render_for
                 else self.renderer.render(action.text, settings))
        rate = getattr(self.renderer, "sample_rate", self.sink.sample_rate)
        if rate != self.sink.sample_rate:
            from voice_imrs.audio.wav import resample

            audio = resample(audio, rate, self.sink.sample_rate)
        gain = min(1.0, self.state.volume * (1.4 if action.louder else 1.0))
        self._playing = _Playing(audio, 0, self.t, action.hold_s, gain)
        self._caption(action.text)
        if self.observers.on_say:
            self.observers.on_say(self.state.step, self.t)
        self._prefetch_next()

    def _prefetch_next(self) -> None:
        following = self.plan.following(self.state.step) if self.state.step else None
        step = self.plan.steps.get(following or "")
        text = getattr(step, "text", "")
        if text and "{" not in text and "[" not in text:
            self.renderer.prefetch(text, replace(self.voice, rate_wpm=self.state.rate_wpm))

    def _play_block(self) -> None:
        """Top the output up: one block per tick on a file or null sink (their clock is
        ours), as many as keep a sound device ``OUTPUT_AHEAD_S`` ahead otherwise.
        """
        queued = getattr(self.sink, "queued_s", None)
        if queued is None:
            self._play_one_block()
            return
        while queued < OUTPUT_AHEAD_S and self.reason is None:
            self._play_one_block()
            queued += TICK_S

    def _play_one_block(self) -> None:
        n = self._out_block
        out = np.zeros(n, np.float32)
        playing = self._playing
        finished = False
        if playing is not None:
            chunk = playing.audio[playing.position:playing.position + n]
            playing.position += len(chunk)
            out[:len(chunk)] += chunk.astype(np.float32) * playing.gain
            if playing.position >= len(playing.audio) and \
                    self.t - playing.started_t >= playing.hold_s:
                finished = True
        if self.bed is not None:
            out += self.bed.next_block(n).astype(np.float32)
        for bell in list(self._bells):
            chunk = bell.audio[bell.position:bell.position + n]
            bell.position += len(chunk)
            out[:len(chunk)] += chunk.astype(np.float32) * bell.gain
            if bell.position >= len(bell.audio):
                self._bells.remove(bell)
        block = np.clip(out, -32768, 32767).astype(np.int16)
        self.sink.write(block)
        if self.gate is not None:
            self.gate.played(block, self.sink.sample_rate)
        if finished:
            self._playing = None
            self._apply(SpeechDone())

    def _stop_audio(self) -> None:
        """Cut off the prompt in progress at once (barge-in, or the engine moved on)."""
        if self._playing is not None and self._playing.position < len(self._playing.audio):
            self.sink.abort()
        self._playing = None

    def _bell(self, action: Bell) -> None:
        if self.bell_sound is None:
            return
        gain = min(1.0, 0.5 * action.gain * self.state.volume)
        self._bells.append(_Playing(self.bell_sound(action.name), 0, self.t, gain=gain))
        self._emit(Log("bell", self.state.step, {"name": action.name}))

    def _setting(self, action: Setting) -> None:
        if action.name != "volume":
            return
        volume = float(action.value)
        if self._playing is not None:
            self._playing.gain = volume
        if self.bed is not None and volume != self._voice_volume:
            if volume < self._voice_volume:
                self.bed.softer()
            else:
                self.bed.louder()
        self._voice_volume = volume

    def _quiet_bed_for(self, action: Log) -> None:
        """A stop, grounding and the end are for the voice alone: the bed falls silent."""
        if self.bed is None or self.bed.silent:
            return
        grounding = action.event == "step" and str(action.step or "").startswith("grounding")
        if grounding or action.event in ("interrupted", "session_end"):
            self.bed.stop()

    def _check_deadline(self) -> None:
        if self._deadline is None or self.t < self._deadline - 1e-9:
            return
        if (self._listening and getattr(self.listener, "hearing_speech", False)
                and self.t < self._deadline + ANSWER_GRACE_S):
            return  # an answer has begun: "no input" means nothing was said in time
        self._deadline = None
        if self._listening:
            self._listening = False
            self._apply(Silence())
        else:
            self._apply(TimerDone())

    def _drain_without_input(self) -> None:
        """Input ended: play the closing grounding to its end on silence."""
        silent = np.zeros(BLOCK, np.int16)
        guard = 0
        while self.reason is None and guard < 50 * 600:
            guard += 1
            self.t += TICK_S
            self.listener.feed(silent, engine.expectation(self.plan, self.state))
            self._play_one_block()  # the sink's pace is the clock now
            self._check_deadline()
            if self._listening and self.reason is None:  # nobody can answer any more
                self._listening = False
                self._apply(Silence())

    def _flush_output(self) -> None:
        # The session is over; a device that fails while closing changes nothing.
        with contextlib.suppress(Exception):
            self.sink.drain()

    # ------------------------------------------------------------ observers

    def _emit(self, log: Log) -> None:
        event = LogEvent(self.t, log.event, log.step, dict(log.fields))
        for observer in self.observers.events:
            observer(event)

    def _caption(self, text: str) -> None:
        if self.observers.captions is not None:
            self.observers.captions(text)
