"""Shared fixtures: the virtual sound device, and a guard against leaked threads."""

from __future__ import annotations

import os
import subprocess
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SPEECH = Path(__file__).resolve().parent / "data" / "speech"


@pytest.fixture(scope="session")
def pulse() -> Iterator[str]:
    """A running PulseAudio with sinks ``speaker`` and ``mic_feed`` and source ``mic``.

    Started before anything imports sounddevice (PortAudio lists devices at import).
    Yields the PULSE_SERVER address; tests inject audio with ``paplay --device=mic_feed``.
    """
    out = subprocess.run([str(ROOT / "scripts" / "virtual-audio.sh"), "start"],
                         check=True, capture_output=True, text=True).stdout
    server = out.strip().split("=", 1)[1]
    os.environ["PULSE_SERVER"] = server
    yield server


@pytest.fixture(autouse=True)
def no_leaked_threads() -> Iterator[None]:
    """Fail a test that leaves a thread of its own running."""
    before = set(threading.enumerate())
    yield
    leaked = []
    for thread in set(threading.enumerate()) - before:
        thread.join(timeout=2.0)
        if thread.is_alive() and not thread.daemon:
            leaked.append(thread.name)
    assert not leaked, f"threads left running: {leaked}"
