"""``voice-imrs setup`` by voice: the spoken conversation fills the profile.

The conversation runs through the real engine in ``simulate`` (typed and recorded
answers through the real recognizer), and as a real ``voice-imrs setup`` process on the
virtual sound device with answers played into its microphone and typed beside it.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import tomllib
from live_cli import SPEECH, LiveCli, answer_aloud

from voice_imrs.audio.wav import read_wav_at
from voice_imrs.core.events import LogEvent
from voice_imrs.core.profile import Profile
from voice_imrs.ports import ASR_RATE
from voice_imrs.session.simulate import simulate
from voice_imrs.session.simulated_client import Reply, Scenario
from voice_imrs.session.voice_setup import SetupAnswers, profile_after_setup, setup_script

TWO_CLIP = SPEECH / "felix_two_05-08-23-04-59-800nes7p9__.wav"
YES_CLIP = SPEECH / "sc1_yes_51055bda_4.wav"


def _said(*events: tuple[str, str | None, dict[str, object]]) -> SetupAnswers:
    answers = SetupAnswers()
    for number, (event, step, fields) in enumerate(events):
        answers(LogEvent(float(number), event, step, fields))
    return answers


def test_answers_become_profile_values_and_unanswered_keys_stay() -> None:
    answers = _said(
        ("intent", "setup_pace", {"intent": "slower"}),
        ("setting", "setup_pace", {"name": "rate_wpm", "value": 130}),
        ("intent", "setup_pace", {"intent": "yes"}),
        ("intent", "setup_perspective", {"intent": "choice", "value": "third"}),
        ("intent", "setup_helper", {"intent": "choice", "value": "two_helpers"}),
        ("intent", "setup_transcripts", {"intent": "no"}),
    )
    before = Profile(eyes="open", spoken_summary=False, store_transcripts=True)
    after = profile_after_setup(before, answers)
    assert after.rate_wpm == 130 and after.volume == before.volume
    assert after.perspective == "third"
    assert after.helpers == ("my adult self", "a protector")
    assert after.store_transcripts is False
    assert after.eyes == "open" and after.spoken_summary is False  # not answered: kept


def test_a_volume_raised_by_safety_after_silence_is_not_a_choice() -> None:
    answers = _said(
        ("noinput", "setup_pace", {"count": 3}),
        ("setting", "setup_pace", {"name": "volume", "value": 1.0}),
        ("intent", "setup_pace", {"intent": "louder"}),
        ("setting", "setup_pace", {"name": "volume", "value": 0.95}),
    )
    assert profile_after_setup(Profile(), answers).volume == 0.95
    only_safety = _said(("setting", "setup_pace", {"name": "volume", "value": 1.0}))
    assert profile_after_setup(Profile(), only_safety).volume == Profile().volume


def test_the_whole_conversation_through_the_engine_and_recognizer() -> None:
    replies = [Reply(text="no"),  # the pace: not yet ...
               Reply(text="yes"),  # ... now it is
               Reply(audio=read_wav_at(TWO_CLIP, ASR_RATE), label="two"),  # distance
               Reply(text="one"),  # eyes closed
               Reply(text="three"),  # a protector
               Reply(text="no"),  # no spoken summary
               Reply(audio=read_wav_at(YES_CLIP, ASR_RATE), label="yes")]  # keep words
    answers = SetupAnswers()
    result = simulate(setup_script(), Scenario(replies=replies), Profile(eyes="open"),
                      observers=[answers])
    assert result.reason == "completed"
    steps = [e.step for e in result.events if e.event == "step"]
    assert steps.count("setup_pace") == 2 and "setup_pace_try" in steps
    assert steps[-2:] == ["grounding_setup_done", "setup_end"]
    after = profile_after_setup(Profile(eyes="open"), answers)
    assert (after.perspective, after.eyes, after.helpers) == ("third", "closed",
                                                              ("a protector",))
    assert after.spoken_summary is False and after.store_transcripts is True


def test_a_stop_part_way_keeps_earlier_answers_and_grounds() -> None:
    replies = [Reply(text="yes"), Reply(text="two"), Reply(text="stop")]
    answers = SetupAnswers()
    result = simulate(setup_script(), Scenario(replies=replies), Profile(),
                      observers=[answers])
    said = [e.step for e in result.events if e.event == "say_start"]
    assert any(str(step).startswith("grounding") for step in said)
    assert profile_after_setup(Profile(), answers).perspective == "third"
    assert profile_after_setup(Profile(), answers).eyes == Profile().eyes


@pytest.fixture
def folder(tmp_path: Path, pulse: str) -> Path:
    # A short silence before the reprompt that ``answer_aloud`` waits for.
    (tmp_path / "profile.toml").write_text('safe_place = "the lake"\nsilence_s = 2.0\n',
                                           encoding="utf-8")
    return tmp_path


def test_setup_by_voice_on_the_sound_devices(folder: Path) -> None:
    log = folder / "setup.jsonl"
    setup = LiveCli(folder, "setup", "--profile", str(folder / "profile.toml"), "--log", str(log))
    try:
        setup.wait_for("Is this pace and loudness comfortable")
        setup.type("slower")  # a line from a pipe is read as if spoken
        setup.type("y")
        setup.wait_for("through your own eyes")
        # Typed: a recorded "two" said once the voice is over was heard as "chew", "t" or
        # "ton" in 4 of 7 live runs here (recognition issue 12); the yes below is spoken.
        setup.type("2")
        setup.wait_for("close your eyes")
        setup.type("1")
        setup.wait_for("who would you like beside you")
        setup.type("4")
        setup.wait_for("how your ratings went")
        answer_aloud(setup, YES_CLIP, log)
        setup.wait_for("keep the words")
        setup.type("n")
        setup.wait_for("Saved your profile", timeout=60)
        code = setup.finish()
    finally:
        setup.kill()
    assert code == 0, setup.captions
    saved = tomllib.loads((folder / "profile.toml").read_text(encoding="utf-8"))
    assert saved["rate_wpm"] < Profile().rate_wpm
    assert saved["perspective"] == "third" and saved["eyes"] == "closed"
    assert saved["helpers"] == ["my adult self", "a protector"]
    assert saved["spoken_summary"] is True and saved["store_transcripts"] is False
    assert saved["safe_place"] == "the lake"  # the user's own words are kept
    assert "perspective: third" in setup.captions  # what changed is printed


def test_ctrl_c_leaves_setup_without_saving(folder: Path) -> None:
    import signal

    before = (folder / "profile.toml").read_bytes()
    setup = LiveCli(folder, "setup", "--profile", str(folder / "profile.toml"))
    try:
        setup.wait_for("Is this pace and loudness comfortable")
        setup.type("y")
        setup.wait_for("through your own eyes")
        setup.type("2")
        setup.wait_for("close your eyes")
        setup.child.send_signal(signal.SIGINT)
        code = setup.finish()
    finally:
        setup.kill()
    assert code == 130
    assert any("unchanged" in line for line in setup.captions), setup.captions
    assert (folder / "profile.toml").read_bytes() == before
