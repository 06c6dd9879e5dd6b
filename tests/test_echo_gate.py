"""The echo gate, offline: real synthesized prompts, real recordings, the real recognizer.

The microphone is built sample by sample: for the headphones case it hears only the user
(a recording over faint noise) while the prompt plays; for the loudspeaker case it hears
the prompt itself, late, softer, through a small room. The live loopback tests
(``test_speech_barge_in.py``) run the same gate on real sound-device streams.
"""

from __future__ import annotations

import csv
from functools import cache

import numpy as np
import pytest
from conftest import SPEECH
from scipy.signal import butter, sosfilt

from voice_imrs.audio.wav import read_wav_at, resample
from voice_imrs.bench.speakers import is_held_out
from voice_imrs.core.intents import NOTHING
from voice_imrs.core.profile import Profile
from voice_imrs.ports import ASR_RATE, VoiceSettings
from voice_imrs.session import parts
from voice_imrs.session.echo_gate import EchoGate

DEV = SPEECH / "dev"
BLOCK = ASR_RATE // 50
PROMPTS = ("Imagine the place where you feel safe, and notice the light, the sounds and the "
           "air on your skin. Let the picture grow slowly as you breathe in and out.",
           "Remember that you can say stop at any time. If you want to stop, just say stop, "
           "and we will stop together.")


@cache
def prompt(index: int) -> tuple[np.ndarray, int]:
    """A prompt as the synthesizer says it, with one second of silence after it."""
    from voice_imrs.tts.espeak import EspeakSynthesizer

    synth = EspeakSynthesizer()
    audio = np.concatenate(list(synth.synthesize(PROMPTS[index], VoiceSettings())))
    return np.concatenate([audio, np.zeros(synth.sample_rate, np.int16)]), synth.sample_rate


def clips(stop: bool, held_out_only: bool) -> list[str]:
    with open(DEV / "manifest.csv", encoding="utf-8") as manifest:
        rows = list(csv.DictReader(manifest))
    return [row["file"] for row in rows
            if row["category"] not in ("sentence", "noise")
            and (row["contains_stop_word"] == "1") == stop
            and (not held_out_only or is_held_out(row["speaker"], row["file"]))]


def over_the_prompt(clip: str, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray, int]:
    """(output, microphone, where the word is): a user speaking over a prompt, headphones."""
    output, rate = prompt(0)
    word = read_wav_at(DEV / clip, ASR_RATE).astype(np.float64)
    mic = rng.normal(0.0, rng.uniform(1.0, 20.0), int(len(output) / rate * ASR_RATE))
    at = int(rng.uniform(0.5, len(mic) / ASR_RATE - len(word) / ASR_RATE - 1.0) * ASR_RATE)
    mic[at:at + len(word)] += word
    return output, np.clip(mic, -32768, 32767).astype(np.int16), at


def echo_of(index: int, rng: np.random.Generator, room: bool) -> tuple[np.ndarray, np.ndarray]:
    """(output, microphone): the prompt heard back 20-250 ms late, softer, maybe in a room."""
    output, rate = prompt(index)
    echo = resample(output, rate, ASR_RATE).astype(np.float64)
    lag = int(rng.uniform(0.02, 0.25) * ASR_RATE)
    echo = np.concatenate([np.zeros(lag), echo])[:len(echo)]
    if room:
        length = int(rng.uniform(0.05, 0.3) * ASR_RATE)
        response = rng.standard_normal(length) * 0.3 * np.exp(
            -np.arange(length) / (rng.uniform(0.01, 0.05) * ASR_RATE))
        response[0] = 1.0
        echo = sosfilt(butter(6, 3500, fs=ASR_RATE, output="sos"),
                       np.convolve(echo, response)[:len(echo)])
    echo = echo * rng.uniform(0.1, 0.6) + rng.normal(0.0, rng.uniform(1.0, 20.0), len(echo))
    return output, np.clip(echo, -32768, 32767).astype(np.int16)


def run(output: np.ndarray, mic: np.ndarray, gate: EchoGate | None) -> tuple[list[bool], list[int]]:
    """Play and hear block by block: (gated per block, blocks at which a stop was heard)."""
    rate = prompt(0)[1]
    out_block = rate // 50
    listener = parts.make_listener("keyword", None, Profile())
    gated, stops = [], []
    for i in range(len(mic) // BLOCK):
        block = mic[i * BLOCK:(i + 1) * BLOCK]
        if gate is not None:
            before = gate.gated_blocks
            gate.played(output[i * out_block:(i + 1) * out_block], rate)
            block = gate.filter(block)
            gated.append(gate.gated_blocks > before)
        if any(heard.intent.kind == "stop" for heard in listener.feed(block, NOTHING)):
            stops.append(i)
    return gated, stops


def test_words_said_over_a_prompt_pass_the_gate() -> None:
    # Headphones: the microphone never hears the prompt, so nothing it hears is echo.
    # (Comparing loudness envelopes only, the gate muted 14 % of these words' blocks.)
    rng = np.random.default_rng(7)
    word_blocks = gated_blocks = 0
    for clip in clips(stop=False, held_out_only=False)[::4]:
        output, mic, at = over_the_prompt(clip, rng)
        gated, _ = run(output, mic, EchoGate())
        start = at // BLOCK
        during = gated[start:start + len(read_wav_at(DEV / clip, ASR_RATE)) // BLOCK]
        word_blocks += len(during)
        gated_blocks += sum(during)
    assert word_blocks > 1000
    assert gated_blocks / word_blocks < 0.04, (gated_blocks, word_blocks)


def test_a_stop_over_the_prompt_is_heard_as_if_there_were_no_gate() -> None:
    rng = np.random.default_rng(11)
    held_out = clips(stop=True, held_out_only=True)
    assert len(held_out) >= 40
    same = 0
    for clip in held_out:
        output, mic, _ = over_the_prompt(clip, rng)
        with_gate = run(output, mic, EchoGate())[1][:1]
        without = run(output, mic, None)[1][:1]
        # Every stop heard without the gate is heard with it, at most 100 ms later.
        assert bool(with_gate) == bool(without), clip
        if without:
            assert with_gate[0] - without[0] <= 5, (clip, with_gate, without)
        same += with_gate == without
    assert same >= 0.9 * len(held_out)


@pytest.mark.parametrize("room", [False, True], ids=["line", "room"])
def test_the_prompts_own_stop_heard_back_does_not_stop_it(room: bool) -> None:
    # Loudspeakers: the prompt says "stop" three times and the microphone hears it back.
    rng = np.random.default_rng(5)
    cases = [echo_of(1, rng, room) for _ in range(8)]
    ungated = sum(bool(run(output, mic, None)[1]) for output, mic in cases)
    gated = sum(bool(run(output, mic, EchoGate())[1]) for output, mic in cases)
    assert ungated >= 3  # without the gate the echo does stop the session
    assert gated == 0
