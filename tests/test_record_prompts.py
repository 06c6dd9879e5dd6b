"""Recording prompts: silence trimmed, keep/redo/skip/quit, and a clip played into the
virtual microphone landing as a trimmed take."""

from __future__ import annotations

import io
import os
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np
import pytest
from conftest import ROOT, SPEECH

from voice_imrs.audio.input import WavFileSource
from voice_imrs.audio.wav import read_wav, read_wav_at, write_wav
from voice_imrs.core.script import End, Say, Script
from voice_imrs.render.recording import PromptRecorder, block_levels, trim_silence
from voice_imrs.render.takes import TakeLibrary

RATE = 16000
CLIP = SPEECH / "dev" / "arctic_aew_a0001.wav"


def speech_span(samples: np.ndarray, rate: int) -> float:
    """Seconds from the first to the last block well above the clip's own quiet floor."""
    levels = block_levels(samples, rate)
    loud = np.flatnonzero(levels > max(330.0, levels.max() * 10 ** (-35 / 20)))
    return (loud[-1] + 1 - loud[0]) * 0.02


def padded_clip(tmp_path: Path, before_s: float, after_s: float) -> tuple[Path, np.ndarray]:
    clip = read_wav_at(CLIP, RATE)
    padded = np.concatenate([np.zeros(int(before_s * RATE), np.int16), clip,
                             np.zeros(int(after_s * RATE), np.int16)])
    path = tmp_path / "padded.wav"
    write_wav(path, padded, RATE)
    return path, clip


def envelope_match(take: np.ndarray, clip: np.ndarray) -> float:
    """Best correlation of the take's block levels with a same-length stretch of the clip's."""
    best = -1.0
    for start in range(-len(take) // 4, len(clip) - len(take) // 2):
        a, b = max(0, -start), max(0, start)
        n = min(len(take) - a, len(clip) - b)
        if n >= len(take) * 3 // 4:
            best = max(best, float(np.corrcoef(take[a:a + n], clip[b:b + n])[0, 1]))
    return best


class ScriptedLines:
    """Answers typed in advance (a hand-written fake of LineReader): no Enter while recording."""

    def __init__(self, answers: list[str]) -> None:
        self.answers = list(answers)

    def poll(self) -> str | None:
        return None

    def get(self) -> str | None:
        return self.answers.pop(0) if self.answers else None


def test_trim_keeps_the_speech_with_short_margins():
    clip = read_wav_at(CLIP, RATE)
    padded = np.concatenate([np.zeros(RATE * 2, np.int16), clip, np.zeros(RATE * 3, np.int16)])
    trimmed = trim_silence(padded, RATE)
    assert speech_span(clip, RATE) <= len(trimmed) / RATE <= speech_span(clip, RATE) + 0.5
    assert len(trim_silence(np.zeros(RATE, np.int16), RATE)) == 0


def test_recording_stops_after_speech_then_silence_and_keeps(tmp_path):
    path, clip = padded_clip(tmp_path, before_s=1.0, after_s=6.0)
    out = io.StringIO()
    library = TakeLibrary("t", tmp_path / "voices")
    recorder = PromptRecorder(lambda: WavFileSource(path), max_seconds=30,
                              lines=ScriptedLines(["", "k"]), out=out)  # type: ignore[arg-type]
    script = Script("s", "S", steps=(Say("one", "First prompt."), Say("two", "Second."),
                                      End("grounding_end")))
    summary = recorder.record_script(script, library)
    text = out.getvalue()
    assert "[1/2] one" in text and "Recorded" in text and "Kept." in text
    # Stopped by the pause after speech: well before the end of the 6 s of silence.
    raw = float(text.split("trimmed from ")[1].split(" s")[0])
    assert raw < 1.0 + len(clip) / RATE + 2.5
    take = library.take_for("one", "First prompt.")
    assert take is not None
    assert abs(len(take) / RATE - speech_span(clip, RATE)) < 0.6
    assert "Kept 2 takes" in summary and "0 prompts" in summary


def test_redo_skip_and_quit(tmp_path):
    path, _ = padded_clip(tmp_path, before_s=0.2, after_s=2.0)
    out = io.StringIO()
    library = TakeLibrary("t", tmp_path / "voices")
    recorder = PromptRecorder(lambda: WavFileSource(path), max_seconds=30,
                              lines=ScriptedLines(["r", "s", "q"]), out=out)  # type: ignore[arg-type]
    script = Script("s", "S", steps=(Say("one", "One."), Say("two", "Two."),
                                      Say("three", "Three."), End("grounding_end")))
    summary = recorder.record_script(script, library)
    assert out.getvalue().count("Recording:") == 3  # one, one again, two; quit at two
    assert "Skipped." in out.getvalue()
    assert library.index() == {}
    assert "Kept 0 takes, skipped 1" in summary


def test_silence_only_is_not_kept(tmp_path):
    path = tmp_path / "silence.wav"
    write_wav(path, np.zeros(RATE * 2, np.int16), RATE)
    out = io.StringIO()
    library = TakeLibrary("t", tmp_path / "voices")
    recorder = PromptRecorder(lambda: WavFileSource(path), max_seconds=5,
                              lines=ScriptedLines(["k", "q"]), out=out)  # type: ignore[arg-type]
    assert recorder.record_one("one", "One.", library) is None
    assert "Heard nothing" in out.getvalue() and library.index() == {}


class Output:
    """Everything a subprocess prints, gathered on a thread (prompts end without newlines)."""

    def __init__(self, stream) -> None:
        self.text = ""
        self._stream = stream
        self._thread = threading.Thread(target=self._read, daemon=True)
        self._thread.start()

    def _read(self) -> None:
        for chunk in iter(lambda: os.read(self._stream.fileno(), 4096), b""):
            self.text += chunk.decode("utf-8", "replace")

    def wait_for(self, marker: str, count: int = 1, timeout: float = 30.0) -> None:
        deadline = time.monotonic() + timeout
        while self.text.count(marker) < count:
            assert time.monotonic() < deadline, f"no {marker!r} within {timeout} s:\n{self.text}"
            time.sleep(0.02)

    def join(self) -> None:
        self._thread.join(timeout=5)


@pytest.mark.audio
def test_clip_played_into_the_microphone_lands_as_a_trimmed_take(pulse, tmp_path):
    script = tmp_path / "two.toml"
    script.write_text('name = "two"\ntitle = "Two"\n'
                      '[[step]]\nid = "first"\nkind = "say"\ntext = "Take a slow breath."\n'
                      '[[step]]\nid = "grounding_second"\nkind = "say"\n'
                      'text = "Feel your feet on the floor."\n'
                      '[[step]]\nid = "end"\nkind = "end"\n', encoding="utf-8")
    voices = tmp_path / "voices"
    env = {**os.environ, "PYTHONPATH": str(ROOT), "PYTHONUNBUFFERED": "1",
           "VOICE_IMRS_CONFIG_DIR": str(tmp_path / "config"),
           "VOICE_IMRS_DATA_DIR": str(tmp_path / "data")}
    process = subprocess.Popen(
        [sys.executable, "-m", "voice_imrs", "record-prompts", str(script), "--voice-name",
         "therapist", "--voices-dir", str(voices), "--device", "default", "--max-seconds", "15"],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, env=env)
    output = Output(process.stdout)
    assert process.stdin is not None
    try:
        output.wait_for("Recording:")
        time.sleep(0.5)  # a moment of room tone before the therapist speaks
        subprocess.run(["paplay", "--device=mic_feed", str(CLIP)], check=True, timeout=30,
                       env=os.environ)
        output.wait_for("keep, r redo")  # stopped by the pause after speech
        process.stdin.write(b"k\n")
        process.stdin.flush()
        output.wait_for("Recording:", count=2)
        time.sleep(0.3)
        process.stdin.write(b"\n")  # Enter with nothing said
        process.stdin.flush()
        output.wait_for("Heard nothing")
        process.stdin.write(b"s\n")
        process.stdin.close()
        assert process.wait(timeout=30) == 0, output.text
    finally:
        if process.poll() is None:
            process.kill()
            process.wait(timeout=10)
        output.join()
    assert "Kept 1 takes, skipped 1" in output.text
    take = TakeLibrary("therapist", voices).take_for("first", "Take a slow breath.")
    assert take is not None
    clip = read_wav_at(CLIP, RATE)
    raw = float(output.text.split("trimmed from ")[1].split(" s")[0])
    seconds = len(take) / RATE
    # Trimmed: the 0.5 s before and the pause after are gone, the speech is all there.
    assert raw - seconds > 1.0
    assert speech_span(clip, RATE) - 0.1 <= seconds <= speech_span(clip, RATE) + 0.6
    # It is the clip: its loudness envelope follows the clip's, aligned at the best lag.
    mine, theirs = block_levels(take, RATE), block_levels(clip, RATE)
    assert envelope_match(mine, theirs) > 0.9
    assert read_wav(voices / "therapist" / TakeLibrary("therapist", voices).index()[
        "first"].file)[1] == RATE


@pytest.mark.audio
def test_record_message_keeps_the_clients_own_message(pulse, tmp_path, monkeypatch):
    from voice_imrs.render.takes import load_client_message

    env = {**os.environ, "PYTHONPATH": str(ROOT), "PYTHONUNBUFFERED": "1",
           "VOICE_IMRS_CONFIG_DIR": str(tmp_path / "config"),
           "VOICE_IMRS_DATA_DIR": str(tmp_path / "data")}
    process = subprocess.Popen(
        [sys.executable, "-m", "voice_imrs", "record-message", "--max-seconds", "10"],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, env=env)
    output = Output(process.stdout)
    assert process.stdin is not None
    try:
        output.wait_for("Recording:")
        assert "I deserved care" in output.text  # the profile's anchor phrase, as a hint
        clip = SPEECH / "dev" / "arctic_aew_a0002.wav"
        subprocess.run(["paplay", "--device=mic_feed", str(clip)], check=True, timeout=30,
                       env=os.environ)
        output.wait_for("keep, r redo")
        process.stdin.write(b"k\n")
        process.stdin.close()
        assert process.wait(timeout=30) == 0, output.text
    finally:
        if process.poll() is None:
            process.kill()
            process.wait(timeout=10)
        output.join()
    assert "Saved your message" in output.text
    monkeypatch.setenv("VOICE_IMRS_DATA_DIR", str(tmp_path / "data"))
    message = load_client_message(RATE)
    assert message is not None and 1.0 < len(message) / RATE < 6.0
