"""Teleprompter mode: the synthetic voice is silent, the console shows what to read."""

from __future__ import annotations

import io
import wave
from pathlib import Path

import numpy as np
from console_driver import DATA

from voice_imrs.console.session import ConsoleOptions, ConsoleSession
from voice_imrs.core.profile import Profile
from voice_imrs.script_files import load_script
from voice_imrs.session.simulate import simulate
from voice_imrs.session.simulated_client import load_scenario


def session_audio(tmp_path: Path, teleprompter: bool) -> tuple[np.ndarray, ConsoleSession, str]:
    out = tmp_path / f"session-{teleprompter}.wav"
    console = ConsoleSession(ConsoleOptions(open_browser=False, stream=io.StringIO(),
                                            teleprompter=teleprompter))
    result = simulate(load_script(DATA / "short_session.toml"),
                      load_scenario(DATA / "calm_client.toml"), Profile(), out_wav=out,
                      tts="espeak", console=console)
    with wave.open(str(out)) as wav:
        audio = np.frombuffer(wav.readframes(wav.getnframes()), np.int16)
    return audio, console, result.reason


def test_the_voice_is_muted_but_the_session_runs_and_the_prompts_show(tmp_path: Path) -> None:
    spoken, _, reason = session_audio(tmp_path, teleprompter=False)
    assert reason == "completed" and np.abs(spoken).max() > 1000
    muted, console, reason = session_audio(tmp_path, teleprompter=True)
    assert reason == "completed"
    assert np.abs(muted).max() == 0  # nothing synthetic went out
    assert abs(len(muted) - len(spoken)) < 0.05 * len(spoken)  # the same timing
    assert console.state.snapshot()["teleprompter"] is True  # the page says "Read aloud"
    events = console.state.events
    said = [e["text"] for e in events if e["event"] == "say_start"]
    assert "Notice your breath for a moment." in said
    assert [e["value"] for e in events if e["event"] == "rating"] == [3]
