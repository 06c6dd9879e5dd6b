"""Plain output: one finished line at a time, for screen readers, logs and dumb terminals.

Redrawn progress bars (carriage returns) and bar characters are noise to a screen reader
and fill a log. Output is plain when ``--plain`` is given, when ``NO_COLOR`` is set (the
no-color.org convention), when ``TERM`` is ``dumb``, or when the stream is not a terminal.
"""

from __future__ import annotations

import argparse
import os
from typing import TextIO

#: Set by ``voice-imrs --plain`` so that every part of the program sees the choice.
PLAIN_ENV = "VOICE_IMRS_PLAIN"


def plain_output(stream: TextIO) -> bool:
    """True when nothing should be redrawn in place on ``stream``."""
    if os.environ.get(PLAIN_ENV) or "NO_COLOR" in os.environ:
        return True
    if os.environ.get("TERM", "") == "dumb":
        return True
    try:
        return not stream.isatty()
    except (AttributeError, ValueError, OSError):
        return True


def choose_plain(enabled: bool) -> None:
    """Remember ``--plain`` for the rest of this run (and programs it starts)."""
    if enabled:
        os.environ[PLAIN_ENV] = "1"


def add_plain_option(parser: argparse.ArgumentParser, top: bool = False) -> None:
    """``--plain``, before the command or after it (``voice-imrs render x --plain``)."""
    # After the command the default is left out, so it cannot undo one given before it.
    parser.add_argument("--plain", action="store_true",
                        default=False if top else argparse.SUPPRESS,
                        help="plain output: no progress bars redrawn in place, one line "
                             "per step (also when NO_COLOR is set, TERM=dumb, or output "
                             "is not a terminal)")
