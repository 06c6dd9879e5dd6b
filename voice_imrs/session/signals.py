"""SIGINT, SIGTERM and SIGHUP: every way a session is asked to end from outside.

Ctrl-C, ``kill`` and a closed terminal or dropped SSH link (SIGHUP) all mean "end now".
While a session's event loop runs, the first of them becomes a ``Signal`` for the engine:
a short grounding, at most ``runner.SIGNAL_GRACE_S``, then the end, with the record
closed. A second one raises ``KeyboardInterrupt`` from a plain signal handler, which
Python runs in the main thread even while it waits on a lock, so it ends the process at
once through every ``finally`` (the record is closed as ``signal``). Outside a loop (a
synthesizer starting, the record opening) the same handler unwinds cleanly instead of the
default SIGTERM/SIGHUP action, which would kill the process with its record left open.
"""

from __future__ import annotations

import asyncio
import contextlib
import signal
import threading
from collections.abc import Callable, Iterator
from types import FrameType
from typing import Any

ENDING_SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)


def _raise(signum: int, frame: FrameType | None) -> None:
    raise KeyboardInterrupt(signal.Signals(signum).name)


def _in_main_thread() -> bool:
    return threading.current_thread() is threading.main_thread()


@contextlib.contextmanager
def signals_unwind() -> Iterator[None]:
    """Within: each ending signal raises KeyboardInterrupt (previous handlers restored)."""
    if not _in_main_thread():
        yield
        return
    previous: dict[int, Any] = {sig: signal.getsignal(sig) for sig in ENDING_SIGNALS}
    for sig in ENDING_SIGNALS:
        signal.signal(sig, _raise)
    try:
        yield
    finally:
        for number, handler in previous.items():
            signal.signal(number, handler if handler is not None else signal.SIG_DFL)


@contextlib.contextmanager
def signals_to_session(loop: asyncio.AbstractEventLoop,
                       deliver: Callable[[str], None]) -> Iterator[None]:
    """Within: the first ending signal calls ``deliver(name)`` on the loop; the next
    raises KeyboardInterrupt. Outside the main thread (tests), nothing is installed.
    """
    if not _in_main_thread():
        yield
        return
    previous: dict[int, Any] = {sig: signal.getsignal(sig) for sig in ENDING_SIGNALS}

    def first(sig: signal.Signals) -> None:
        for each in ENDING_SIGNALS:
            loop.remove_signal_handler(each)
            signal.signal(each, _raise)
        deliver(sig.name)

    for sig in ENDING_SIGNALS:
        loop.add_signal_handler(sig, first, sig)
    try:
        yield
    finally:
        for number, handler in previous.items():
            loop.remove_signal_handler(number)
            signal.signal(number, handler if handler is not None else signal.SIG_DFL)
