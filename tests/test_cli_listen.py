"""``voice-imrs listen`` in a subprocess: JSON lines, several files, live input, bad input."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parent.parent
DEV = ROOT / "tests" / "data" / "speech" / "dev"
STOP_CLIP = DEV / "sc2_stop_0fa1e7a9_2.wav"


def _env() -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": str(ROOT)}


def _listen(*args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "voice_imrs", "listen", *args],
                          capture_output=True, text=True, timeout=120, env=_env(),
                          input=stdin)


def _lines(done: subprocess.CompletedProcess[str]) -> list[dict[str, object]]:
    return [json.loads(line) for line in done.stdout.splitlines()]


@pytest.fixture(scope="module")
def three_wav(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("listen") / "three.wav"  # 22.05 kHz: resampled
    subprocess.run(["espeak-ng", "-v", "en-us", "-w", str(path), "three"], check=True,
                   timeout=30)
    return path


@pytest.fixture(scope="module")
def quiet_wav(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from voice_imrs.audio.wav import write_wav

    path = tmp_path_factory.mktemp("listen") / "quiet.wav"
    hiss = np.random.default_rng(7).normal(0, 20, 16_000 * 2)  # a quiet room
    write_wav(path, hiss.astype(np.int16), 16_000)
    return path


def test_several_files_each_on_a_fresh_state(three_wav: Path, quiet_wav: Path) -> None:
    NOISE_CLIP = quiet_wav
    done = _listen("--expect", "rating", "--file", str(STOP_CLIP), str(NOISE_CLIP),
                   "--file", str(three_wav))
    assert done.returncode == 0, done.stderr
    lines = _lines(done)
    assert lines[0]["file"] == str(STOP_CLIP) and lines[0]["intent"] == "stop"
    assert lines[0]["value"] is None and 0 < float(lines[0]["t"]) < 1.5  # type: ignore[arg-type]
    assert lines[0]["text"] == "stop"
    assert {"file": str(NOISE_CLIP), "intent": None} in lines
    assert [(x["intent"], x["value"]) for x in lines if x["file"] == str(three_wav)] == [
        ("rating", 3)]
    assert not any(x["intent"] == "speech" for x in lines)


def test_speech_onsets_only_when_asked() -> None:
    lines = _lines(_listen("--speech", "--file", str(STOP_CLIP)))
    assert [x["intent"] for x in lines][:2] == ["speech", "stop"]


def test_a_rating_not_expected_is_not_printed(three_wav: Path) -> None:
    lines = _lines(_listen("--expect", "none", "--file", str(three_wav)))
    assert lines and not [x for x in lines if x["intent"] == "rating"]


def test_typed_lines_with_the_keyboard_recognizer() -> None:
    done = _listen("--recognizer", "keyboard", "--expect", "rating", stdin="stop\nseven\n")
    assert done.returncode == 0, done.stderr
    assert [(x["intent"], x["value"]) for x in _lines(done)] == [("stop", None), ("rating", 7)]


def _one_clear_line(done: subprocess.CompletedProcess[str], *words: str) -> None:
    assert done.returncode != 0
    assert "Traceback" not in done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr
    for word in words:
        assert word in lines[0], lines[0]


def test_bad_input_is_one_clear_line(tmp_path: Path) -> None:
    empty = tmp_path / "empty.wav"
    empty.write_bytes(b"")
    text = tmp_path / "notes.wav"
    text.write_text("not audio")
    _one_clear_line(_listen("--file", str(empty)), "empty.wav", "empty")
    _one_clear_line(_listen("--file", str(text)), "notes.wav", "not a PCM WAV")
    _one_clear_line(_listen("--file", str(tmp_path / "absent.wav")), "does not exist")
    _one_clear_line(_listen("--recognizer", "wav2vec", "--file", str(STOP_CLIP)),
                    "wav2vec", "keyboard, keyword, pocketsphinx, vosk, whisper")
    _one_clear_line(_listen("--recognizer", "vosk", "--model", str(tmp_path / "no-model"),
                            "--file", str(STOP_CLIP)), "voice-imrs models download")
    broken = tmp_path / "broken-model"
    (broken / "am").mkdir(parents=True)
    (broken / "am" / "final.mdl").write_bytes(b"garbage")
    _one_clear_line(_listen("--recognizer", "vosk", "--model", str(broken),
                            "--file", str(STOP_CLIP)), "could not be loaded",
                    "voice-imrs models download")


def test_unknown_device_is_one_clear_line(pulse: str) -> None:
    _one_clear_line(_listen("--device", "no-such-microphone"), "no-such-microphone",
                    "Choose one of")


def test_microphone_until_ctrl_c(pulse: str) -> None:
    process = subprocess.Popen(
        [sys.executable, "-m", "voice_imrs", "listen", "--device", "default"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=_env())
    try:
        time.sleep(3.0)  # start-up, then listening to the (silent) microphone
        assert process.poll() is None
        process.send_signal(signal.SIGINT)
        out, err = process.communicate(timeout=20)
    finally:
        if process.poll() is None:
            process.kill()
            process.communicate(timeout=5)
    assert process.returncode == 0, err
    assert "Traceback" not in err and out == ""


GO_CLIP = DEV / "sc2_go_5ff3f9a1_0.wav"
SEVEN_CLIP = DEV / "sc2_seven_964e8cfd_1.wav"


def test_choice_stop_word_and_rejection_with_the_default_recognizer() -> None:
    lines = _lines(_listen("--choice", "yes", "--choice", "seven", "--file", str(SEVEN_CLIP)))
    assert [(x["intent"], x["value"]) for x in lines] == [("choice", "seven")]
    lines = _lines(_listen("--expect", "rating", "--file", str(GO_CLIP)))
    assert lines == [{"file": str(GO_CLIP), "intent": None, "text": "go", "rejected": True}]
    lines = _lines(_listen("--stop-word", "go", "--file", str(GO_CLIP), str(STOP_CLIP)))
    heard = [(x["file"], x["intent"]) for x in lines]
    assert (str(GO_CLIP), "stop") in heard  # the custom word stops ...
    assert (str(STOP_CLIP), "stop") not in heard  # ... and replaces the default "stop"
