"""``voice-imrs console``: a session with the therapist's console page beside it.

The same session as ``run`` (screen, menu, records), with a local web page that shows it
live and steers it (docs/CONSOLE.md). ``add_console_options`` also gives ``simulate`` its
``--console-port``.
"""

from __future__ import annotations

import argparse
import re
from pathlib import Path

from voice_imrs.cli.live_args import add_live_options, live_options


def register(subparsers: argparse._SubParsersAction) -> None:
    console = subparsers.add_parser(
        "console", help="run an exercise with the therapist's console (a local web page)",
        description="Run an exercise as `run` does, and serve a page on 127.0.0.1 that shows "
                    "the session live and steers it. The page's address (with its token) is "
                    "printed on standard error; see docs/CONSOLE.md.")
    console.add_argument("script", nargs="?", help="exercise name or file")
    add_live_options(console)
    console.add_argument("--log", type=Path, help="also write the event log (JSON lines) here")
    console.add_argument("--console-port", type=port_number, default=0, metavar="PORT",
                         help="port on 127.0.0.1 (default: a free one)")
    console.add_argument("--no-browser", action="store_true",
                         help="print the address but do not open a browser")
    console.add_argument("--cue-output", metavar="DEVICE",
                         help="the therapist's own output (headphones) for private cues: a "
                              "soft tone and the number on a rating, low tones on a stop")
    add_page_options(console)
    add_client_code(console)
    console.set_defaults(handler=_console)


def add_client_code(parser: argparse.ArgumentParser, *, reading: bool = False) -> None:
    """``--client-code``: whose records (a pseudonym the therapist chooses, never a name)."""
    parser.add_argument("--client-code", type=client_code, metavar="CODE",
                        help=("only this client's sessions" if reading else
                              "record the session under this client's code (a pseudonym, "
                              "such as c07); default: the single local user"))


def client_code(text: str) -> str:
    """A client code for argparse: 1-32 letters, digits, '-', '_' or '.'."""
    if not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,31}", text):
        raise argparse.ArgumentTypeError(
            f"{text!r} is not a client code: use 1-32 letters, digits, '-', '_' or '.', "
            "and a pseudonym rather than a name")
    return text


def add_page_options(parser: argparse.ArgumentParser) -> None:
    """What the console keeps and how the voice starts (shared by console and simulate)."""
    parser.add_argument("--notes", action="store_true",
                        help="keep the console's note for this session (shown in the report)")
    parser.add_argument("--teleprompter", action="store_true",
                        help="mute the synthetic voice: you read the prompts the console shows")


def port_number(text: str) -> int:
    """A TCP port (0: any free one), for argparse."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a port number") from None
    if not 0 <= value <= 65535:
        raise argparse.ArgumentTypeError(f"{value} is not a port (0-65535)")
    return value


def console_options(args: argparse.Namespace, *, open_browser: bool):
    """The ``ConsoleOptions`` the parsed arguments ask for."""
    from voice_imrs.console.session import ConsoleOptions

    return ConsoleOptions(port=args.console_port, open_browser=open_browser, notes=args.notes,
                          teleprompter=args.teleprompter)


def _console(args: argparse.Namespace) -> int:
    from voice_imrs.session.start import run_session

    args.console = console_options(args, open_browser=not args.no_browser)
    return run_session(args, live_options(args))
