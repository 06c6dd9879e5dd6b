"""``voice-imrs bench recognition|resources|barge-in|startup|echo-gate|voice``: JSON last.

The benchmarks live beside the package, in the source checkout's ``benchmarks/`` (they read
the checkout's recordings and scripts, and the peers they compare with are not the
product's dependencies). They are imported inside the handlers, so that ``voice-imrs
--help`` does not load them; an installed package without a checkout says so clearly.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from pathlib import Path
from types import ModuleType

from voice_imrs.cli.values import number_in, whole_in


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add ``bench`` with its subcommands."""
    bench = subparsers.add_parser("bench", help="benchmarks (recognition, resources, barge-in)")
    sub = bench.add_subparsers(dest="bench", metavar="BENCHMARK")

    recognition = sub.add_parser(
        "recognition", help="per-intent rates on real recordings, next to the peer")
    recognition.add_argument("--manifest", help="manifest.csv of the clips (default: the dev "
                             "recordings in tests/data/speech/dev)")
    from voice_imrs.asr.registry import DEFAULT_RECOGNIZER

    recognition.add_argument("--recognizer", default=DEFAULT_RECOGNIZER,
                             help=f"recognizer to measure (default {DEFAULT_RECOGNIZER})")
    recognition.add_argument("--stop-policy", choices=("either", "fast", "answer"),
                             help="whisper only: which lane's stop counts (default: the "
                                  "recognizer's own)")
    recognition.add_argument("--peer", action="append", choices=("whisper", "sphinx"),
                             help="measure only this peer (repeatable; default both)")
    recognition.add_argument("--split", default="heldout",
                             choices=("heldout", "all", "training"),
                             help="held-out speakers only (default), every clip, or the "
                                  "training speakers (for tuning)")
    recognition.add_argument("--no-peer", action="store_true",
                             help="skip the peers")
    recognition.add_argument("--band", default="full", choices=("full", "narrow"),
                             help="full: the recordings as they are; narrow: through an 8 kHz "
                                  "channel, as a Bluetooth headset microphone hears")
    recognition.set_defaults(handler=recognition_command)

    resources = sub.add_parser("resources", help="CPU and memory of each recognizer while "
                               "listening (one child process each)")
    resources.add_argument("--recognizer", action="append", metavar="NAME",
                           help="measure only this one (repeatable; default: pocketsphinx, "
                                "keyword, vosk)")
    resources.add_argument("--seconds", type=number_in(1, 3600, "seconds"), default=30.0,
                           help="seconds of real-time audio per recognizer (default 30)")
    resources.set_defaults(handler=resources_command)

    barge_in = sub.add_parser("barge-in", help="end of a spoken stop to output silence, over "
                              "real sound-device streams, next to the peer")
    _trials_and_recognizer(barge_in, trials=50)
    barge_in.add_argument("--no-peer", action="store_true",
                          help="skip the SpeechRecognition peer")
    barge_in.add_argument("--loudspeaker", action="store_true",
                          help="the microphone also hears the voice through a simulated room "
                               "(double talk, as with laptop speakers)")
    barge_in.set_defaults(handler=barge_in_command)

    startup = sub.add_parser("startup", help="how soon `voice-imrs run` speaks, and its "
                             "peak memory (child processes on the virtual device)")
    _trials_and_recognizer(startup, trials=5)
    startup.set_defaults(handler=startup_command)
    echo_gate = sub.add_parser("echo-gate", help="the echo gate offline: echoes muted, words "
                               "said over a prompt passed, double talk heard, with and "
                               "without the echo canceller (real TTS and recordings)")
    echo_gate.add_argument("--manifest", help="manifest.csv of the clips (default: the dev "
                           "recordings in tests/data/speech/dev)")
    echo_gate.set_defaults(handler=echo_gate_command)
    voice = sub.add_parser("voice", help="every built-in prompt synthesized and transcribed "
                           "by Whisper: word error rate per prompt, key words, speech rate")
    voice.add_argument("--tts", default="auto", help="synthesizer to measure (default auto)")
    voice.add_argument("--voice", default="", help="voice of that synthesizer")
    voice.add_argument("--rate", type=int, default=125, metavar="WPM",
                       help="speaking rate in words a minute (default 125)")
    voice.add_argument("--script", action="append", metavar="NAME",
                       help="only this built-in script's prompts (repeatable)")
    voice.add_argument("--limit", type=int, default=0, metavar="N",
                       help="only the first N prompts (0: all)")
    voice.add_argument("--threshold", type=float, default=0.15, metavar="WER",
                       help="prompts above this word error rate are marked FIX (default 0.15)")
    voice.add_argument("--key-word", action="append", metavar="WORD",
                       help="check only this key word (repeatable; default: distress, "
                            "distressed, grounding, rescripting, zero to ten)")
    voice.set_defaults(handler=voice_command)
    bench.set_defaults(handler=lambda args: bench.print_help() or 2)


def _trials_and_recognizer(parser: argparse.ArgumentParser, trials: int) -> None:
    from voice_imrs.asr.registry import DEFAULT_RECOGNIZER

    parser.add_argument("--trials", type=whole_in(1, 10000), default=trials,
                        help=f"how many times to measure (default {trials})")
    parser.add_argument("--recognizer", default=DEFAULT_RECOGNIZER,
                        help=f"recognizer to measure (default {DEFAULT_RECOGNIZER})")


def _check_trials(args: argparse.Namespace) -> None:
    if args.trials < 1:
        from voice_imrs.errors import VoiceImrsError

        raise VoiceImrsError(f"--trials must be at least 1, not {args.trials}.",
                             hint="For example: --trials 5")


def recognition_command(args: argparse.Namespace) -> int:
    recognition = _benchmark("recognition")

    peers = False if args.no_peer else (args.peer or True)
    recognition.run(args.manifest or recognition.DEFAULT_MANIFEST, args.recognizer, args.split,
                    peer=peers, band=args.band, stop_policy=args.stop_policy)
    return 0


def resources_command(args: argparse.Namespace) -> int:
    resources = _benchmark("resources")

    names = tuple(args.recognizer) if args.recognizer else resources.DEFAULT_RECOGNIZERS
    if args.seconds <= 0:
        from voice_imrs.errors import VoiceImrsError

        raise VoiceImrsError(f"--seconds must be positive, not {args.seconds:g}.",
                             hint="For example: --seconds 30")
    resources.run(names, args.seconds)
    return 0


def barge_in_command(args: argparse.Namespace) -> int:
    barge_in = _benchmark("barge_in")

    _check_trials(args)
    return barge_in.run(args)


def startup_command(args: argparse.Namespace) -> int:
    startup = _benchmark("startup")

    _check_trials(args)
    return startup.run(args)


def echo_gate_command(args: argparse.Namespace) -> int:
    echo_gate = _benchmark("echo_gate")

    return echo_gate.run_bench(args)


def voice_command(args: argparse.Namespace) -> int:
    voice = _benchmark("voice")
    from voice_imrs.errors import VoiceImrsError

    if args.limit < 0 or not 0 < args.rate <= 400:
        raise VoiceImrsError("--limit must be 0 or more and --rate between 1 and 400.",
                             hint="For example: --limit 10 --rate 125")
    return voice.run(args)


def _benchmark(name: str) -> ModuleType:
    """``benchmarks.NAME`` from the source checkout this package runs from."""
    from voice_imrs.errors import VoiceImrsError

    checkout = Path(__file__).absolute().parents[2]
    if (checkout / "benchmarks" / "__init__.py").is_file() and str(checkout) not in sys.path:
        sys.path.insert(0, str(checkout))
    try:
        return importlib.import_module(f"benchmarks.{name}")
    except ModuleNotFoundError as error:
        if (error.name or "").split(".")[0] == "benchmarks":
            raise VoiceImrsError(
                "The benchmarks are part of the source checkout, not of the installed "
                "package.",
                hint="Run them from a clone of the project: scripts/setup.sh, then "
                     f".venv/bin/voice-imrs bench {name.replace('_', '-')}.") from None
        raise VoiceImrsError(
            f"The {name.replace('_', '-')} benchmark needs {error.name}, which is not "
            "installed.",
            hint="Install the benchmark extras: .venv/bin/pip install -e '.[dev]'.") from None
