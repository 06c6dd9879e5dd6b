"""``voice-imrs bench barge-in``: from the end of a spoken "stop" to silence on the output.

Everything runs on real sound-device streams, on the virtual PulseAudio device of
``scripts/virtual-audio.sh`` (the one already running, or one started for the run):

- the session under test is ``SessionRunner`` put together as ``voice-imrs run`` does it
  (default recognizer, espeak-ng, echo gate), playing a long prompt into the default
  output ``speaker`` and listening to the default input ``mic``;
- an injector stream plays a held-out recording of "stop" into ``mic_feed``, which is what
  ``mic`` hears (the headphones case: the microphone does not hear the prompt);
- two observer streams record ``mic`` (the word as the session hears it) and
  ``speaker.monitor`` (what the session plays). Both stamp each block with its arrival
  time in the same way, so their capture latency cancels out of the difference.

The word ends where the clip's energy last rises above -20 dB of its peak (room noise
in the recordings reaches -30 dB; an early word end only lengthens the measured time); the output is
silent after its last sample above ``SOUND_LEVEL``. After the abort, the sink wrapper drops
what the session writes next (the grounding that always follows a stop), so any sound after
the cut is what the device still held. ``decision_ms`` is the abort call itself.

With ``--loudspeaker`` the microphone also hears the session's own voice: a room stream
records ``speaker.monitor``, passes it through a simulated room (``ROOM_DELAY_S`` on top of
the devices' own latency, a decaying response of ``ROOM_DECAY_S``, a 3.5 kHz low-pass, at
``ROOM_LEVEL``) and mixes it into ``mic_feed`` with the recorded stop: the double-talk case
of laptop speakers. The session's echo path (canceller, then gate) runs for the whole
benchmark, as it does for a whole session, so it has learned the room when a stop comes.

The peer is SpeechRecognition as its documentation shows it: ``listen()`` on the microphone
(after ``adjust_for_ambient_noise``), then ``recognize_sphinx`` with a keyword entry for
"stop", while ``tts.speak`` plays the same prompt; on the same clips in the same run.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import random
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import numpy as np

from voice_imrs.ports import ASR_RATE, PCM, AudioSink, Synthesizer

#: A long prompt without punctuation: espeak-ng pauses at commas and full stops, and a cut
#: inside such a pause would make the output look silent before the abort.
PROMPT = ("Imagine the place where you feel safe and notice the light the sounds and the air "
          "on your skin and let the picture grow slowly as you breathe in and out ") * 4
SOUND_LEVEL = 200          # int16: the null sink is digitally silent, speech is far louder
WORD_END_DB = -20.0        # the word ends where its energy last rises above this (re peak)
ROOM_NOISE_RMS = 3.0       # the injector plays faint noise between clips: no digital zeros
SCRIPTS = Path(__file__).resolve().parents[1] / "scripts"
ROOM_DELAY_S = 0.03        # loudspeaker to microphone, beyond the devices' latency
ROOM_DECAY_S = 0.03        # the room response's time constant (a small, damped room)
ROOM_LENGTH_S = 0.15
ROOM_LEVEL = 0.4           # the echo's level re the voice as played
ECHO_BACKLOG_S = 0.2       # the room's echo waiting to be mixed in, at most ...
ECHO_KEEP_S = 0.04         # ... cut back to this (once, after the start-up stall)


@dataclass
class Trial:
    """One injected stop: what was heard and when (ms after the end of the word)."""

    clip: str
    heard: bool
    latency_ms: float | None = None
    decision_ms: float | None = None


@dataclass
class Outcome:
    """All trials of one system."""

    trials: list[Trial] = field(default_factory=list)

    @property
    def latencies(self) -> list[float]:
        return [t.latency_ms for t in self.trials if t.latency_ms is not None]

    def summary(self) -> dict[str, Any]:
        values = self.latencies
        decisions = [t.decision_ms for t in self.trials if t.decision_ms is not None]
        return {"trials": len(self.trials), "heard": sum(t.heard for t in self.trials),
                "p50_ms": _percentile(values, 50), "p95_ms": _percentile(values, 95),
                "max_ms": round(max(values), 1) if values else None,
                "decision_p50_ms": _percentile(decisions, 50)}


def _percentile(values: list[float], q: float) -> float | None:
    return round(float(np.percentile(values, q)), 1) if values else None


# ---------------------------------------------------------------- streams


def _pulse_stream(kind: Literal["input", "output"], name: str, rate: int,
                  callback: Callable[..., None]) -> Any:
    """A started mono int16 stream in 10 ms blocks on the PulseAudio source/sink ``name``."""
    from voice_imrs.audio.devices import choose_device, import_sounddevice, opening

    sd = import_sounddevice()
    open_stream = sd.InputStream if kind == "input" else sd.OutputStream
    choice = choose_device(f"pulse:{name}", kind)
    with opening(choice, kind):
        stream = open_stream(device=choice.index, samplerate=rate,
                             channels=1, dtype="int16", blocksize=rate // 100,
                             latency="low", callback=callback)
        stream.start()
    return stream


class Capture:
    """Records one PulseAudio source, stamping each block with its arrival time."""

    def __init__(self, source: str, rate: int) -> None:
        self.rate = rate
        self._blocks: list[tuple[float, PCM]] = []
        self._lock = threading.Lock()
        self._stream = _pulse_stream("input", source, rate, self._callback)

    def _callback(self, indata: np.ndarray, _frames: int, _time: Any, _status: Any) -> None:
        with self._lock:
            self._blocks.append((time.monotonic(), indata[:, 0].copy()))

    def since(self, start: float) -> tuple[PCM, np.ndarray]:
        """Samples that arrived after ``start`` and the monotonic time each arrived."""
        with self._lock:
            blocks = [(t, b) for t, b in self._blocks if t >= start]
            self._blocks = [(t, b) for t, b in self._blocks if t >= start - 5.0]
        if not blocks:
            return np.zeros(0, np.int16), np.zeros(0)
        samples = np.concatenate([b for _, b in blocks])
        times = np.concatenate([t - (len(b) - 1 - np.arange(len(b))) / self.rate
                                for t, b in blocks])
        return samples, times

    def close(self) -> None:
        self._stream.stop()
        self._stream.close()


class Injector:
    """Plays clips into a PulseAudio sink (faint room noise in between)."""

    def __init__(self, sink: str, rate: int = ASR_RATE) -> None:
        self._pending: list[PCM] = []
        self._lock = threading.Lock()
        self._noise = np.random.default_rng(7)
        self._echo: list[np.ndarray] = []  # the room's echo of the speaker, to mix in
        self._stream = _pulse_stream("output", sink, rate, self._callback)

    def play(self, clip: PCM) -> None:
        with self._lock:
            self._pending.append(np.asarray(clip, np.int16))

    def add_echo(self, samples: np.ndarray) -> None:
        """Mix these (float) samples in as they come: the loudspeaker heard in the room."""
        with self._lock:
            self._echo.append(samples)
            # A stream over PulseAudio stalls 0.5-2 s after it starts (see audio/output.py):
            # what piles up meanwhile is dropped, so the room's delay stays what it is.
            if sum(len(e) for e in self._echo) > ECHO_BACKLOG_S * ASR_RATE:
                while sum(len(e) for e in self._echo) > ECHO_KEEP_S * ASR_RATE:
                    self._echo.pop(0)

    def _take_echo(self, frames: int) -> np.ndarray:
        out = np.zeros(frames)
        filled = 0
        while self._echo and filled < frames:
            head = self._echo[0]
            n = min(frames - filled, len(head))
            out[filled:filled + n] = head[:n]
            filled += n
            if n == len(head):
                self._echo.pop(0)
            else:
                self._echo[0] = head[n:]
        return out

    def _callback(self, outdata: np.ndarray, frames: int, _time: Any, _status: Any) -> None:
        out = self._noise.normal(0.0, ROOM_NOISE_RMS, frames)
        with self._lock:
            out += self._take_echo(frames)
            filled = 0
            while self._pending and filled < frames:
                clip = self._pending[0]
                n = min(frames - filled, len(clip))
                out[filled:filled + n] += clip[:n]
                filled += n
                if n == len(clip):
                    self._pending.pop(0)
                else:
                    self._pending[0] = clip[n:]
        outdata[:, 0] = np.clip(out, -32768, 32767).astype(np.int16)

    def close(self) -> None:
        self._stream.stop()
        self._stream.close()


class Room:
    """The loudspeaker heard in a room: ``speaker.monitor`` through a simulated room
    response into the injector (so into the session's microphone).
    """

    def __init__(self, injector: Injector, seed: int = 3) -> None:
        from scipy.signal import butter, sosfilt_zi

        rng = np.random.default_rng(seed)
        length = int(ROOM_LENGTH_S * ASR_RATE)
        response = rng.standard_normal(length) * 0.3 * np.exp(
            -np.arange(length) / (ROOM_DECAY_S * ASR_RATE))
        response[0] = 1.0
        delay = int(ROOM_DELAY_S * ASR_RATE)
        self.response = np.concatenate([np.zeros(delay), response]) * ROOM_LEVEL
        self._sos = butter(6, 3500, fs=ASR_RATE, output="sos")
        self._sos_state = sosfilt_zi(self._sos) * 0.0
        self._history = np.zeros(len(self.response) - 1)
        self.injector = injector
        self._stream = _pulse_stream("input", "speaker.monitor", ASR_RATE, self._callback)

    def _callback(self, indata: np.ndarray, _frames: int, _time: Any, _status: Any) -> None:
        from scipy.signal import sosfilt

        block = indata[:, 0].astype(np.float64)
        # A streaming FIR: the history carries the room's tail across blocks.
        joined = np.concatenate([self._history, block])
        echoed = np.convolve(joined, self.response, mode="valid")
        self._history = joined[-(len(self.response) - 1):]
        filtered, self._sos_state = sosfilt(self._sos, echoed, zi=self._sos_state)
        self.injector.add_echo(filtered)

    def close(self) -> None:
        self._stream.stop()
        self._stream.close()


class MuteAfterAbort:
    """The session's sink, except that whatever is written after an abort is silence.

    It lets the benchmark see where the interrupted prompt ended: the grounding that
    follows a stop would otherwise start sounding at once.
    """

    def __init__(self, sink: AudioSink) -> None:
        self.sink = sink
        self.aborted_at: float | None = None

    @property
    def realtime(self) -> bool:
        return self.sink.realtime

    @property
    def queued_s(self) -> float:
        return self.sink.queued_s

    def check_alive(self) -> None:
        self.sink.check_alive()

    @property
    def sample_rate(self) -> int:
        return self.sink.sample_rate

    @property
    def device_rate(self) -> int:
        return int(getattr(self.sink, "device_rate", self.sink.sample_rate))

    @property
    def tap(self) -> object:
        """The device's own tap: the echo canceller's reference is what it played."""
        return getattr(self.sink, "tap", None)

    @tap.setter
    def tap(self, value: object) -> None:
        self.sink.tap = value  # type: ignore[attr-defined]

    def write(self, block: PCM) -> None:
        self.sink.write(np.zeros_like(block) if self.aborted_at is not None else block)

    def abort(self) -> None:
        self.sink.abort()
        if self.aborted_at is None:
            self.aborted_at = time.monotonic()

    def drain(self) -> None:
        self.sink.drain()

    def close(self) -> None:
        """The real sink outlives the trial."""


# ---------------------------------------------------------------- measuring


def word_end(clip: PCM, rate: int = ASR_RATE) -> int:
    """Sample index just after the last 10 ms frame within ``WORD_END_DB`` of the peak."""
    frame = rate // 100
    n = len(clip) // frame
    energy = (clip[:n * frame].astype(np.float64).reshape(n, frame) ** 2).mean(axis=1)
    loud = np.flatnonzero(energy >= energy.max() * 10 ** (WORD_END_DB / 10))
    return int(loud[-1] + 1) * frame


def heard_word_end(clip: PCM, mic: PCM, times: np.ndarray) -> float | None:
    """Arrival time at the microphone of the clip's word end (found by correlation)."""
    from scipy.signal import correlate

    if len(mic) < len(clip):
        return None
    heard = mic.astype(np.float64)
    scores = correlate(heard, clip.astype(np.float64), mode="valid", method="fft")
    # Normalized by the microphone's energy under the clip: with loudspeakers the voice's
    # echo is louder than the word, and raw correlation peaks on it.
    energy = np.concatenate([[0.0], np.cumsum(heard * heard)])
    local = energy[len(clip):] - energy[:len(energy) - len(clip)]
    start = int(np.argmax(scores / np.sqrt(np.maximum(local, 1.0))))
    end = start + word_end(clip) - 1
    return float(times[min(end, len(times) - 1)])


def last_sound(output: PCM, times: np.ndarray) -> float | None:
    loud = np.flatnonzero(np.abs(output.astype(np.int32)) > SOUND_LEVEL)
    return float(times[loud[-1]]) if len(loud) else None


def stop_clips(count: int, manifest: str | None = None) -> list[Path]:
    """Held-out speakers' recordings of "stop", cycled to ``count``."""
    from benchmarks.recognition import DEFAULT_MANIFEST, load_clips

    clips = [c.path for c in load_clips(manifest or DEFAULT_MANIFEST) if c.transcript == "stop"]
    return [clips[i % len(clips)] for i in range(count)]


@dataclass
class Rig:
    """The streams every trial shares."""

    sink: AudioSink
    injector: Injector
    mic: Capture
    output: Capture

    async def voice_sounding(self, since: float, timeout: float) -> None:
        """Return once the output has sounded after ``since`` (or after ``timeout``)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            played, times = self.output.since(since)
            if last_sound(played, times) is not None:
                return
            await asyncio.sleep(0.05)

    def measure(self, clip_name: str, clip: PCM, started: float,
                aborted_at: float | None) -> Trial:
        heard_audio, heard_times = self.mic.since(started)
        played, played_times = self.output.since(started)
        end = heard_word_end(clip, heard_audio, heard_times)
        silent = last_sound(played, played_times)
        trial = Trial(clip_name, heard=aborted_at is not None)
        if trial.heard and end is not None and silent is not None:
            trial.latency_ms = round((silent - end) * 1000, 1)
            trial.decision_ms = round((aborted_at - end) * 1000, 1)  # type: ignore[operator]
        return trial


# ---------------------------------------------------------------- ours


async def _our_trials(rig: Rig, clips: list[Path], recognizer: str,
                      rng: random.Random, echo_gate: bool = True,
                      loudspeaker: bool = False) -> Outcome:
    from voice_imrs.audio.input import SoundDeviceSource
    from voice_imrs.audio.wav import read_wav_at
    from voice_imrs.core.profile import Profile
    from voice_imrs.core.script import End, Say, Script
    from voice_imrs.session import parts
    from voice_imrs.session.echo_gate import CancellingGate, default_echo_path
    from voice_imrs.session.live import MicrophoneBlocks
    from voice_imrs.session.recorded_voice import RecordedVoice
    from voice_imrs.session.runner import Observers, SessionRunner

    profile = Profile()
    script = Script("barge_in", "Barge-in", (Say("prompt", PROMPT), End("end")))
    plan = parts.plan_for(script, profile)
    speech = parts.make_speech()
    listener = parts.make_listener(recognizer, None, profile)
    mic = MicrophoneBlocks(SoundDeviceSource(None), asyncio.get_running_loop())
    outcome = Outcome()
    # One echo path for every trial, as one session keeps one: it has learned the room.
    # With loudspeakers the canceller runs, whatever the sessions' default (off) is.
    echo_path = None if not echo_gate else (CancellingGate() if loudspeaker
                                            else default_echo_path())
    try:
        # A capture stream over PulseAudio stalls for up to ~1 s after it opens, then
        # delivers in a burst; a session is speaking its first prompt by then.
        await asyncio.sleep(1.0)
        for path in clips:
            clip = read_wav_at(path, ASR_RATE)
            speaking = asyncio.Event()
            interrupted = asyncio.Event()

            def watch(event: Any, speaking: asyncio.Event = speaking,
                      interrupted: asyncio.Event = interrupted) -> None:
                if event.event == "say_start":
                    speaking.set()
                elif event.event == "interrupted" and event.fields.get("by") == "stop":
                    interrupted.set()

            await asyncio.sleep(0.05)  # blocks handed over meanwhile reach the queue
            while not mic.queue.empty():  # the last trial's leftovers
                left = mic.queue.get_nowait()
                if echo_path is not None and isinstance(left, np.ndarray):
                    # The echo path hears every block, as in one long session: its
                    # reference stays sample-locked to the microphone.
                    echo_path.filter(left)
            listener.reset()
            sink = MuteAfterAbort(rig.sink)
            runner = SessionRunner(plan, parts.variables_for(profile),
                                   renderer=RecordedVoice.plain(speech.renderer),
                                   voice=parts.voice_for(profile), sink=sink,
                                   blocks=mic.__aiter__(), listener=listener,
                                   stop_words=tuple(profile.stop_words),
                                   observers=Observers(events=[watch]), echo_gate=echo_gate,
                                   echo_path=echo_path)
            started = time.monotonic()
            session = asyncio.create_task(runner.run())
            await asyncio.wait_for(speaking.wait(), timeout=10.0)
            # The stop is said over the voice: it must be sounding first (the neural voice
            # takes a moment to render the prompt's first sentence).
            await rig.voice_sounding(started, timeout=15.0)
            await asyncio.sleep(rng.uniform(1.0, 2.0))
            rig.injector.play(clip)
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(interrupted.wait(), len(clip) / ASR_RATE + 2.0)
            await asyncio.sleep(0.4)  # the output's tail reaches the observer
            runner.signal("SIGINT")
            runner.signal("SIGINT")  # a second signal ends at once
            await asyncio.wait_for(session, timeout=10.0)
            # Without a stop, the abort came from the signals above: not heard.
            trial = rig.measure(path.name, clip, started,
                                sink.aborted_at if interrupted.is_set() else None)
            outcome.trials.append(trial)
            _progress("ours", len(outcome.trials), len(clips), trial)
    finally:
        mic.close()
        speech.close()
    return outcome


# ---------------------------------------------------------------- the peer


class _Microphone:
    """Our sound-device source as the stream ``speech_recognition`` reads chunks from."""

    def __init__(self, source: Any) -> None:
        self.source = source
        self._buffer = np.zeros(0, np.int16)

    def read(self, frames: int) -> bytes:
        while len(self._buffer) < frames:
            block = self.source.read()
            if block is None:
                break
            self._buffer = np.concatenate([self._buffer, block])
        out, self._buffer = self._buffer[:frames], self._buffer[frames:]
        return out.astype("<i2").tobytes()


def _peer_microphone(sr: Any, source: Any) -> Any:
    """A ``speech_recognition.AudioSource`` (its ``listen`` checks the class) on ``source``."""

    class Microphone(sr.AudioSource):
        SAMPLE_RATE = ASR_RATE
        SAMPLE_WIDTH = 2
        CHUNK = 1024  # speech_recognition.Microphone's default

        def __init__(self) -> None:
            self.stream = _Microphone(source)

        def __enter__(self) -> Any:
            return self

        def __exit__(self, *_exc: object) -> None:
            return None

    return Microphone()


def _peer_trials(rig: Rig, clips: list[Path], rng: random.Random,
                 synth: Synthesizer) -> Outcome:
    import speech_recognition as sr

    from benchmarks.peer import STOP_KEYWORDS
    from voice_imrs.audio.input import SoundDeviceSource
    from voice_imrs.audio.wav import read_wav_at
    from voice_imrs.ports import VoiceSettings
    from voice_imrs.tts.speak import speak

    recognizer = sr.Recognizer()
    source = SoundDeviceSource(None)
    microphone = _peer_microphone(sr, source)
    outcome = Outcome()
    try:
        with microphone:
            recognizer.adjust_for_ambient_noise(microphone, duration=0.5)
        for path in clips:
            clip = read_wav_at(path, ASR_RATE)
            stop = threading.Event()
            aborted: list[float] = []

            def listen(stop: threading.Event = stop, aborted: list[float] = aborted) -> None:
                deadline = time.monotonic() + 12.0
                while not stop.is_set() and time.monotonic() < deadline:
                    try:
                        audio = recognizer.listen(microphone, timeout=1.0, phrase_time_limit=5)
                        text = recognizer.recognize_sphinx(audio,
                                                           keyword_entries=list(STOP_KEYWORDS))
                    except (sr.WaitTimeoutError, sr.UnknownValueError):
                        continue
                    if "stop" in str(text).split():
                        aborted.append(time.monotonic())
                        stop.set()
                        rig.sink.abort()

            while source._queue.qsize():  # the last trial's leftovers
                source.read()
            player = threading.Thread(target=speak, args=(PROMPT, synth, rig.sink,
                                                          VoiceSettings(), stop))
            hearer = threading.Thread(target=listen)
            started = time.monotonic()
            player.start()
            hearer.start()
            time.sleep(0.2 + rng.uniform(1.0, 2.0))
            rig.injector.play(clip)
            hearer.join(timeout=len(clip) / ASR_RATE + 6.0)
            time.sleep(0.4)
            stop.set()
            player.join(timeout=5.0)
            hearer.join(timeout=5.0)
            trial = rig.measure(path.name, clip, started, aborted[0] if aborted else None)
            outcome.trials.append(trial)
            _progress("peer", len(outcome.trials), len(clips), trial)
    finally:
        source.close()
    return outcome


# ---------------------------------------------------------------- running


def _progress(who: str, done: int, total: int, trial: Trial) -> None:
    shown = f"{trial.latency_ms:.0f} ms" if trial.latency_ms is not None else "not heard"
    print(f"{who} {done}/{total} {trial.clip}: {shown}", file=sys.stderr, flush=True)


@contextlib.contextmanager
def virtual_device() -> Iterator[None]:
    """The virtual PulseAudio device: the running one, or one started for this run."""
    server = os.environ.get("PULSE_SERVER")
    if server and _has_sink(server, "mic_feed"):
        yield
        return
    from voice_imrs.errors import DeviceError

    script = SCRIPTS / "virtual-audio.sh"
    if not script.is_file() or shutil.which("pulseaudio") is None:
        raise DeviceError("The barge-in benchmark needs the virtual sound device "
                          "(PulseAudio and scripts/virtual-audio.sh of a source checkout).",
                          hint="Run scripts/setup.sh first.")
    if "sounddevice" in sys.modules:
        raise DeviceError("The virtual sound device must start before sound devices are "
                          "listed.", hint="Run the benchmark in its own process.")
    folder = tempfile.mkdtemp(prefix="voice-imrs-bench-")
    env = {**os.environ, "VOICE_IMRS_PULSE_DIR": folder}
    started = subprocess.run([str(script), "start"], env=env, capture_output=True, text=True,
                             check=False)
    if started.returncode != 0:
        raise DeviceError(f"The virtual sound device did not start ({started.stderr.strip()}).",
                          hint="Check that pulseaudio is installed (scripts/setup.sh).")
    os.environ["PULSE_SERVER"] = started.stdout.strip().split("=", 1)[1]
    try:
        yield
    finally:
        subprocess.run([str(script), "stop"], env=env, capture_output=True, check=False)
        shutil.rmtree(folder, ignore_errors=True)


def _has_sink(server: str, name: str) -> bool:
    listed = subprocess.run(["pactl", "list", "short", "sinks"], capture_output=True,
                            text=True, env={**os.environ, "PULSE_SERVER": server}, check=False)
    return any(line.split("\t")[1:2] == [name] for line in listed.stdout.splitlines())


def measure(trials: int, recognizer: str = "keyword", peer: bool = True, seed: int = 1,
            clips: list[Path] | None = None, echo_gate: bool = True,
            loudspeaker: bool = False) -> dict[str, Any]:
    """Run ``trials`` barge-ins of ours (and the peer's); return the summary.

    clips: the recordings of "stop" to inject (default: held-out speakers', in order).
    loudspeaker: the microphone also hears the voice through a simulated room.
    """
    from voice_imrs.audio.output import SoundDeviceSink
    from voice_imrs.tts.espeak import EspeakSynthesizer

    clips = [clips[i % len(clips)] for i in range(trials)] if clips else stop_clips(trials)
    with virtual_device():
        synth = EspeakSynthesizer()
        sink = SoundDeviceSink(None, synth.sample_rate)
        injector = Injector("mic_feed")
        mic = Capture("mic", ASR_RATE)
        output = Capture("speaker.monitor", sink.sample_rate)
        rig = Rig(sink, injector, mic, output)
        room = Room(injector) if loudspeaker else None
        try:
            ours = asyncio.run(_our_trials(rig, clips, recognizer, random.Random(seed),
                                           echo_gate, loudspeaker))
            theirs = _peer_trials(rig, clips, random.Random(seed), synth) if peer else None
        finally:
            for stream in (room, output, mic, injector):
                if stream is not None:
                    stream.close()
            sink.close()
    summary: dict[str, Any] = {"recognizer": recognizer, "loudspeaker": loudspeaker,
                               **ours.summary(),
                               "latencies_ms": [t.latency_ms for t in ours.trials],
                               "output_latency_ms": round(sink.output_latency * 1000, 1)}
    if theirs is not None:
        peer_summary = theirs.summary()
        summary["peer"] = peer_summary
        summary["peer_p50_ms"] = peer_summary["p50_ms"]
        if summary["p50_ms"] and peer_summary["p50_ms"]:
            summary["ratio"] = round(peer_summary["p50_ms"] / summary["p50_ms"], 2)
        else:
            summary["ratio"] = None
    return summary


def run(args: argparse.Namespace) -> int:
    summary = measure(args.trials, args.recognizer, peer=not args.no_peer,
                      loudspeaker=getattr(args, "loudspeaker", False))
    print(json.dumps(summary))
    return 0
