"""The neural voice (Piper en_US-joe-medium, real synthesis): it speaks, paces itself
calmly, streams by sentence, stops within one output block, routes espeak-ng voices to
espeak-ng, and falls back to espeak-ng with one clear line when its model is missing."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np
import pytest

from voice_imrs.audio.output import NullSink
from voice_imrs.errors import UnknownChoiceError, VoiceError
from voice_imrs.ports import PCM, Synthesizer, VoiceSettings
from voice_imrs.tts import speak
from voice_imrs.tts.espeak import EspeakSynthesizer
from voice_imrs.tts.piper import CALM_WPM, MODEL_ENV, PiperSynthesizer, pace
from voice_imrs.tts.registry import make_synthesizer
from voice_imrs.tts.routing import NeuralFirstSynthesizer

ROOT = Path(__file__).resolve().parent.parent
#: 24 words in three sentences, with commas, like a guidance prompt.
PROMPT = ("Take a slow breath in, and let it go. Notice the ground under your feet, and the "
          "air on your skin. You are safe here, right now.")
PROMPT_WORDS = len(PROMPT.split())


@pytest.fixture(scope="module")
def piper() -> PiperSynthesizer:
    return PiperSynthesizer()


def render(synth: Synthesizer, text: str, settings: VoiceSettings | None = None) -> PCM:
    return np.concatenate(list(synth.synthesize(text, settings or VoiceSettings())))


def rms(samples: PCM) -> float:
    return float(np.sqrt(np.mean(samples.astype(np.float64) ** 2))) if len(samples) else 0.0


def silent_runs(audio: PCM, rate: int, at_least_s: float) -> list[float]:
    """Lengths of the stretches quieter than speech that last ``at_least_s`` or more."""
    frame = rate // 100
    frames = len(audio) // frame
    energy = np.sqrt((audio[:frames * frame].astype(np.float64).reshape(frames, frame) ** 2)
                     .mean(axis=1))
    quiet = energy < 0.02 * energy.max()
    runs, length = [], 0
    for is_quiet in [*quiet, False]:
        if is_quiet:
            length += 1
            continue
        if length * 0.01 >= at_least_s:
            runs.append(length * 0.01)
        length = 0
    return runs


def test_the_neural_voice_speaks_a_prompt(piper: PiperSynthesizer) -> None:
    assert isinstance(piper, Synthesizer)
    assert piper.sample_rate == 22050
    audio = render(piper, PROMPT)
    seconds = len(audio) / piper.sample_rate
    # 24 words at about 125 words a minute is 11.5 s; generous bounds.
    assert 8.0 < seconds < 16.0, seconds
    assert audio.dtype == np.int16 and rms(audio) > 1000
    assert 15000 < np.abs(audio).max() < 32767


def test_default_pace_is_calm_and_the_rate_moves_speech_and_pauses(
        piper: PiperSynthesizer) -> None:
    calm = render(piper, PROMPT, VoiceSettings(rate_wpm=CALM_WPM))
    wpm = PROMPT_WORDS / (len(calm) / piper.sample_rate) * 60
    assert 110 <= wpm <= 140, wpm
    breaths = silent_runs(calm, piper.sample_rate, 0.8)
    assert len(breaths) >= 2, f"a breath-like pause between the three sentences: {breaths}"
    slower = render(piper, PROMPT, VoiceSettings(rate_wpm=100))
    faster = render(piper, PROMPT, VoiceSettings(rate_wpm=170))
    assert len(slower) > 1.15 * len(calm) > 1.3 * len(faster), (len(slower), len(calm),
                                                                 len(faster))
    assert pace(100).breath_s > pace(CALM_WPM).breath_s > pace(170).breath_s
    assert pace(100).length_scale > pace(170).length_scale


def test_it_streams_one_sentence_at_a_time(piper: PiperSynthesizer) -> None:
    started = time.perf_counter()
    chunks = piper.synthesize(" ".join([PROMPT] * 3), VoiceSettings())
    first = next(chunks)
    first_at = time.perf_counter() - started
    rest = list(chunks)
    whole_at = time.perf_counter() - started
    # Nine sentences, each followed by a pause chunk (the last by a short tail).
    assert len(rest) + 1 >= 17
    assert len(first) < 6 * piper.sample_rate, "a sentence, not the prompt"
    assert first_at < whole_at / 3, (first_at, whole_at)


def test_a_stop_silences_the_neural_voice_within_one_block(piper: PiperSynthesizer) -> None:
    class TimedSink(NullSink):
        """A real-time-paced null sink that notes when each block and the abort arrive."""

        def __init__(self) -> None:
            super().__init__(piper.sample_rate)
            self.writes: list[float] = []
            self.aborted_at: float | None = None

        def write(self, block: PCM) -> None:
            self.writes.append(time.monotonic())
            time.sleep(len(block) / self.sample_rate)

        def abort(self) -> None:
            self.aborted_at = time.monotonic()

    sink = TimedSink()
    stop = threading.Event()
    result: list[bool] = []
    player = threading.Thread(target=lambda: result.append(
        speak(" ".join([PROMPT] * 4), piper, sink, VoiceSettings(), stop)))
    player.start()
    deadline = time.monotonic() + 20
    while len(sink.writes) < 150 and time.monotonic() < deadline:  # 1.5 s of speech
        time.sleep(0.01)
    stopped_at = time.monotonic()
    stop.set()
    player.join(timeout=10)
    assert result == [False]
    assert sink.aborted_at is not None
    # One 10 ms block may be in the sink's hands when the stop comes; nothing after it.
    assert sink.aborted_at - stopped_at < 0.1, sink.aborted_at - stopped_at
    assert [t for t in sink.writes if t > stopped_at + 0.03] == []
    # The voice speaks again at once after a stop.
    assert rms(render(piper, "Again.")) > 500


def test_espeak_voices_go_to_espeak_and_unknown_voices_name_both(
        piper: PiperSynthesizer) -> None:
    synth = make_synthesizer("auto")
    assert isinstance(synth, NeuralFirstSynthesizer) and synth.name == "piper"
    ids = {voice.id for voice in synth.voices()}
    assert {"joe", "en-us", "en-gb"} <= ids
    classic = render(synth, "Hello there.", VoiceSettings(voice="en-gb+f3"))
    direct = render(EspeakSynthesizer(), "Hello there.", VoiceSettings(voice="en-gb+f3"))
    assert synth.sample_rate == 22050
    assert abs(len(classic) - len(direct)) < 0.1 * len(direct), "espeak-ng spoke it"
    assert rms(render(synth, "Hello there.", VoiceSettings(voice="joe"))) > 1000
    with pytest.raises(UnknownChoiceError) as caught:
        synth.check_voice("elvish")
    assert "joe" in str(caught.value) and "en-us" in str(caught.value)
    with pytest.raises(UnknownChoiceError, match="joe"):
        piper.check_voice("en-us")


def test_a_missing_model_falls_back_to_espeak_with_one_clear_line(
        monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    missing = tmp_path / "gone.onnx"
    monkeypatch.setenv(MODEL_ENV, str(missing))
    said: list[str] = []
    synth = make_synthesizer("auto", notice=said.append)
    assert isinstance(synth, EspeakSynthesizer)
    assert len(said) == 1 and "\n" not in said[0]
    assert str(missing) in said[0] and "espeak-ng instead" in said[0]
    assert rms(render(synth, "Still speaking.")) > 500
    with pytest.raises(VoiceError, match=r"gone\.onnx"):
        make_synthesizer("piper")


def test_say_falls_back_on_the_command_line(tmp_path: Path) -> None:
    out = tmp_path / "said.wav"
    env = dict(os.environ, PYTHONPATH=str(ROOT), **{MODEL_ENV: str(tmp_path / "none.onnx")})
    done = subprocess.run([sys.executable, "-m", "voice_imrs", "say", "You are safe.",
                           "--out", str(out)], cwd=ROOT, env=env, capture_output=True,
                          text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and "Speaking with espeak-ng instead" in lines[0], done.stderr
    assert "Traceback" not in done.stderr
    assert out.stat().st_size > 10_000


def test_lexicon_entries_reach_the_phonemes(piper: PiperSynthesizer) -> None:
    from voice_imrs.tts import piper as module

    ids = piper.sentence_ids("Think calm.")[0]
    long_a = piper._voice.phonemes_to_ids(list("ɑːɑː"))[1:-1]  # the id map
    assert any(ids[i:i + len(long_a)] == long_a for i in range(len(ids))), ids
    assert "calm" in module.LEXICON
