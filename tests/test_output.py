"""Output sinks: real playback on the virtual PulseAudio device, heard back on its monitor
(loopback), barge-in latency, volume, pacing; and the WAV file and null sinks."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from voice_imrs.audio.output import NullSink, SoundDeviceSink, WavFileSink
from voice_imrs.audio.wav import read_wav
from voice_imrs.ports import PCM, AudioSink, VoiceSettings
from voice_imrs.tts import speak
from voice_imrs.tts.espeak import EspeakSynthesizer

RATE = 22050
LONG_PROMPT = ("Imagine the place where you feel safe. Notice the light, the sounds, "
               "the air on your skin. Take your time and let the picture grow. ") * 3
#: Recorded samples above this count as sound (the null sink is digitally silent).
SOUND_LEVEL = 200


class MonitorRecorder:
    """Records what the ``speaker`` sink plays, from ``speaker.monitor``, with arrival times."""

    def __init__(self) -> None:
        from voice_imrs.audio.devices import choose_device, import_sounddevice, opening

        sd = import_sounddevice()
        self.blocks: list[PCM] = []
        self.arrivals: list[float] = []
        choice = choose_device("pulse:speaker.monitor", "input")
        with opening(choice, "input"):
            self.stream = sd.InputStream(device=choice.index, samplerate=RATE, channels=1,
                                         dtype="int16", blocksize=RATE // 100,
                                         latency="low", callback=self._callback)
            self.stream.start()
        deadline = time.monotonic() + 5.0  # capture stalls at start too (see output.py)
        while len(self.blocks) < 5 and time.monotonic() < deadline:
            time.sleep(0.01)

    def _callback(self, indata: np.ndarray, _frames: int, _time: Any, _status: Any) -> None:
        self.blocks.append(indata[:, 0].copy())
        self.arrivals.append(time.monotonic())

    def stop(self) -> PCM:
        self.stream.stop()
        self.stream.close()
        return np.concatenate(self.blocks) if self.blocks else np.zeros(0, np.int16)

    def sample_times(self) -> np.ndarray:
        """Monotonic time each recorded sample reached us (upper bound of when it sounded)."""
        times = [arrival - (len(block) - 1 - np.arange(len(block))) / RATE
                 for block, arrival in zip(self.blocks, self.arrivals, strict=True)]
        return np.concatenate(times)


@pytest.fixture(scope="module")
def synth() -> EspeakSynthesizer:
    return EspeakSynthesizer()


@pytest.fixture
def sink(pulse: str) -> Iterator[SoundDeviceSink]:
    with SoundDeviceSink(None, sample_rate=RATE) as opened:
        yield opened


def render(synth: EspeakSynthesizer, text: str) -> PCM:
    return np.concatenate(list(synth.synthesize(text, VoiceSettings())))


def sound_span(samples: PCM) -> tuple[int, int]:
    loud = np.flatnonzero(np.abs(samples.astype(np.int32)) > SOUND_LEVEL)
    return (int(loud[0]), int(loud[-1])) if len(loud) else (0, 0)


def best_correlation(a: np.ndarray, b: np.ndarray, max_lag: int) -> float:
    """Highest normalized correlation of ``a`` and ``b`` over lags up to ``max_lag``."""
    from scipy.signal import correlate

    n = min(len(a), len(b))
    a, b = a[:n] - a[:n].mean(), b[:n] - b[:n].mean()
    full = correlate(a, b, mode="full", method="fft")
    middle = n - 1
    window = full[middle - max_lag:middle + max_lag + 1]
    return float(window.max() / (np.linalg.norm(a) * np.linalg.norm(b)))


def test_sinks_implement_the_port(sink: SoundDeviceSink, tmp_path: Path) -> None:
    assert isinstance(sink, AudioSink)
    assert isinstance(WavFileSink(tmp_path / "x.wav", RATE), AudioSink)
    assert isinstance(NullSink(RATE), AudioSink)
    assert sink.device_rate == RATE, "PulseAudio takes the synthesizer's rate as it is"


def test_loopback_hears_the_prompt(sink: SoundDeviceSink, synth: EspeakSynthesizer) -> None:
    prompt = render(synth, "Notice your feet on the floor. You are safe here.")
    recorder = MonitorRecorder()
    # The very samples are played (espeak-ng's timing differs by a few samples per render).
    sink.volume = 1.0
    sink.write(prompt)
    assert sink.wait_drained(5)
    time.sleep(0.2)
    heard = recorder.stop()
    start, end = sound_span(heard)
    p_start, p_end = sound_span(prompt)
    assert end > start, "nothing came back from the monitor"
    assert abs((end - start) - (p_end - p_start)) < 0.05 * RATE, (end - start, p_end - p_start)
    segment = heard[start:end].astype(np.float64)
    original = prompt[p_start:p_end].astype(np.float64)
    correlation = best_correlation(segment, original, max_lag=RATE // 50)
    assert correlation > 0.95, correlation
    assert 0.8 < np.std(segment) / np.std(original) < 1.2


def test_abort_silences_within_one_block_plus_device_latency(
        sink: SoundDeviceSink, synth: EspeakSynthesizer,
        capsys: pytest.CaptureFixture[str]) -> None:
    recorder = MonitorRecorder()
    stop = threading.Event()
    result: list[bool] = []
    player = threading.Thread(target=lambda: result.append(
        speak(LONG_PROMPT, synth, sink, VoiceSettings(volume=1.0), stop)))
    started = time.monotonic()
    player.start()
    time.sleep(1.5)
    aborted_at = time.monotonic()
    sink.abort()  # what a barge-in does, from the listening thread
    stop.set()
    player.join(timeout=5)
    time.sleep(0.5)
    heard = recorder.stop()
    times = recorder.sample_times()
    loud = np.flatnonzero(np.abs(heard.astype(np.int32)) > SOUND_LEVEL)
    assert result == [False]
    first_sound = float(times[loud[0]]) - started
    last_sound = float(times[loud[-1]]) - aborted_at
    with capsys.disabled():
        print(f"\n[output] loopback onset {first_sound * 1000:.0f} ms after speak(); "
              f"last sound {last_sound * 1000:.0f} ms after abort() "
              f"(includes capture latency; PortAudio output latency "
              f"{sink.output_latency * 1000:.0f} ms)")
    assert last_sound < 0.25, last_sound
    assert sink.queued_s == 0.0
    # The sink plays again after an abort.
    assert speak("Again.", synth, sink, VoiceSettings())


def test_volume_acts_at_once(sink: SoundDeviceSink) -> None:
    tone = (8000 * np.sin(2 * np.pi * 440 * np.arange(RATE) / RATE)).astype(np.int16)
    recorder = MonitorRecorder()
    sink.volume = 1.0
    writer = threading.Thread(target=sink.write, args=(tone,))
    writer.start()
    time.sleep(0.4)
    sink.volume = 0.25
    writer.join(timeout=5)
    sink.wait_drained(2)
    heard = recorder.stop()
    start, end = sound_span(heard)
    early = heard[start + RATE // 10:start + RATE // 4].astype(np.float64)
    late = heard[end - RATE // 4:end - RATE // 20].astype(np.float64)
    ratio = float(np.std(late) / np.std(early))
    assert 0.2 < ratio < 0.3, ratio
    sink.volume = 3.0
    assert sink.volume == 1.0


def test_write_holds_the_caller_only_while_the_queue_is_full(sink: SoundDeviceSink) -> None:
    second = np.full(RATE, 1000, np.int16)
    started = time.monotonic()
    sink.write(second)
    took = time.monotonic() - started
    assert sink.queued_s <= 0.175
    assert 0.7 < took < 1.2, took  # about 1 s of audio minus the ~160 ms queue
    assert sink.wait_drained(2)
    assert sink.queued_s == 0
    assert sink.last_audible_time is not None and sink.last_audible_time >= started + 0.8


def test_abort_releases_a_blocked_writer(sink: SoundDeviceSink) -> None:
    writer = threading.Thread(target=sink.write, args=(np.full(RATE * 5, 500, np.int16),))
    writer.start()
    time.sleep(0.2)
    started = time.monotonic()
    sink.abort()
    writer.join(timeout=2)
    assert not writer.is_alive()
    assert time.monotonic() - started < 0.2


def test_speak_into_a_wav_file(synth: EspeakSynthesizer, tmp_path: Path) -> None:
    path = tmp_path / "prompt.wav"
    with WavFileSink(path, RATE) as wav_sink:
        assert speak("You are safe here.", synth, wav_sink, VoiceSettings(volume=0.5))
    samples, rate = read_wav(path)
    full = render(synth, "You are safe here.")
    assert rate == RATE and abs(len(samples) - len(full)) < RATE // 20
    assert 0.45 < np.std(samples) / np.std(full) < 0.55  # volume applied


def test_wav_sink_at_another_rate_and_null_sink(synth: EspeakSynthesizer, tmp_path: Path) -> None:
    path = tmp_path / "16k.wav"
    with WavFileSink(path, 16000) as wav_sink:
        speak("Breathe.", synth, wav_sink, VoiceSettings())
    samples, rate = read_wav(path)
    assert rate == 16000
    assert abs(len(samples) / 16000 - len(render(synth, "Breathe.")) / RATE) < 0.05
    null = NullSink(RATE)
    assert speak("Breathe.", synth, null, VoiceSettings())
    assert null.frames_written > RATE // 4


def test_wav_sink_in_a_missing_folder_is_a_clear_error(tmp_path: Path) -> None:
    from voice_imrs.errors import DeviceError

    with pytest.raises(DeviceError, match="does not exist"):
        WavFileSink(tmp_path / "nope" / "x.wav", RATE)


def test_unknown_output_device(pulse: str) -> None:
    from voice_imrs.errors import DeviceError

    with pytest.raises(DeviceError, match="Unknown sound output device 'HDMI 7'"):
        SoundDeviceSink("HDMI 7", sample_rate=RATE)
