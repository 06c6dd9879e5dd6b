"""Argument types for numbers on the command line: finite, and within the range they mean.

``float("nan")`` and ``float("inf")`` parse, and ``--background-volume nan`` once wrote a
silent track and reported success. Each type here refuses such values while parsing, so
argparse reports them in one line (``argument --rate: ...``) with exit code 2.
"""

from __future__ import annotations

import argparse
import math
from collections.abc import Callable

#: The same bounds the profile keeps for its own rate (``core.profile.RANGES``).
RATE_WPM = (90, 220)


def _number(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
    if not math.isfinite(value):
        raise argparse.ArgumentTypeError(f"{text!r} is not a finite number")
    return value


def number_in(low: float, high: float, unit: str = "") -> Callable[[str], float]:
    """A type for a finite number from ``low`` to ``high`` (inclusive)."""
    def parse(text: str) -> float:
        value = _number(text)
        if not low <= value <= high:
            words = f" {unit}" if unit else ""
            raise argparse.ArgumentTypeError(
                f"{text} is outside {low:g} to {high:g}{words}")
        return value

    parse.__name__ = "number"  # argparse names the type in some messages
    return parse


def rate_wpm(text: str) -> int:
    """Words per minute: a whole number within ``RATE_WPM``."""
    value = _number(text)
    low, high = RATE_WPM
    if value != int(value) or not low <= value <= high:
        raise argparse.ArgumentTypeError(
            f"{text} is not a whole number of words per minute from {low} to {high}")
    return int(value)


def whole_in(low: int, high: int) -> Callable[[str], int]:
    """A type for a whole number from ``low`` to ``high`` (inclusive)."""
    def parse(text: str) -> int:
        value = _number(text)
        if value != int(value) or not low <= value <= high:
            raise argparse.ArgumentTypeError(f"{text} is not a whole number from {low} to "
                                             f"{high}")
        return int(value)

    parse.__name__ = "whole number"
    return parse


volume = number_in(0.0, 1.0)
