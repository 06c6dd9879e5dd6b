"""The real ``voice-imrs run`` process on the virtual sound device.

Keys arrive as lines through a pipe on standard input, captions come on standard output,
records go to a temporary data folder. Covered: captions and the spoken summary at the
end; a typed stop; Ctrl-C (a short grounding, exit 130) and a second Ctrl-C; a spoken
stop played into the microphone; and a session killed with SIGKILL mid-speech, whose
record survives and whose next start offers grounding first.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from live_cli import LiveCli, answer_aloud, play_into_microphone

ROOT = Path(__file__).resolve().parent.parent
STOP_CLIP = ROOT / "tests/data/speech/dev/sc2_stop_0fa1e7a9_2.wav"
SEVEN_CLIP = ROOT / "tests/data/speech/dev/sc1_seven_93ec8b84_0.wav"
#: Every test script ends the same grounded way.
CLOSING = """
[[step]]
id = "grounding_return"
kind = "say"
text = "Feel your feet on the floor."

[[step]]
id = "finish"
kind = "end"
text = "Goodbye."
"""
TINY = """
name = "tiny"
title = "Tiny"
mode = "homework"

[[step]]
id = "hello"
kind = "say"
text = "Hello. Notice your breath for a moment."

[[step]]
id = "rate"
kind = "rating"
text = "From zero to ten, how strong is the feeling now?"
branches = [{ low = 8, high = 10, goto = "grounding_return" }]
""" + CLOSING
LONG = f"""
name = "long"
title = "Long"
mode = "homework"

[[step]]
id = "long"
kind = "say"
text = "{"Imagine a calm place and notice the light and the sounds around you. " * 12}"
""" + CLOSING


class Run(LiveCli):
    """``voice-imrs run ARGS`` with its event log and the test's profile."""

    def __init__(self, folder: Path, *args: str) -> None:
        self.log = folder / f"events-{time.monotonic_ns()}.jsonl"
        super().__init__(folder, "run", *args, "--log", str(self.log),
                         "--profile", str(folder / "profile.toml"))

    def events(self) -> list[dict[str, object]]:
        if not self.log.exists():
            return []
        return [json.loads(line) for line in self.log.read_text().splitlines() if line]


@pytest.fixture
def folder(tmp_path: Path, pulse: str) -> Iterator[Path]:
    (tmp_path / "profile.toml").write_text("screen_done = true\n", encoding="utf-8")
    (tmp_path / "tiny.toml").write_text(TINY, encoding="utf-8")
    (tmp_path / "long.toml").write_text(LONG, encoding="utf-8")
    yield tmp_path


def test_captions_typed_answer_and_the_spoken_summary(folder: Path) -> None:
    run = Run(folder, str(folder / "tiny.toml"))
    try:
        run.wait_for("Notice your breath")
        run.wait_for("how strong is the feeling")
        run.type("3")
        run.wait_for("feet on the floor")
        summary = run.wait_for("practice this week")
        assert run.finish() == 0
    finally:
        run.kill()
    assert "first practice this week" in summary
    assert any("three" in line for line in run.captions), run.captions
    assert [e["value"] for e in run.events() if e["event"] == "rating"] == [3]
    assert not (folder / "data" / "audio").exists()  # no audio unless turned on


def test_audio_is_kept_only_when_turned_on_and_forget_deletes_it(folder: Path) -> None:
    import stat

    import numpy as np

    from voice_imrs.audio.wav import read_wav, read_wav_at

    (folder / "profile.toml").write_text(
        # medium = 8: a seven is then below the 5-7 band's offer, which nobody answers here.
        "screen_done = true\nstore_audio = true\nsilence_s = 2.0\nspoken_summary = false\n"
        "medium = 8\n",
        encoding="utf-8")
    run = Run(folder, str(folder / "tiny.toml"), "--no-keyboard")
    try:
        run.wait_for("how strong is the feeling")
        answer_aloud(run, SEVEN_CLIP, run.log)  # a spoken rating, heard and kept
        run.wait_for("feet on the floor")
        assert run.finish() == 0
    finally:
        run.kill()
    assert [e["value"] for e in run.events() if e["event"] == "rating"] == [7]
    kept = folder / "data" / "audio" / "session-1.wav"
    assert stat.S_IMODE(kept.stat().st_mode) == 0o600
    audio, rate = read_wav(kept)
    clip = read_wav_at(SEVEN_CLIP, rate).astype(np.float32)
    heard = audio.astype(np.float32)
    match = np.correlate(heard, clip, "valid").max() / (np.linalg.norm(clip) ** 2)
    assert match > 0.9, match  # the microphone's audio, as it was heard

    forget = subprocess.run([sys.executable, "-m", "voice_imrs", "forget", "--session", "1",
                             "--yes"], env={**os.environ, "PYTHONPATH": str(ROOT),
                                            "VOICE_IMRS_DATA_DIR": str(folder / "data"),
                                            "VOICE_IMRS_CONFIG_DIR": str(folder)},
                            capture_output=True, text=True, timeout=60)
    assert forget.returncode == 0, forget.stderr
    assert not kept.exists()


def test_a_typed_stop_grounds_and_ctrl_c_twice_ends_at_once(folder: Path) -> None:
    run = Run(folder, str(folder / "long.toml"))
    try:
        run.wait_for("Imagine a calm place")
        time.sleep(1.0)
        run.type("s")
        run.wait_for("here with you")
        events = run.events()
        assert any(e["event"] == "interrupted" for e in events), events
        run.child.send_signal(signal.SIGINT)  # a short grounding, then the end
        time.sleep(0.3)
        run.child.send_signal(signal.SIGINT)  # a second one ends at once
        started = time.monotonic()
        code = run.finish(timeout=20)
        assert time.monotonic() - started < 5.0
    finally:
        run.kill()
    assert code != 0
    assert "Traceback" not in (run.child.stderr.read() if run.child.stderr else "")


def test_ctrl_c_gives_a_short_grounding_and_exit_130(folder: Path) -> None:
    run = Run(folder, str(folder / "long.toml"))
    try:
        run.wait_for("Imagine a calm place")
        time.sleep(1.0)
        run.child.send_signal(signal.SIGINT)
        code = run.finish(timeout=60)
    finally:
        run.kill()
    assert code == 130
    events = run.events()
    ends = [e for e in events if e["event"] == "session_end"]
    assert ends and ends[-1]["reason"] == "signal", ends
    steps = [e.get("step") for e in events if e["event"] == "say_start"]
    assert any(str(s).startswith("grounding") for s in steps), steps


def test_sigterm_is_like_ctrl_c(folder: Path) -> None:
    run = Run(folder, str(folder / "long.toml"))
    try:
        run.wait_for("Imagine a calm place")
        run.child.send_signal(signal.SIGTERM)
        code = run.finish(timeout=60)
    finally:
        run.kill()
    assert code == 130
    assert [e["reason"] for e in run.events() if e["event"] == "session_end"] == ["signal"]


def test_a_spoken_stop_into_the_microphone_interrupts(folder: Path) -> None:
    run = Run(folder, str(folder / "long.toml"), "--no-keyboard")
    try:
        run.wait_for("Imagine a calm place")
        time.sleep(1.5)
        play_into_microphone(STOP_CLIP)
        run.wait_for("here with you", timeout=10)
    finally:
        run.child.send_signal(signal.SIGINT)
        time.sleep(0.3)
        run.kill()
    stops = [e for e in run.events() if e["event"] == "intent" and e.get("intent") == "stop"]
    assert stops, run.events()


def test_a_killed_session_is_kept_and_the_next_start_offers_grounding(folder: Path) -> None:
    from voice_imrs.records.store import RecordStore

    first = Run(folder, str(folder / "long.toml"))
    try:
        first.wait_for("Imagine a calm place")
        time.sleep(0.5)
        first.child.send_signal(signal.SIGKILL)
        first.finish(timeout=10)
    finally:
        first.kill()
    logged = [e["event"] for e in first.events()]
    with RecordStore.open(folder / "data") as store:
        killed = store.last_session()
        kept = [e.event for e in store.events(killed.id)]
    assert killed.end_reason is None  # nobody could mark it
    assert "say_start" in kept and kept == logged[:len(kept)]

    second = Run(folder, str(folder / "tiny.toml"))
    try:
        second.wait_for("ended suddenly")
        second.type("y")
        second.wait_for("This is a grounding exercise")
        second.child.send_signal(signal.SIGINT)
        time.sleep(0.3)
        second.child.send_signal(signal.SIGINT)
        second.finish(timeout=20)
    finally:
        second.kill()
    with RecordStore.open(folder / "data") as store:
        assert store.session(killed.id).end_reason == "killed"
    first_steps = [e.get("step") for e in second.events() if e["event"] == "step"]
    assert first_steps and str(first_steps[0]) == "ask", first_steps
