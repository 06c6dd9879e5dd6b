"""Commands of this group (not built yet)."""

from __future__ import annotations

import argparse


def register(subparsers: argparse._SubParsersAction) -> None:  # noqa: SLF001
    """Add this module's commands (none yet)."""
