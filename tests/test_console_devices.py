"""``voice-imrs devices --test`` on the virtual sound device: a tone out, a level in."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def devices_test(*args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.run([sys.executable, "-m", "voice_imrs", "devices", "--test", *args],
                          capture_output=True, text=True, timeout=60, env=env)


def test_a_tone_on_each_output_is_heard_on_a_monitor_input(pulse: str) -> None:
    done = devices_test("--output", "pulse:speaker", "--cue-output", "pulse:mic_feed",
                        "--input", "pulse:mic")
    lines = done.stdout.splitlines()
    assert done.returncode == 0, done.stdout + done.stderr
    assert "in quiet, silent" in lines[0]
    assert "output pulse:speaker: playing a 440 Hz tone" in lines
    assert "cue output pulse:mic_feed: playing a 660 Hz tone" in lines
    # The microphone is mic_feed's monitor: silent for the speaker's tone, loud for the cue's.
    assert lines[lines.index("output pulse:speaker: playing a 440 Hz tone") + 1].endswith(
        "silent (-120 dBFS)")
    assert "dBFS average" in lines[-1]


def test_an_input_that_hears_nothing_says_so_and_fails(pulse: str) -> None:
    done = devices_test("--output", "pulse:speaker", "--input", "pulse:mic")
    assert done.returncode == 1
    assert "The input heard nothing" in done.stdout
    assert "Traceback" not in done.stderr
