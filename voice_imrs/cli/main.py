"""Entry point of ``voice-imrs``: builds the parser from the command modules and runs one.

Each command module exposes ``register(subparsers)``, which adds its commands with
``set_defaults(handler=...)``; a handler takes the parsed arguments and returns an exit
code. Command modules import heavy packages only inside their handlers, so that
``voice-imrs --help`` and the first spoken word come quickly.
"""

from __future__ import annotations

import os

# One BLAS thread: the keyword recognizer's small matrices run slower, not faster, on
# several, and a listening session must stay within a few percent of one core.
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import argparse
import importlib
import sys
import traceback
from collections.abc import Sequence

from voice_imrs import __version__
from voice_imrs.cli.plain import add_plain_option, choose_plain
from voice_imrs.errors import VoiceImrsError

COMMAND_MODULES = (
    "voice_imrs.cli.speech_out",   # devices, voices, say
    "voice_imrs.cli.listen",       # listen
    "voice_imrs.cli.models",       # models list|download
    "voice_imrs.cli.scripts",      # list, validate
    "voice_imrs.cli.profile",      # profile, setup
    "voice_imrs.cli.session",      # run, simulate, demo
    "voice_imrs.cli.console",      # console
    "voice_imrs.cli.records",      # history, report, export, forget, recover
    "voice_imrs.cli.render",       # render, record-prompts
    "voice_imrs.cli.bench",        # bench recognition|barge-in|resources
)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="voice-imrs",
        description="Offline, voice-guided imagery rescripting sessions.",
    )
    parser.add_argument("--version", action="version", version=f"voice-imrs {__version__}")
    add_plain_option(parser, top=True)
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    for module_name in COMMAND_MODULES:
        importlib.import_module(module_name).register(subparsers)
    _describe_every_command(parser)
    return parser


def _describe_every_command(parser: argparse.ArgumentParser) -> None:
    """Give every command's ``--help`` a description: its one-line help, when it has none.

    Without one, ``voice-imrs history --help`` shows only the usage line, and a screen
    reader user learns nothing about what the command does.
    """
    for action in parser._actions:  # argparse keeps subparsers only here
        if not isinstance(action, argparse._SubParsersAction):
            continue
        helps = {choice.dest: choice.help for choice in action._choices_actions}
        for name, sub in action.choices.items():
            if not sub.description and helps.get(name):
                text = str(helps[name])
                sub.description = text[0].upper() + text[1:] + ("" if text.endswith(".") else ".")
            _describe_every_command(sub)


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    choose_plain(bool(getattr(args, "plain", False)))
    handler = getattr(args, "handler", None)
    if handler is None:
        parser.print_help()
        return 2
    try:
        return int(handler(args) or 0)
    except VoiceImrsError as error:
        print(f"voice-imrs: {error}", file=sys.stderr)
        return error.exit_code
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        return 0
    except Exception as error:  # a bug of ours: one line for the user, details on request
        if os.environ.get("VOICE_IMRS_DEBUG"):
            traceback.print_exc()
        print(f"voice-imrs: internal error ({type(error).__name__}: {error}). "
              "Run again with VOICE_IMRS_DEBUG=1 for details.", file=sys.stderr)
        return 70


def entry() -> None:
    """The ``voice-imrs`` command: ``main``, then an exit that cannot be held up.

    Everything is written and closed when ``main`` returns. The native libraries' exit
    handlers could still wait: PortAudio's terminate on a sound server that is gone, a
    neural sentence being synthesized, a model still loading (16-24 s measured after a
    device loss on busy cores), and a signal must end a session within 5 s.
    """
    code = main()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)


if __name__ == "__main__":
    entry()
