"""``voice-imrs run``, ``simulate`` and ``demo``: sessions on devices, simulated, shown."""

from __future__ import annotations

import argparse
import contextlib
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

from voice_imrs.cli.live_args import add_live_options, live_options
from voice_imrs.core.events import LogEvent
from voice_imrs.core.profile import Profile
from voice_imrs.core.script import Script


def register(subparsers: argparse._SubParsersAction) -> None:
    from voice_imrs.session.keys import keys_and_commands

    run = subparsers.add_parser(
        "run", help="run an exercise on the sound devices (the main job)",
        description="Run an exercise by voice. Without SCRIPT a spoken menu asks which.",
        epilog=keys_and_commands(), formatter_class=argparse.RawDescriptionHelpFormatter)
    run.add_argument("script", nargs="?", help="exercise name (see `voice-imrs list`) or file")
    add_live_options(run)
    run.add_argument("--log", type=Path, help="also write the event log (JSON lines) here")
    from voice_imrs.cli.console import add_client_code

    add_client_code(run)
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
    sim.add_argument("--tts", default="auto", help="synthesizer: auto, piper, espeak, pyttsx3")
    sim.add_argument("--recorded-voice", metavar="NAME",
                     help="a therapist's recorded prompts instead of the synthetic voice")
    sim.add_argument("--background", metavar="TEXTURE",
                     help="rain, pink_noise or brown_noise under the voice; none for none")
    _listening_options(sim)
    _console_options(sim)
    sim.set_defaults(handler=_simulate)

    demo = subparsers.add_parser(
        "demo", help="a short safe-place session with a simulated client (no sound card)")
    demo.add_argument("--out", type=Path, default=Path("demo.wav"),
                      help="where to write the session's audio (default demo.wav)")
    demo.add_argument("--log", type=Path, help="write the event log here")
    demo.set_defaults(handler=_demo)


def _listening_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--recognizer", default="whisper",
                        help="whisper (default: Whisper answers, keyword fast lane for stop), "
                             "keyword, pocketsphinx, vosk or keyboard")
    parser.add_argument("--model", help="faster-whisper (whisper) or Vosk (vosk) model directory")
    parser.add_argument("--profile", type=Path, help="profile file (default: your profile)")


def _console_options(parser: argparse.ArgumentParser) -> None:
    from voice_imrs.cli.console import add_page_options, port_number

    parser.add_argument("--console-port", type=port_number, metavar="PORT",
                        help="serve the therapist's console on 127.0.0.1:PORT (0: a free "
                             "port) during the session; the session then runs in real time")
    parser.add_argument("--browser", action="store_true",
                        help="with --console-port: open the console in a browser")
    add_page_options(parser)
    from voice_imrs.cli.console import add_client_code

    add_client_code(parser)


# ------------------------------------------------------------------ simulate and demo


def _simulate(args: argparse.Namespace) -> int:
    from voice_imrs.session.signals import signals_unwind

    with signals_unwind():  # SIGTERM or SIGHUP while starting up still closes the record
        return _simulate_session(args)


def _simulate_session(args: argparse.Namespace) -> int:
    from voice_imrs.profile_store import load_profile
    from voice_imrs.script_files import find_script
    from voice_imrs.session.preflight import check_session_choices
    from voice_imrs.session.simulate import simulate
    from voice_imrs.session.simulated_client import load_scenario

    script = find_script(args.script)
    scenario = load_scenario(args.client)
    profile = load_profile(args.profile)
    check_session_choices(profile, tts=args.tts, recorded_voice=args.recorded_voice,
                          background=args.background)
    if args.out is not None:  # the speech holds the profile's personal words
        from voice_imrs.private_files import reserve_private

        reserve_private(args.out)
    with _event_stream(args.log) as write, \
            _recording(args.record, profile, script, args.client_code) as record:
        observers = [write, *([record] if record else [])]
        if args.screen:
            from voice_imrs.session.conversations import screening_script

            # The screen is not the session: logged, not recorded (as with `run`).
            screen = simulate(screening_script(), scenario, profile, recognizer=args.recognizer,
                              model=args.model, tts=args.tts, observers=[write])
            if screen.reason != "completed" or _last_variable(screen.events, "screen") != "clear":
                return 0
        console = None
        if args.console_port is not None:
            from dataclasses import replace

            from voice_imrs.cli.console import console_options
            from voice_imrs.console.session import ConsoleSession

            console = ConsoleSession(replace(console_options(args, open_browser=args.browser),
                                             keep_text=profile.store_transcripts))
        result = simulate(script, scenario, profile, out_wav=args.out,
                          recognizer=args.recognizer, model=args.model, tts=args.tts,
                          realtime=args.realtime or console is not None, observers=observers,
                          recorded_voice=args.recorded_voice, background=args.background,
                          console=console)
    print(f"simulate: session ended ({result.reason})", file=sys.stderr)
    return 130 if result.reason == "signal" else 0


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
    from voice_imrs.private_files import open_private
    from voice_imrs.session.log_writers import close_log

    # The log holds the spoken text, with the profile's personal words: user-only.
    stream = open_private(path, "w")
    try:
        yield JsonLinesLog(stream)
    finally:
        close_log(stream)


@contextlib.contextmanager
def _recording(enabled: bool, profile: Profile, script: Script,
               client: str | None = None) -> Iterator[Callable[[LogEvent], None] | None]:
    """The record store's observer for one session (None when not recording)."""
    if not enabled:
        yield None
        return
    from voice_imrs.records.recording import open_recorder, recorded

    recorder = open_recorder(profile.store_transcripts, client)
    try:
        with recorded(recorder, script.name, profile.mode, client) as recording:
            yield recording.observe if recording is not None else None
    finally:
        if recorder is not None:
            recorder.close()


def _demo(args: argparse.Namespace) -> int:
    from voice_imrs.session.demo import run_demo

    return run_demo(args.out, args.log)


# ------------------------------------------------------------------ run


def _run(args: argparse.Namespace) -> int:
    from voice_imrs.session.signals import signals_unwind
    from voice_imrs.session.start import run_session

    with signals_unwind():  # SIGTERM or SIGHUP between sessions still closes the record
        return run_session(args, live_options(args))

