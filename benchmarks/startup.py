"""``voice-imrs bench startup``: how soon ``voice-imrs run`` speaks, and its memory.

Each trial starts the real command (``voice-imrs run micro_imagery``) as a child process
on the virtual sound device, with a fresh profile whose first-session screen is done and
records in a temporary folder, so nothing of the user's is touched. An observer stream on
``speaker.monitor`` notes when the first sound arrives: the time from starting the
process to that moment is "first word" (Python start-up, imports, the recognizer, the
devices, the first prompt's synthesis and the output path all included). Two seconds
later (while PulseAudio streams start, PortAudio's ALSA thread spins on a core), the
child's CPU time over six seconds of the session (speaking and listening) is read, as %
of one core, then its peak resident memory (VmHWM), and then it is
stopped with two Ctrl-C (the second ends at once). One unmeasured run warms the
freshly started sound server first.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

from benchmarks.barge_in import SOUND_LEVEL, Capture, virtual_device

SCRIPT = "micro_imagery"
SETTLE_S = 2.0  # PortAudio's ALSA thread spins while PulseAudio streams start up
LISTEN_S = 6.0  # of the session whose CPU is measured


def _peak_rss_mb(pid: int) -> float | None:
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return None
    for line in status.splitlines():
        if line.startswith("VmHWM:"):
            return round(int(line.split()[1]) / 1024, 1)
    return None


def _cpu_seconds(pid: int) -> float | None:
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")  # utime + stime


def one_trial(output: Capture, recognizer: str) -> dict[str, Any]:
    """Start ``voice-imrs run``; return seconds to its first sound and its peak memory."""
    folder = Path(tempfile.mkdtemp(prefix="voice-imrs-startup-"))
    try:
        (folder / "profile.toml").write_text("screen_done = true\n", encoding="utf-8")
        env = {**os.environ, "VOICE_IMRS_CONFIG_DIR": str(folder),
               "VOICE_IMRS_DATA_DIR": str(folder / "data")}
        for variable in ("PULSE_SINK", "PULSE_SOURCE"):
            env.pop(variable, None)
        started = time.monotonic()
        child = subprocess.Popen(
            [sys.executable, "-m", "voice_imrs.cli.main", "run", SCRIPT, "--quiet",
             "--no-keyboard", "--recognizer", recognizer,
             "--profile", str(folder / "profile.toml")],
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
            env=env)
        first: float | None = None
        deadline = started + 20.0
        while first is None and time.monotonic() < deadline and child.poll() is None:
            time.sleep(0.05)
            samples, times = output.since(started)
            loud = np.flatnonzero(np.abs(samples.astype(np.int32)) > SOUND_LEVEL)
            if len(loud):
                first = float(times[loud[0]]) - started
        time.sleep(SETTLE_S)
        cpu_before = _cpu_seconds(child.pid)
        time.sleep(LISTEN_S)
        cpu_after = _cpu_seconds(child.pid)
        peak = _peak_rss_mb(child.pid)
        for _ in range(2):
            if child.poll() is None:
                child.send_signal(signal.SIGINT)
                time.sleep(0.5)
        try:
            child.wait(timeout=10)
        except subprocess.TimeoutExpired:
            child.kill()
            child.wait()
        error = child.stderr.read().decode(errors="replace") if child.stderr else ""
        if first is None:
            from voice_imrs.errors import VoiceImrsError

            raise VoiceImrsError(f"`voice-imrs run {SCRIPT}` made no sound in 20 s "
                                 f"({error.strip().splitlines()[-1:] or 'no message'}).",
                                 hint="Try it by hand: voice-imrs run micro_imagery")
        cpu = (round(100 * (cpu_after - cpu_before) / LISTEN_S, 1)
               if cpu_before is not None and cpu_after is not None else None)
        return {"first_word_s": round(first, 3), "peak_rss_mb": peak, "session_cpu_pct": cpu}
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def measure(trials: int, recognizer: str = "keyword") -> dict[str, Any]:
    with virtual_device():
        from voice_imrs.audio.devices import import_sounddevice

        import_sounddevice()
        output = Capture("speaker.monitor", 22050)
        try:
            # The first stream on a freshly started PulseAudio is slow (a user's sound
            # server has long been running): one unmeasured run first.
            one_trial(output, recognizer)
            results = []
            for n in range(trials):
                results.append(one_trial(output, recognizer))
                print(f"startup {n + 1}/{trials}: {results[-1]}", file=sys.stderr, flush=True)
        finally:
            output.close()
    firsts = [r["first_word_s"] for r in results]
    peaks = [r["peak_rss_mb"] for r in results if r["peak_rss_mb"] is not None]
    return {"recognizer": recognizer, "trials": trials,
            "first_word_p50_s": round(float(np.median(firsts)), 3),
            "first_word_max_s": max(firsts),
            "peak_rss_mb": max(peaks) if peaks else None,
            "session_cpu_pct": max((r["session_cpu_pct"] for r in results
                                    if r["session_cpu_pct"] is not None), default=None)}


def run(args: argparse.Namespace) -> int:
    print(json.dumps(measure(args.trials, args.recognizer)))
    return 0
