"""The session loop: speaks, listens and asks the engine what comes next, block by block.

The microphone is the clock. Each 20 ms block of input is one tick: it goes through the
echo gate to the intent listener, the next 20 ms of the current prompt (or silence) goes
to the output, and waits and listening time-outs count ticks. Real sessions get their
blocks from the sound device in real time; simulations get them from a simulated client
as fast as the machine allows, so a 20-minute session takes seconds and time in the log
is the same either way.

The engine's decision is pure (``voice_imrs.core.engine``); this module only carries it
out. A stop comes with an ``Interrupt`` action: everything we play (voice, bells, the
background) is dropped and the sink is told to abort what it has queued, so the next
output block is silent.

A sound device that stops delivering or taking audio (``DeviceLostError``, after about
2 s) ends the session at once, recorded as a fault: the closing grounding cannot be heard
on a device that is gone, so it is said in text (and by voice when the output still
works), and nothing waits for the device any more.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator, Callable, Iterable
from dataclasses import dataclass, field, replace
from types import MappingProxyType
from typing import TYPE_CHECKING, Protocol

import numpy as np

from voice_imrs.audio.devices import DeviceLostError
from voice_imrs.audio.levels import Limiter, bell_gain, soft_onset
from voice_imrs.core import engine
from voice_imrs.core.controls import Control
from voice_imrs.core.events import Interrupt, LogEvent
from voice_imrs.core.intents import DEFAULT_STOP_WORDS, Expectation
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
from voice_imrs.core.step_graph import is_grounding
from voice_imrs.ports import ASR_RATE, BLOCK, BLOCK_S, PCM, AudioSink, VoiceSettings
from voice_imrs.session.echo_gate import CancellingGate, default_echo_path
from voice_imrs.session.keys import typed_intent

if TYPE_CHECKING:
    from voice_imrs.render.mixer import BackgroundBed
    from voice_imrs.session.captions import CaptionLines
    from voice_imrs.session.key_hints import KeyHints
    from voice_imrs.tts.cache import PromptStream

TICK_S = BLOCK_S  # one microphone block per tick
#: A sound device is kept this far ahead rather than sent one block per tick: a tick then
#: never waits for the speaker, so a backlog of microphone blocks (a stalled callback, a
#: slow moment) is worked off at once instead of delaying every later stop by as much.
#: It must cover what the device takes in one go: with 0.1 s of device latency PortAudio
#: pulls about 40 ms in a burst of callbacks, and at 0.04 s ahead a third of the voice's
#: blocks arrived after their callback had played zeros (a choppy voice; the echo gate
#: could not recognise the stuttered echo). An abort drops this queue, so it costs no
#: barge-in time.
OUTPUT_AHEAD_S = 0.12
#: After SIGTERM, SIGHUP or Ctrl-C the closing grounding is spoken for at most this long
#: (session time or wall time, whichever runs out first: a slow machine's session clock
#: lags the wall), so that the process, closing its devices and record, ends within 5 s.
SIGNAL_GRACE_S = 3.0
#: How long an answer that began before the silence timeout may go on before it counts
#: as no input after all (speech that never ends, such as a noise the detector hears).
ANSWER_GRACE_S = 4.0
#: A file or null sink (a simulation) waits this long at most for a prompt's next
#: sentence: there, time is the output's, and a gap would depend on the machine's speed.
RENDER_WAIT_S = 60.0
#: A bell asked for again while the same bell started less than this ago rings once.
BELL_MERGE_S = 1.0
#: Said (in text, and by voice if the output works) when a sound device is lost.
DEVICE_LOST_TEXT = ("The sound stopped working, so the session ends here. "
                    "Take your time to come back to the room.")
#: Silence between a question and its key hint ("Or press 1 for ...").
HINT_GAP_S = 0.35


class IntentSource(Protocol):
    """Turns microphone audio into intents (``voice_imrs.asr.listener.IntentListener``)."""

    @property
    def hearing_speech(self) -> bool:
        """Someone is speaking now: an answer may be under way."""
        ...

    def feed(self, block: PCM, expect: Expectation) -> list[Heard]: ...

    def reset(self) -> None: ...


class PromptRenderer(Protocol):
    """A session's prompts by step (``session.recorded_voice.RecordedVoice``): a recorded
    take where one fits the step, the synthetic voice for the rest.
    """

    @property
    def sample_rate(self) -> int: ...

    def render(self, text: str, settings: VoiceSettings) -> PCM:
        """Text that belongs to no step (a key hint, the device-lost line), whole."""
        ...

    def render_for(self, step_id: str | None, text: str, settings: VoiceSettings) -> PCM: ...

    def stream_for(self, step_id: str | None, text: str,
                   settings: VoiceSettings) -> PromptStream:
        """The prompt as it renders (the neural voice takes a second for a long one)."""
        ...

    def prefetch(self, text: str, settings: VoiceSettings) -> None: ...


@dataclass
class Observers:
    """Who is told what happens: each gets every logged event; captions get spoken text.

    captions: called with each line as its voice begins. lines: told when each line
    begins and when its voice ends (``session.captions``: printed before or after).
    A breathing cue reaches either only the first time its text is said in a session.
    """

    events: list[Callable[[LogEvent], None]] = field(default_factory=list)
    captions: Callable[[str], None] | None = None
    lines: CaptionLines | None = None
    on_listen: Callable[[float, Expectation], None] | None = None
    on_say: Callable[[str | None, float], None] | None = None


@dataclass
class _Playing:
    """The prompt being played: its samples at the sink's rate and how far we are.

    stream: where the rest of the prompt comes from while it is still being rendered
    (``taken`` of its chunks are in ``audio``); None when ``audio`` is the whole prompt.
    """

    audio: PCM
    position: int = 0
    started_t: float = 0.0
    hold_s: float = 0.0
    gain: float = 1.0
    stream: PromptStream | None = None
    taken: int = 0
    name: str = ""  # a bell's asset name
    complete: bool = False  # every chunk of ``stream`` is in ``audio``

    @property
    def rendered(self) -> bool:
        return self.stream is None or self.complete


class SessionRunner:
    """Carries out one session of ``plan`` on the given audio ends.

    blocks: async iterator of 20 ms 16 kHz microphone blocks (ends when input ends).
    typed: a queue the keyboard (or a simulated client) puts typed text into ("stop", "7").
    bell_sound: name -> PCM at the sink's rate, for Bell actions.
    bed: a background texture under the voice; "softer"/"louder" move it with the voice,
      and a stop, any grounding step and the end silence it.
    echo_path: the echo canceller and gate to use (default: a new one), for a caller that
      keeps one across several runners as one session would.
    key_hints: when someone is at the keyboard, the "or press 1 for ..." said once after
      a question (``session.key_hints``).
    """

    def __init__(self, plan: engine.Plan, variables: dict[str, str], *,
                 renderer: PromptRenderer, voice: VoiceSettings, sink: AudioSink,
                 blocks: AsyncIterator[PCM], listener: IntentSource,
                 typed: asyncio.Queue[str] | None = None,
                 stop_words: tuple[str, ...] = DEFAULT_STOP_WORDS,
                 bell_sound: Callable[[str], PCM] | None = None,
                 observers: Observers | None = None, echo_gate: bool = True,
                 bed: BackgroundBed | None = None,
                 echo_path: CancellingGate | None = None, muted: bool = False,
                 key_hints: KeyHints | None = None) -> None:
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
        # The echo canceller (when enabled) first, the gate as the second line.
        self.gate = (echo_path or default_echo_path()) if echo_gate else None
        if self.gate is not None:
            self.gate.attach(sink)  # the canceller's reference from the device, if any
        self.bed = bed
        self.key_hints = key_hints
        self._voice_volume = voice.volume
        self.t = 0.0
        self.state = engine.State()
        self.reason: str | None = None
        self._playing: _Playing | None = None
        self._bells: list[_Playing] = []
        self._deadline: float | None = None  # end of a Wait or a Listen
        self._listening = False
        self._signals: asyncio.Queue[str] = asyncio.Queue()
        self._signal_deadline: float | None = None
        self._signal_wall_deadline = 0.0
        self._out_block = max(1, round(sink.sample_rate * TICK_S))
        self.limiter = Limiter()
        self.interrupts = 0
        # Console (issue 17): controls wait here for the next tick; muted keeps the voice's
        # timing but plays silence (teleprompter mode: the therapist reads aloud).
        self._controls: asyncio.Queue[Control] = asyncio.Queue()
        self.muted = muted
        self._cues_captioned: set[str] = set()
        self._line_open = False

    # ------------------------------------------------------------ public

    def signal(self, name: str = "SIGINT") -> None:
        """Ctrl-C or SIGTERM (thread-safe through ``loop.call_soon_threadsafe``)."""
        self._signals.put_nowait(name)

    def control(self, control: Control) -> None:
        """A console control, acted on at the next tick (call on the session's loop)."""
        self._controls.put_nowait(control)

    async def run(self) -> str:
        """Run to the end; return the end reason (completed, stopped, signal, fault)."""
        faults = 0
        # The start actions (the first step's bell, its prompt) run inside the same guard
        # as every tick: a fault in the first step must still end grounded.
        try:
            self.state, actions = engine.start(self.plan, self.variables, self.voice.rate_wpm,
                                               self.voice.volume)
        except Exception as error:  # e.g. a script the engine cannot enter
            # The state engine.start would have begun with, so the grounding has its words.
            merged = {"perspective": "first", "eyes": "closed", **self.plan.script.variables,
                      **self.variables}
            self.state = engine.State(variables=MappingProxyType(merged),
                                      rate_wpm=self.voice.rate_wpm, volume=self.voice.volume)
            self._emit(Log("session_start", None, {"script": self.plan.script.name,
                                                   "mode": self.plan.script.mode}))
            faults = self._fault(error, faults)
        else:
            try:
                self._perform(actions)
            except DeviceLostError as error:
                self._device_lost(error)
            except Exception as error:  # any fault must still end grounded
                faults = self._fault(error, faults)
        if self.reason is None:
            try:
                await self._loop(faults)
            except DeviceLostError as error:
                self._device_lost(error)
        self._end_line()
        self._flush_output()
        return self.reason or "fault"

    async def _loop(self, faults: int) -> None:
        async for block in self.blocks:
            try:
                self._tick(block)
            except DeviceLostError:
                raise
            except Exception as error:  # any fault must still end grounded
                faults = self._fault(error, faults)
            if self.reason is not None:
                return
        if self.reason is None:  # the microphone input ended: end grounded all the same
            self._apply(engine.Fault("the microphone input ended"))
            self._drain_without_input()

    def _device_lost(self, error: DeviceLostError) -> None:
        """A device is gone: say so in text at once, by voice if the output still works."""
        if self.reason is not None:
            return
        self._end_now("fault", {"error": f"device lost: {error.message}"}, DEVICE_LOST_TEXT)
        if error.kind == "output":
            return
        # Only the microphone went: the speaker can still say it, briefly and bounded
        # (a write raises DeviceLostError if the output goes too).
        with contextlib.suppress(Exception):
            audio = self._at_sink_rate(self.renderer.render(DEVICE_LOST_TEXT, self.voice))
            gain = self.state.volume
            for start in range(0, len(audio), self._out_block):
                chunk = audio[start:start + self._out_block].astype(np.float32) * gain
                self.sink.write(self.limiter.process(chunk))

    def _fault(self, error: Exception, faults: int) -> int:
        """Ground after a first fault; a second one ends the session at once."""
        faults += 1
        if faults == 1:
            try:
                self._apply(engine.Fault(repr(error)))
                return faults
            except Exception as again:  # the grounding itself failed
                error, faults = again, 2
        self._end_now("fault", {"error": repr(error)})
        return faults

    def _end_now(self, reason: str, fault: dict[str, str] | None = None,
                 caption: str = "The session ended. Take your time to come back to the room."
                 ) -> None:
        """End at once, without the engine (it faulted, a device is gone, or a signal's
        grace is over).
        """
        if self.reason is not None:
            return
        with contextlib.suppress(Exception):
            self._interrupt()
        if fault is not None:
            self._emit(Log("fault", self.state.step, fault))
        self._emit(Log("session_end", self.state.step, {"reason": reason}))
        self.reason = reason
        self._caption(caption)
        self._end_line()

    # ------------------------------------------------------------ one tick

    def _tick(self, block: PCM) -> None:
        self.t += len(block) / ASR_RATE
        self._check_output_alive()
        while not self._signals.empty():
            name = self._signals.get_nowait()
            if self._signal_deadline is None:
                self._signal_deadline = self.t + SIGNAL_GRACE_S
                self._signal_wall_deadline = time.monotonic() + SIGNAL_GRACE_S
            self._apply(Signal(name))
        if self._signal_deadline is not None and (
                self.t >= self._signal_deadline
                or time.monotonic() >= self._signal_wall_deadline):
            # Grounded as far as the grace allowed: a second Signal ends at once; should
            # the engine not end on it, the runner does.
            self._apply(Signal("grace over"))
            self._end_now("signal")
            return
        while not self._controls.empty() and self.reason is None:
            self._apply(self._controls.get_nowait())
        heard_audio = self.gate.filter(block) if self.gate else block
        expect = engine.expectation(self.plan, self.state)
        for heard in self.listener.feed(heard_audio, expect):
            self._hear(heard)
        while not self.typed.empty():
            typed = typed_intent(self.typed.get_nowait(),
                                 engine.expectation(self.plan, self.state), self.stop_words)
            if typed is not None:
                self._hear(Heard(typed))
        if self.reason is None:
            self._play_block()
        if self.reason is None:
            self._check_deadline()

    def _hear(self, heard: Heard) -> None:
        # The engine ignores answers that no question asked for; stop always counts.
        if self.reason is None:
            self._apply(heard)

    def _apply(self, event: engine.Event | Control) -> None:
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
            elif isinstance(action, Interrupt):
                self._interrupt()
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
                if not self.listener.hearing_speech:
                    self.listener.reset()
                if self.observers.on_listen:
                    self.observers.on_listen(self.t, action.expect)

    # ------------------------------------------------------------ output

    def _speak(self, action: Speak) -> None:
        self._stop_audio()
        self._deadline = None
        self._listening = False
        settings = replace(self.voice, rate_wpm=self.state.rate_wpm)
        hint = self._key_hint()
        # Captioned before rendering, so the text is out before any of its voice.
        self._caption(f"{action.text} {hint}" if hint else action.text,
                      cue=self.state.phase == "cue")
        # A prompt starts playing its first sentence while the rest renders. A question
        # with a key hint is rendered whole: the hint is a piece of its own, so that a
        # recorded take of the question still fits.
        gain = min(1.0, self.state.volume * (1.4 if action.louder else 1.0))
        if not hint:
            source = self.renderer.stream_for(self.state.step, action.text, settings)
            self._playing = _Playing(np.zeros(0, np.int16), 0, self.t, action.hold_s, gain,
                                     stream=source)
            self._pull(self._playing)
        else:
            audio = self.renderer.render_for(self.state.step, action.text, settings)
            gap = np.zeros(int(HINT_GAP_S * self.renderer.sample_rate), np.int16)
            audio = np.concatenate([audio, gap, self.renderer.render(hint, settings)])
            self._playing = _Playing(self._at_sink_rate(audio), 0, self.t, action.hold_s,
                                     gain)
        if self.observers.on_say:
            self.observers.on_say(self.state.step, self.t)
        self._prefetch_next()

    def _at_sink_rate(self, audio: PCM) -> PCM:
        rate = self.renderer.sample_rate
        if rate != self.sink.sample_rate:
            from voice_imrs.audio.wav import resample

            audio = resample(audio, rate, self.sink.sample_rate)
        return audio

    def _pull(self, playing: _Playing) -> None:
        """Add what the prompt's stream rendered since the last block.

        A sound device never waits (silence plays until the first sentence is there); a
        file or null sink waits for a whole block or the end, so a simulated session
        sounds the same, to the sample, on any machine and at any render speed.
        """
        stream = playing.stream
        if stream is None:
            return
        while not playing.complete:
            fresh, playing.complete = stream.pending_from(playing.taken)
            if fresh:
                playing.taken += len(fresh)
                # Resampled per chunk: chunks end at a pause between sentences, so no seam.
                more = [self._at_sink_rate(chunk) for chunk in fresh]
                playing.audio = np.concatenate([playing.audio, *more])
            if playing.complete and stream.error is not None:
                raise stream.error  # the session's fault handling takes over
            short = len(playing.audio) - playing.position < self._out_block
            if self.sink.realtime or not short or playing.complete:
                return
            if not stream.wait_beyond(playing.taken, RENDER_WAIT_S):
                return  # a render this slow is stuck: play on, the fault shows later

    def _key_hint(self) -> str | None:
        """The key hint for a question being asked for the first time (not a reprompt)."""
        if self.key_hints is None or self.state.phase != "speak" or not self.state.step:
            return None
        return self.key_hints.hint(self.plan.steps.get(self.state.step),
                                   engine.expectation(self.plan, self.state))

    def _prefetch_next(self) -> None:
        following = self.plan.following(self.state.step) if self.state.step else None
        step = self.plan.steps.get(following or "")
        text = getattr(step, "text", "")  # steps that say nothing (a pause, a jump) have none
        if text and "{" not in text and "[" not in text:
            self.renderer.prefetch(text, replace(self.voice, rate_wpm=self.state.rate_wpm))

    def _play_block(self) -> None:
        """Top the output up: one block per tick on a file or null sink (their clock is
        ours), as many as keep a sound device ``OUTPUT_AHEAD_S`` ahead otherwise.
        """
        if not self.sink.realtime:
            self._play_one_block()
            return
        queued = self.sink.queued_s
        while queued < OUTPUT_AHEAD_S and self.reason is None:
            self._play_one_block()
            queued += TICK_S

    def _play_one_block(self) -> None:
        n = self._out_block
        out = np.zeros(n, np.float32)
        playing = self._playing
        finished = False
        if playing is not None:
            self._pull(playing)
            chunk = playing.audio[playing.position:playing.position + n]
            playing.position += len(chunk)
            out[:len(chunk)] += chunk.astype(np.float32) * (0.0 if self.muted else playing.gain)
            if playing.position >= len(playing.audio) and playing.rendered:
                self._end_line()  # the voice of the line is out (a cue may still hold)
            if playing.position >= len(playing.audio) and playing.rendered and \
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
        block = self.limiter.process(out)  # turned down as a whole, never clipped
        self.sink.write(block)
        if self.gate is not None:
            self.gate.played(block, self.sink.sample_rate)
        if finished:
            self._playing = None
            self._apply(SpeechDone())

    def _stop_audio(self) -> None:
        """Cut off the prompt in progress at once (barge-in, or the engine moved on)."""
        playing = self._playing
        if playing is not None and (playing.position < len(playing.audio)
                                    or not playing.rendered):
            self.sink.abort()
            if playing.stream is not None:
                playing.stream.cancel()  # its rest would only delay what is said next
        self._playing = None
        self._end_line()

    def _interrupt(self) -> None:
        """Silence everything we play, now: the voice, every bell and the background.

        The sink's abort drops what it has queued, so the next output block is silent.
        """
        self.interrupts += 1
        self._playing = None
        self._bells.clear()
        if self.bed is not None and not self.bed.silent:
            self.bed.stop()
        self.sink.abort()

    def _bell(self, action: Bell) -> None:
        if self.bell_sound is None:
            return
        gain = bell_gain(action.gain, self.state.volume)
        for ringing in self._bells:
            # A step that rings its bell while an alert rings the same one: ring it once
            # (two copies at once doubled its level and clipped).
            if ringing.name == action.name and self.t - ringing.started_t < BELL_MERGE_S:
                ringing.gain = max(ringing.gain, gain)
                return
        audio = soft_onset(self.bell_sound(action.name), self.sink.sample_rate)
        self._bells.append(_Playing(audio, 0, self.t, gain=gain, name=action.name))
        self._emit(Log("bell", self.state.step, {"name": action.name}))

    def _setting(self, action: Setting) -> None:
        if action.name == "muted":
            self.muted = bool(action.value)
            return
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
        grounding = action.event == "step" and is_grounding(action.step)
        if grounding or action.event in ("interrupted", "session_end"):
            self.bed.stop()

    def _check_deadline(self) -> None:
        if self._deadline is None or self.t < self._deadline - 1e-9:
            return
        if (self._listening and self.listener.hearing_speech
                and self.t < self._deadline + ANSWER_GRACE_S):
            return  # an answer has begun: "no input" means nothing was said in time
        self._deadline = None
        if self._listening:
            self._listening = False
            self._apply(Silence())
        else:
            self._apply(TimerDone())

    def _check_output_alive(self) -> None:
        """Raise DeviceLostError when the sound output has stopped taking audio."""
        self.sink.check_alive()

    def _drain_without_input(self) -> None:
        """Input ended: play the closing grounding to its end on silence."""
        silent = np.zeros(BLOCK, np.int16)
        guard = 0
        while self.reason is None and guard < 50 * 600:
            guard += 1
            self.t += TICK_S
            self._check_output_alive()
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

    def _caption(self, text: str, cue: bool = False) -> None:
        if cue:
            # "Breathe in", "and breathe out" 24 times would bury the rest for a screen reader.
            if text in self._cues_captioned:
                return
            self._cues_captioned.add(text)
        if self.observers.captions is not None:
            self.observers.captions(text)
        if self.observers.lines is not None:
            self._end_line()
            self.observers.lines.begin(text)
            self._line_open = True

    def _end_line(self) -> None:
        if self._line_open and self.observers.lines is not None:
            self._line_open = False
            self.observers.lines.end()
