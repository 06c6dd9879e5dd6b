"""`voice-imrs devices`, `voices` and `say`, run as a user runs them (a subprocess)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
from conftest import ROOT

from voice_imrs.audio.wav import read_wav


def cli(*args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    return subprocess.run([sys.executable, "-m", "voice_imrs", *args], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=timeout)


def assert_one_line_error(result: subprocess.CompletedProcess[str], *words: str) -> None:
    assert result.returncode != 0
    assert "Traceback" not in result.stderr
    lines = [line for line in result.stderr.splitlines()
             if line.strip() and not line.startswith("ALSA lib")]
    assert len(lines) == 1, result.stderr
    for word in words:
        assert word in lines[0], lines[0]


def test_say_writes_a_wav(tmp_path: Path) -> None:
    out = tmp_path / "hello.wav"
    result = cli("say", "You are safe here.", "--out", str(out), "--rate", "170",
                 "--voice", "en-gb+f3")
    assert result.returncode == 0, result.stderr
    samples, rate = read_wav(out)
    assert rate == 22050 and 0.8 < len(samples) / rate < 4.0
    assert np.abs(samples).max() > 3000


def test_say_plays_on_the_virtual_device(pulse: str, tmp_path: Path) -> None:
    raw = tmp_path / "monitor.raw"
    with raw.open("wb") as sink:
        recorder = subprocess.Popen(["parec", "-d", "speaker.monitor", "--raw",
                                     "--format=s16le", "--rate=22050", "--channels=1"],
                                    stdout=sink, env=dict(os.environ, PULSE_SERVER=pulse))
        try:
            time.sleep(0.3)
            result = cli("say", "Notice your breathing.", "--volume", "1.0")
            time.sleep(0.3)
        finally:
            recorder.terminate()
            recorder.wait(timeout=5)
    assert result.returncode == 0, result.stderr
    heard = np.frombuffer(raw.read_bytes(), np.int16)
    loud = np.flatnonzero(np.abs(heard.astype(np.int32)) > 200)
    assert len(loud) > 0, "nothing was heard on speaker.monitor"
    assert 0.8 < (loud[-1] - loud[0]) / 22050 < 4.0


def test_voices_lists_en_us_for_both_synthesizers() -> None:
    espeak = cli("voices")
    assert espeak.returncode == 0 and "  en-us: English (America)" in espeak.stdout
    assert "f3" in espeak.stdout
    listed = json.loads(cli("voices", "--tts", "pyttsx3", "--json").stdout)
    assert any("en-us" in voice["languages"] for voice in listed)


def test_devices_lists_inputs_and_outputs(pulse: str) -> None:
    text = cli("devices")
    assert text.returncode == 0
    assert "Input devices" in text.stdout and "Output devices" in text.stdout
    assert "default" in text.stdout
    listed = json.loads(cli("devices", "--json").stdout)
    assert {d["name"] for d in listed} >= {"pulse", "default"}


def test_unknown_voice_device_and_synthesizer_are_one_line_errors(pulse: str) -> None:
    assert_one_line_error(cli("say", "hi", "--voice", "elvish"), "elvish", "en-us")
    assert_one_line_error(cli("say", "hi", "--device", "HDMI 3"), "HDMI 3", "pulse")
    assert_one_line_error(cli("say", "hi", "--tts", "festival"), "festival", "pyttsx3")
    assert_one_line_error(cli("say", "hi", "--out", "/nonexistent/dir/x.wav"), "does not exist")
    assert_one_line_error(cli("voices", "--tts", "festival"), "festival")


def test_ctrl_c_stops_say_at_once(pulse: str) -> None:
    import signal

    env = dict(os.environ, PYTHONPATH=str(ROOT))
    process = subprocess.Popen([sys.executable, "-m", "voice_imrs", "say",
                                "Let the picture grow slowly. " * 20],
                               cwd=ROOT, env=env, stderr=subprocess.PIPE, text=True)
    try:
        # Start-up (the neural voice loads first), the device's start stall, then speech:
        # the playback stream appears once the voice is loaded and the handler is set.
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and process.poll() is None:
            streams = subprocess.run(["pactl", "list", "short", "sink-inputs"],
                                     capture_output=True, text=True, timeout=10).stdout
            if streams.strip():
                break
            time.sleep(0.1)
        time.sleep(2.0)
        sent = time.monotonic()
        process.send_signal(signal.SIGINT)
        _, stderr = process.communicate(timeout=10)
        took = time.monotonic() - sent
    finally:
        if process.poll() is None:
            process.kill()
            process.wait(timeout=5)
    assert process.returncode == 130
    assert "Traceback" not in stderr and "stopped" in stderr
    assert took < 1.0, took
