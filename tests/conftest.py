"""Shared fixtures: the virtual sound device, and a guard against leaked threads."""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

# One BLAS thread in this process and its children, as in every listening session (the
# keyword lane sets it when it is built): OpenBLAS sums in another order on two threads,
# and borderline figures (a confidence, a gated block) moved with the order tests ran in.
os.environ["OPENBLAS_NUM_THREADS"] = "1"
from voice_imrs.asr.keyword_net import single_thread_blas

single_thread_blas()

ROOT = Path(__file__).resolve().parent.parent
SPEECH = Path(__file__).resolve().parent / "data" / "speech"


@pytest.fixture(scope="session")
def pulse() -> Iterator[str]:
    """A running PulseAudio with sinks ``speaker`` and ``mic_feed`` and source ``mic``.

    Started before anything imports sounddevice (PortAudio lists devices at import).
    Yields the PULSE_SERVER address; tests inject audio with ``paplay --device=mic_feed``.
    """
    script = str(ROOT / "scripts" / "virtual-audio.sh")
    own_folder = None
    if not os.environ.get("VOICE_IMRS_PULSE_DIR"):
        # Outside scripts/test.sh: a private server, so that parallel runs never share one.
        own_folder = tempfile.mkdtemp(prefix="voice-imrs-pulse.")
        os.environ["VOICE_IMRS_PULSE_DIR"] = own_folder
    out = subprocess.run([script, "start"], check=True, capture_output=True, text=True).stdout
    server = out.strip().split("=", 1)[1]
    os.environ["PULSE_SERVER"] = server
    yield server
    if own_folder is not None:
        subprocess.run([script, "stop"], check=False, capture_output=True)
        shutil.rmtree(own_folder, ignore_errors=True)


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
