"""Therapist-led routing on the virtual sound device, with the real ``voice-imrs console``.

Three ends, as in an online session: the voice goes into ``call_out`` (what the video
call takes as its microphone), the client's side of the call comes in from ``mic`` (a
recorded stop is played into it), and the therapist's private cues go to ``cue_phones``
only. Each sink's monitor is recorded and looked at: the cue tones are in the cue sink
and nowhere else, the voice is in the call and not in the cue sink or the default one.
"""

from __future__ import annotations

import json
import signal
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from live_cli import LiveCli, play_into_microphone

from voice_imrs.console.cues import RATING_TONE_HZ, STOP_TONES_HZ

ROOT = Path(__file__).resolve().parent.parent
STOP_CLIP = ROOT / "tests/data/speech/dev/sc2_stop_0fa1e7a9_2.wav"
SCRIPT = ROOT / "tests/data/console/short_session.toml"
RATE = 16000


@pytest.fixture
def sinks(pulse: str) -> Iterator[list[str]]:
    """The call's and the therapist's sinks, added for this test and removed after it."""
    modules = []
    for name in ("call_out", "cue_phones"):
        out = subprocess.run(["pactl", "load-module", "module-null-sink", f"sink_name={name}",
                              f"sink_properties=device.description={name}"],
                             check=True, capture_output=True, text=True, timeout=10)
        modules.append(out.stdout.strip())
    try:
        yield ["call_out", "cue_phones", "speaker"]
    finally:
        for module in modules:
            subprocess.run(["pactl", "unload-module", module], check=False, timeout=10)


class Recorder:
    """Records a sink's monitor to raw 16 kHz PCM until stopped."""

    def __init__(self, sink: str, folder: Path) -> None:
        self.path = folder / f"{sink}.raw"
        self._file = self.path.open("wb")
        self._child = subprocess.Popen(
            ["parec", f"--device={sink}.monitor", "--format=s16le", f"--rate={RATE}",
             "--channels=1", "--latency-msec=20"], stdout=self._file)

    def stop(self) -> np.ndarray:
        self._child.terminate()
        self._child.wait(timeout=10)
        self._file.close()
        return np.frombuffer(self.path.read_bytes(), np.int16).astype(np.float64)


def tonal_windows(audio: np.ndarray, hz: float, window_s: float = 0.12) -> int:
    """How many windows hold a pure tone at ``hz``: most of their energy in that bin."""
    n = int(RATE * window_s)
    count = 0
    for start in range(0, len(audio) - n, n // 2):
        piece = audio[start:start + n] * np.hanning(n)
        power = np.abs(np.fft.rfft(piece)) ** 2
        total = power.sum()
        if total < n * 50.0 ** 2:  # quieter than the cue by far: silence
            continue
        bin_ = round(hz * n / RATE)
        if power[bin_ - 2:bin_ + 3].sum() / total > 0.8:
            count += 1
    return count


def loud(audio: np.ndarray) -> float:
    """Seconds louder than a whisper (voice present)."""
    n = RATE // 50
    blocks = audio[:len(audio) // n * n].reshape(-1, n)
    return float((np.sqrt((blocks ** 2).mean(axis=1)) > 300).sum()) / 50


def test_voice_to_the_call_stop_heard_from_it_cues_only_to_the_therapist(
        tmp_path: Path, sinks: list[str]) -> None:
    (tmp_path / "profile.toml").write_text("screen_done = true\nsilence_s = 20\n",
                                           encoding="utf-8")
    log = tmp_path / "events.jsonl"
    recorders = {sink: Recorder(sink, tmp_path) for sink in sinks}
    run = LiveCli(tmp_path, "console", str(SCRIPT), "--no-browser",
                  "--output", "pulse:call_out", "--input", "pulse:mic",
                  "--cue-output", "pulse:cue_phones",
                  "--profile", str(tmp_path / "profile.toml"), "--log", str(log))
    try:
        run.wait_for("how distressed", timeout=60)
        run.type("4")  # the therapist heard "four" and typed it
        run.wait_for("Notice your breath", timeout=30)
        time.sleep(1.0)
        play_into_microphone(STOP_CLIP)  # the client says stop, through the call
        run.wait_for("here with you", timeout=15)
        time.sleep(1.5)  # let the cue play out
    finally:
        run.child.send_signal(signal.SIGINT)
        try:
            run.finish(timeout=60)
        finally:
            run.kill()
            audio = {sink: recorder.stop() for sink, recorder in recorders.items()}

    events = [json.loads(line) for line in log.read_text().splitlines() if line]
    assert [e["value"] for e in events if e["event"] == "rating"] == [4]
    stops = [e for e in events if e["event"] == "intent" and e["intent"] == "stop"]
    assert stops and stops[0]["confidence"] is not None  # heard, not typed

    cues, call, default = audio["cue_phones"], audio["call_out"], audio["speaker"]
    assert tonal_windows(cues, RATING_TONE_HZ) >= 1
    assert all(tonal_windows(cues, hz) >= 1 for hz in STOP_TONES_HZ)
    assert loud(call) > 5.0  # the prompts went into the call
    for hz in (RATING_TONE_HZ, *STOP_TONES_HZ):
        assert tonal_windows(call, hz) == 0  # no cue reaches the client
    assert loud(cues) < 3.0  # the cue sink had cues (and a spoken number), not the voice
    assert loud(default) == 0.0  # nothing went to the default output
