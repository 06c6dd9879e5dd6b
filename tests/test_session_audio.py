"""The sound of a session: recorded takes, the client's own message, the background bed.

Sessions run through ``simulate`` with the real synthesizer and recognizer; the session's
output WAV is then checked where each step spoke.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from test_render import match_scores

from voice_imrs.audio.wav import read_wav, read_wav_at
from voice_imrs.core.profile import Profile
from voice_imrs.core.script import AskYesNo, End, Say, Script
from voice_imrs.session.simulate import simulate
from voice_imrs.session.simulated_client import BargeIn, Reply, Scenario

ROOT = Path(__file__).resolve().parent.parent
DEV = ROOT / "tests/data/speech/dev"
SENTENCE = DEV / "arctic_aew_a0001.wav"
STOP = DEV / "sc2_stop_0fa1e7a9_2.wav"
CLOSING = (Say("grounding_end", "Feel your feet on the floor."), End("end"))


@pytest.fixture
def folders(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("VOICE_IMRS_VOICES_DIR", str(tmp_path / "voices"))
    monkeypatch.setenv("VOICE_IMRS_DATA_DIR", str(tmp_path / "data"))
    return tmp_path


def _spoken(result, out: Path) -> tuple[np.ndarray, int, dict[str, tuple[float, float]]]:
    """The session's audio, its rate, and (start, end) seconds of each step's prompt."""
    audio, rate = read_wav(out)
    spans: dict[str, tuple[float, float]] = {}
    for event in result.events:
        if event.event == "say_start" and event.step not in spans:
            spans[str(event.step)] = (event.t, event.t)
        elif event.event == "say_end" and event.step in spans:
            spans[str(event.step)] = (spans[str(event.step)][0], event.t)
    return audio.astype(np.float32), rate, spans


def _best_match(audio: np.ndarray, clip: np.ndarray) -> float:
    """The highest normalized correlation of ``clip`` anywhere in ``audio`` (1: identical)."""
    return float(np.max(match_scores(audio, clip))) if len(audio) >= len(clip) else 0.0


def test_a_recorded_take_replaces_the_voice_and_an_edited_prompt_falls_back(
        folders: Path, tmp_path: Path) -> None:
    from voice_imrs.render.takes import TakeLibrary

    hello, edited = "Welcome. Settle into your seat.", "Notice your breath now."
    take = read_wav_at(SENTENCE, 16000)
    library = TakeLibrary("dr_lee")
    library.store("hello", hello, take, 16000)
    library.store("breath", "Notice your breath.", take, 16000)  # recorded for older text
    script = Script("takes", "Takes", (Say("hello", hello), Say("breath", edited), *CLOSING))
    out = tmp_path / "session.wav"
    result = simulate(script, Scenario(), Profile(), out_wav=out, recorded_voice="dr_lee")
    audio, rate, spans = _spoken(result, out)
    expected = read_wav_at(SENTENCE, rate)

    start, end = spans["hello"]
    assert end - start == pytest.approx(len(expected) / rate, abs=0.05)
    at_hello = audio[int(start * rate):int(end * rate) + rate // 10]
    assert _best_match(at_hello, expected) > 0.99  # the therapist's take, not a synthesis

    start, end = spans["breath"]
    at_breath = audio[int(start * rate):int(end * rate)]
    assert np.abs(at_breath).max() > 1000  # spoken ...
    assert _best_match(at_breath, expected[: len(at_breath)]) < 0.5  # ... by the synthesizer


def test_an_unknown_recorded_voice_is_one_clear_line(folders: Path, tmp_path: Path) -> None:
    scenario = tmp_path / "client.toml"
    scenario.write_text("", encoding="utf-8")
    env = {"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin",
           "VOICE_IMRS_VOICES_DIR": str(tmp_path / "voices"),
           "VOICE_IMRS_DATA_DIR": str(tmp_path / "data"),
           "VOICE_IMRS_CONFIG_DIR": str(tmp_path / "config")}
    done = subprocess.run([sys.executable, "-m", "voice_imrs", "simulate", "micro_imagery",
                           "--client", str(scenario), "--recorded-voice", "nobody"],
                          capture_output=True, text=True, env=env, timeout=120)
    assert done.returncode == 4, done.stderr
    assert "no recorded voice named 'nobody'" in done.stderr
    assert "Traceback" not in done.stderr and done.stderr.count("\n") <= 2


def test_the_clients_own_message_plays_in_micro_imagery(folders: Path, tmp_path: Path) -> None:
    from voice_imrs.render.takes import MESSAGE_STEP, MESSAGE_TEXT, client_message_library

    message = read_wav_at(SENTENCE, 16000)
    client_message_library().store(MESSAGE_STEP, MESSAGE_TEXT, message, 16000)
    out = tmp_path / "micro.wav"
    result = simulate(_builtin("micro_imagery"), Scenario(), Profile(), out_wav=out)
    audio, rate, spans = _spoken(result, out)
    start, end = spans["own_message"]
    at_message = audio[int(start * rate):int(end * rate) + rate // 10]
    assert _best_match(at_message, read_wav_at(SENTENCE, rate)) > 0.99
    others = audio[: int(start * rate)]
    assert _best_match(others, read_wav_at(SENTENCE, rate)) < 0.5  # only there


def _builtin(name: str) -> Script:
    from voice_imrs.script_files import builtin_scripts

    return builtin_scripts()[name]


def _floor(audio: np.ndarray, rate: int, start: float, end: float) -> float:
    """The quietest 50 ms of a stretch (RMS): the bed alone, between words."""
    piece = audio[int(start * rate):int(end * rate)]
    size = rate // 20
    windows = piece[: len(piece) // size * size].reshape(-1, size)
    return float(np.sqrt((windows * windows).mean(axis=1)).min())


def test_the_background_bed_plays_under_the_voice_turns_softer_and_stops(
        folders: Path, tmp_path: Path) -> None:
    long_text = "Imagine a calm place, and notice the light and the sounds around you. " * 4
    script = Script("bed", "Bed", (
        Say("one", "Let us begin.", pause_after_s=3.0),
        AskYesNo("ready", "Are you ready to go on?"),
        Say("two", "Good.", pause_after_s=3.0),
        Say("long", long_text),
        *CLOSING))
    stop = BargeIn("long", 2.0, read_wav_at(STOP, 16000), "stop")
    out = tmp_path / "bed.wav"
    result = simulate(script, Scenario(replies=[Reply(text="softer"), Reply(text="yes")],
                                       barge_ins=[stop]),
                      Profile(), out_wav=out, background="rain")
    audio, rate, spans = _spoken(result, out)
    assert any(e.event == "interrupted" for e in result.events)

    before = _floor(audio, rate, spans["one"][1] + 0.3, spans["ready"][0])
    after_softer = _floor(audio, rate, spans["two"][1] + 0.3, spans["long"][0])
    assert before > 100  # the bed is heard in the pause
    assert after_softer == pytest.approx(before / 2, rel=0.25)  # "softer": 6 dB down
    stopped_at = next(e.t for e in result.events if e.event == "interrupted")
    assert _floor(audio, rate, stopped_at + 0.3, len(audio) / rate) < 5  # silent after stop


def test_an_unknown_background_is_a_clear_error(folders: Path) -> None:
    from voice_imrs.errors import VoiceImrsError

    script = Script("bed", "Bed", (Say("one", "Hello."), *CLOSING))
    with pytest.raises(VoiceImrsError, match="rain"):
        simulate(script, Scenario(), Profile(), background="waves")
