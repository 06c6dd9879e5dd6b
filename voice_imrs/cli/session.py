"""``voice-imrs run``, ``simulate`` and ``demo``: sessions on devices, simulated, shown."""

from __future__ import annotations

import argparse
import contextlib
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

from voice_imrs.cli.live_args import add_live_options
from voice_imrs.core.events import LogEvent


def register(subparsers: argparse._SubParsersAction) -> None:  # noqa: SLF001
    run = subparsers.add_parser(
        "run", help="run an exercise on the sound devices (the main job)",
        description="Run an exercise by voice. Without SCRIPT a spoken menu asks which.")
    run.add_argument("script", nargs="?", help="exercise name (see `voice-imrs list`) or file")
    add_live_options(run)
    run.add_argument("--log", type=Path, help="also write the event log (JSON lines) here")
    run.set_defaults(handler=_run)

    sim = subparsers.add_parser(
        "simulate", help="run a whole session with a scripted client, no sound devices",
        description="Run SCRIPT against a scripted client (see the scenario format in "
                    "voice_imrs/session/simulated_client.py). Prints the event log.")
    sim.add_argument("script", help="exercise name or file")
    sim.add_argument("--client", required=True, type=Path, help="scenario TOML file")
    sim.add_argument("--out", type=Path, help="write the session's speech to this WAV")
    sim.add_argument("--log", type=Path, help="write the event log here (default: stdout)")
    sim.add_argument("--screen", action="store_true", help="run the first-session screen")
    sim.add_argument("--realtime", action="store_true", help="take as long as a real session")
    sim.add_argument("--record", action="store_true", help="keep a record in the history")
    sim.add_argument("--tts", default="auto", help="synthesizer: auto, espeak, pyttsx3")
    sim.add_argument("--recorded-voice", metavar="NAME",
                     help="a therapist's recorded prompts instead of the synthetic voice")
    sim.add_argument("--background", metavar="TEXTURE",
                     help="rain, pink_noise or brown_noise under the voice; none for none")
    _listening_options(sim)
    sim.set_defaults(handler=_simulate)

    demo = subparsers.add_parser(
        "demo", help="a short safe-place session with a simulated client (no sound card)")
    demo.add_argument("--out", type=Path, default=Path("demo.wav"),
                      help="where to write the session's audio (default demo.wav)")
    demo.add_argument("--log", type=Path, help="write the event log here")
    demo.set_defaults(handler=_demo)


def _listening_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--recognizer", default="keyword",
                        help="keyword (default), pocketsphinx, vosk or keyboard")
    parser.add_argument("--model", help="Vosk model directory")
    parser.add_argument("--profile", type=Path, help="profile file (default: your profile)")


# ------------------------------------------------------------------ simulate and demo


def _simulate(args: argparse.Namespace) -> int:
    from voice_imrs.profile_store import load_profile
    from voice_imrs.script_files import find_script
    from voice_imrs.session.simulate import simulate
    from voice_imrs.session.simulated_client import load_scenario

    script = find_script(args.script)
    scenario = load_scenario(args.client)
    profile = load_profile(args.profile)
    with _event_stream(args.log) as write, _recording(args.record, profile, script) as record:
        observers = [write, *([record] if record else [])]
        if args.screen:
            from voice_imrs.session.conversations import screening_script

            screen = simulate(screening_script(), scenario, profile, recognizer=args.recognizer,
                              model=args.model, tts=args.tts, observers=observers)
            if screen.reason != "completed" or _last_variable(screen.events, "screen") != "clear":
                return 0
        result = simulate(script, scenario, profile, out_wav=args.out,
                          recognizer=args.recognizer, model=args.model, tts=args.tts,
                          realtime=args.realtime, observers=observers,
                          recorded_voice=args.recorded_voice, background=args.background)
    print(f"simulate: session ended ({result.reason})", file=sys.stderr)
    return 0


def _last_variable(events: list[LogEvent], name: str) -> str | None:
    values = [e.fields.get("value") for e in events
              if e.event == "setting" and e.fields.get("name") == name]
    return str(values[-1]) if values else None


@contextlib.contextmanager
def _event_stream(path: Path | None) -> Iterator[Callable[[LogEvent], None]]:
    from voice_imrs.session.log_writers import JsonLinesLog

    if path is None:
        yield JsonLinesLog(sys.stdout)
        return
    with path.open("w", encoding="utf-8") as stream:
        yield JsonLinesLog(stream)


@contextlib.contextmanager
def _recording(enabled: bool, profile: object,
               script: object) -> Iterator[Callable[[LogEvent], None] | None]:
    """The record store's observer for one session (None when not recording)."""
    if not enabled:
        yield None
        return
    from voice_imrs.records.store import SessionRecorder

    keep_text = bool(getattr(profile, "store_transcripts", False))
    recorder = SessionRecorder.open(store_transcripts=keep_text)
    recorder.begin(getattr(script, "name", "?"), getattr(profile, "mode", "homework"))
    ended = False

    def record(event: LogEvent) -> None:
        nonlocal ended
        recorder.add(event)
        if event.event == "session_end":
            recorder.end(str(event.fields.get("reason", "completed")))
            ended = True

    try:
        yield record
    finally:
        if not ended:
            recorder.end("signal")
        recorder.close()


def _demo(args: argparse.Namespace) -> int:
    from voice_imrs.session.demo import run_demo

    return run_demo(args.out, args.log)


# ------------------------------------------------------------------ run


def _run(args: argparse.Namespace) -> int:
    from voice_imrs.session.start import run_session

    return run_session(args)

