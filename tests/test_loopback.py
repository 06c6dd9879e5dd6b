"""Loopback on the virtual device: ``voice-imrs say`` speaks a rating into the speaker,
``voice-imrs listen`` hears it from the speaker's monitor and prints the right intent."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_a_spoken_rating_comes_back_through_the_loopback(pulse: str) -> None:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    listener = subprocess.Popen(
        [sys.executable, "-m", "voice_imrs", "listen", "--device", "pulse:speaker.monitor",
         "--expect", "rating"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        env=env)
    try:
        time.sleep(2.0)  # the capture stream is running
        for _ in range(2):  # twice: the first may fall into the stream's start-up
            subprocess.run([sys.executable, "-m", "voice_imrs", "say", "seven"], env=env,
                           check=True, timeout=60, capture_output=True)
            time.sleep(1.0)
    finally:
        listener.send_signal(signal.SIGINT)
        out, err = listener.communicate(timeout=30)
    heard = [json.loads(line) for line in out.splitlines()]
    ratings = [h for h in heard if h.get("intent") == "rating"]
    assert ratings, (heard, err[-500:])
    assert all(r["value"] == 7 for r in ratings), heard
    assert "Traceback" not in err
