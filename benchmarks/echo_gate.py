"""``voice-imrs bench echo-gate``: the gate mutes the echo, and only the echo.

Offline, block by block as a session runs, with a real synthesized prompt (espeak-ng),
real recordings and the default recognizer; the microphone is built sample by sample:

- **echo**: the microphone hears the prompt back 20-250 ms late, at 0.1-0.6 of its level,
  over faint noise: straight from the line ("line") or through a small room with a
  3.5 kHz low-pass ("room"). Measured: the share of the echo's sounding blocks gated,
  and how many sessions a prompt that says "stop" three times would stop itself.
- **words over a prompt** (headphones: the microphone never hears the prompt): every
  fourth dev recording of a word other than a stop word, placed over a prompt. Measured:
  the share of the word's blocks gated (all of them should pass).
- **stops over a prompt**: the held-out recordings of "stop", heard with and without the
  gate, and when (from the end of the word).
- **double talk**: the same stops said while the microphone also hears the prompt through
  a room (loudspeakers). The prompt plays twice and the stop falls in the second: in a
  session the canceller has heard the room since the first prompt.
- **cpu**: milliseconds per 20 ms block, while both sides sound.

Each figure is measured for the gate alone and for the echo canceller followed by the gate
(``CancellingGate``, what sessions use). ``--manifest CSV`` chooses the clips, as in
``bench recognition``. The test suite (``tests/test_echo_gate.py``) runs the same cases on
fewer clips.
"""

from __future__ import annotations

import argparse
import json
import time
from collections.abc import Callable, Sequence
from functools import cache
from pathlib import Path
from typing import Any

import numpy as np

from voice_imrs.ports import ASR_RATE, PCM
from voice_imrs.session.echo_gate import CancellingGate, EchoGate

BLOCK = ASR_RATE // 50  # 20 ms, as a sound device delivers
PROMPTS = ("Imagine the place where you feel safe, and notice the light, the sounds and the "
           "air on your skin. Let the picture grow slowly as you breathe in and out.",
           "Remember that you can say stop at any time. If you want to stop, just say stop, "
           "and we will stop together.")
CALM, SAYS_STOP = 0, 1
#: A stop counts as heard when it is decided at most this long after the word's end.
HEARD_WITHIN_S = 1.0
MakeGate = Callable[[], "EchoGate | CancellingGate"]
#: The paths compared: the gate alone, and the canceller with the gate behind it.
PATHS: dict[str, MakeGate] = {"gate": EchoGate, "canceller_gate": CancellingGate}


@cache
def prompt(index: int) -> tuple[PCM, int]:
    """A prompt as the synthesizer says it, with one second of silence after it."""
    from voice_imrs.ports import VoiceSettings
    from voice_imrs.tts.espeak import EspeakSynthesizer

    synth = EspeakSynthesizer()
    audio = np.concatenate(list(synth.synthesize(PROMPTS[index], VoiceSettings())))
    return np.concatenate([audio, np.zeros(synth.sample_rate, np.int16)]), synth.sample_rate


def word_clips(stop: bool, held_out_only: bool, manifest: str | Path | None = None
               ) -> list[Path]:
    """Recordings of single words (or short phrases) of ``manifest`` (default: the dev
    set): stops, or anything but a stop.
    """
    from benchmarks.recognition import DEFAULT_MANIFEST, load_clips

    chosen = load_clips(manifest or DEFAULT_MANIFEST, "heldout" if held_out_only else "all")
    return [clip.path for clip in chosen
            if clip.category not in ("sentence", "noise")
            and (clip.transcript == "stop") == stop
            and (stop or "stop" not in clip.words)]


def over_the_prompt(clip: Path, rng: np.random.Generator,
                    room_echo: bool = False, warm: bool = False) -> tuple[PCM, PCM, int, int]:
    """(output, microphone, first and last sample of the word): a user over a prompt.

    room_echo: the microphone also hears the prompt through a room (loudspeakers).
    warm: the prompt plays twice and the word falls in the second: an echo canceller has
      heard the room for one prompt first, as it has in a session after the first prompt.
    """
    from voice_imrs.audio.wav import read_wav_at

    output, rate = prompt(CALM)
    lead = len(output) if warm else 0
    if warm:
        output = np.concatenate([output, output])
    word = read_wav_at(clip, ASR_RATE).astype(np.float64)
    mic = rng.normal(0.0, rng.uniform(1.0, 20.0), int(len(output) / rate * ASR_RATE))
    earliest = 0.5 + lead / rate
    at = int(rng.uniform(earliest, len(mic) / ASR_RATE - len(word) / ASR_RATE - 1.0)
             * ASR_RATE)
    mic[at:at + len(word)] += word
    if room_echo:
        mic += _echo(output, rate, rng, room=True)[:len(mic)]
    loud = np.nonzero(np.abs(word) > 0.1 * np.abs(word).max())[0]
    return output, np.clip(mic, -32768, 32767).astype(np.int16), at + loud[0], at + loud[-1]


def echo_of(index: int, rng: np.random.Generator, room: bool) -> tuple[PCM, PCM]:
    """(output, microphone): the prompt heard back over faint noise."""
    output, rate = prompt(index)
    echo = _echo(output, rate, rng, room)
    echo += rng.normal(0.0, rng.uniform(1.0, 20.0), len(echo))
    return output, np.clip(echo, -32768, 32767).astype(np.int16)


def _echo(output: PCM, rate: int, rng: np.random.Generator, room: bool) -> np.ndarray:
    """The prompt as a microphone hears it from a loudspeaker: late, softer, maybe a room."""
    from scipy.signal import butter, sosfilt

    from voice_imrs.audio.wav import resample

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
    return np.asarray(echo * rng.uniform(0.1, 0.6))


def _case_rng(seed: int, case: int) -> np.random.Generator:
    """Each case its own random numbers: the synthesizer's output varies by a few samples
    from run to run, and with one shared generator that would reshuffle every later case.
    """
    return np.random.default_rng([seed, case])


def run(output: PCM, rate: int, mic: PCM, gate: EchoGate | CancellingGate | None
        ) -> tuple[list[bool], list[int]]:
    """Play and hear block by block: (gated per block, blocks at which a stop was heard)."""
    from voice_imrs.core.intents import NOTHING
    from voice_imrs.core.profile import Profile
    from voice_imrs.session import parts

    out_block = rate // 50
    listener = parts.make_listener("keyword", None, Profile())
    gated: list[bool] = []
    stops: list[int] = []
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


def echo_figures(room: bool, cases: int, make_gate: MakeGate = EchoGate,
                 seed: int = 5) -> dict[str, Any]:
    """Share of the echo's sounding blocks gated; sessions stopped by their own echo."""
    gated_share, stopped, stopped_ungated = [], 0, 0
    for k in range(cases):
        index = SAYS_STOP if k % 2 == 0 else CALM
        output, mic = echo_of(index, _case_rng(seed, k), room)
        rate = prompt(index)[1]
        gated, stops = run(output, rate, mic, make_gate())
        sounding = np.abs(mic[:len(gated) * BLOCK].astype(np.int32)).reshape(-1, BLOCK).max(
            axis=1) > 300
        gated_share.append(float(np.mean(np.array(gated)[sounding])))
        if index == SAYS_STOP:
            stopped += bool(stops)
            stopped_ungated += bool(run(output, rate, mic, None)[1])
    return {"echo_blocks_gated": round(float(np.mean(gated_share)), 3),
            "stopped_itself": stopped, "stopped_itself_without_gate": stopped_ungated,
            "stop_prompts": (cases + 1) // 2}


def word_figures(clips: Sequence[Path], make_gate: MakeGate = EchoGate,
                 seed: int = 7) -> dict[str, Any]:
    """Share of the blocks of words said over a prompt that the gate muted."""
    word_blocks = gated_blocks = touched = 0
    for k, clip in enumerate(clips):
        output, mic, first, last = over_the_prompt(clip, _case_rng(seed, k))
        gated, _ = run(output, prompt(CALM)[1], mic, make_gate())
        during = gated[first // BLOCK:last // BLOCK + 1]
        word_blocks += len(during)
        gated_blocks += sum(during)
        touched += any(during)
    return {"words": len(clips), "word_blocks_gated": round(gated_blocks / word_blocks, 4),
            "words_touched": touched}


def stop_figures(clips: Sequence[Path], room_echo: bool, make_gate: MakeGate = EchoGate,
                 seed: int = 11, warm: bool = False) -> dict[str, Any]:
    """Stops heard with and without the gate, and when (ms after the end of the word)."""
    heard: dict[str, list[float]] = {"gate": [], "no_gate": []}
    for k, clip in enumerate(clips):
        output, mic, first, last = over_the_prompt(clip, _case_rng(seed, k), room_echo, warm)
        rate = prompt(CALM)[1]
        for name, gate in (("gate", make_gate()), ("no_gate", None)):
            # Heard means heard in time: a stop decided more than HEARD_WITHIN_S after
            # the word is a false stop on the echo, not the client's.
            stops = [i for i in run(output, rate, mic, gate)[1]
                     if first < (i + 1) * BLOCK <= last + HEARD_WITHIN_S * ASR_RATE]
            if stops:
                heard[name].append(((stops[0] + 1) * BLOCK - last) / ASR_RATE * 1000)
    figures: dict[str, Any] = {"stops": len(clips)}
    for name, latencies in heard.items():
        figures[f"heard_{name}"] = len(latencies)
        figures[f"p50_ms_{name}"] = round(float(np.median(latencies))) if latencies else None
        figures[f"p95_ms_{name}"] = (round(float(np.percentile(latencies, 95)))
                                     if latencies else None)
    return figures


def cpu_figures(make_gate: MakeGate, seed: int = 13) -> dict[str, Any]:
    """Milliseconds of CPU per 20 ms block while both the prompt and a voice sound."""
    clip = word_clips(stop=True, held_out_only=True)[0]
    output, mic, _, _ = over_the_prompt(clip, _case_rng(seed, 0), room_echo=True, warm=True)
    rate = prompt(CALM)[1]
    gate, out_block = make_gate(), rate // 50
    blocks = len(mic) // BLOCK
    started = time.process_time()
    for i in range(blocks):
        gate.played(output[i * out_block:(i + 1) * out_block], rate)
        gate.filter(mic[i * BLOCK:(i + 1) * BLOCK])
    per_block = (time.process_time() - started) / blocks
    return {"ms_per_block": round(per_block * 1000, 3),
            "core_percent": round(per_block / (BLOCK / ASR_RATE) * 100, 2)}


def measure(manifest: str | Path | None = None, out: Callable[[str], None] = print,
            paths: dict[str, MakeGate] | None = None) -> dict[str, Any]:
    """Every figure of the module doc for every path; printed as it goes, returned whole."""
    summary: dict[str, Any] = {}
    stops = word_clips(stop=True, held_out_only=True, manifest=manifest)
    words = word_clips(stop=False, held_out_only=False, manifest=manifest)[::4]
    for path, make_gate in (paths or PATHS).items():
        parts: tuple[tuple[str, Callable[[], dict[str, Any]]], ...] = (
            ("cpu", lambda: cpu_figures(make_gate)),  # noqa: B023 - called at once
            ("echo_line", lambda: echo_figures(False, 24, make_gate)),  # noqa: B023
            ("echo_room", lambda: echo_figures(True, 24, make_gate)),  # noqa: B023
            ("words_over_prompt", lambda: word_figures(words, make_gate)),  # noqa: B023
            ("stops_over_prompt", lambda: stop_figures(stops, False, make_gate)),  # noqa: B023
            ("double_talk",
             lambda: stop_figures(stops, True, make_gate, warm=True)))  # noqa: B023
        summary[path] = {}
        for name, figures in parts:
            summary[path][name] = figures()
            out(f"{path} {name}: {json.dumps(summary[path][name])}")
    return summary


def run_bench(args: argparse.Namespace | None = None) -> int:
    manifest = getattr(args, "manifest", None)
    print(json.dumps(measure(manifest, out=lambda line: print(line, flush=True))))
    return 0
