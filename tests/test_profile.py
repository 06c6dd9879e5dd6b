"""The profile: defaults, round trip through TOML, permissions, bad values, env override."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from dataclasses import replace
from io import StringIO
from pathlib import Path

import pytest

from voice_imrs.cli.profile import SETUP_QUESTIONS, setup_conversation
from voice_imrs.core.intents import DEFAULT_STOP_WORDS
from voice_imrs.core.profile import (
    DEFAULT_CRISIS_RESOURCES,
    PROFILE_VARIABLES,
    Profile,
    profile_from_mapping,
    spoken_helper,
    with_value,
)
from voice_imrs.errors import ProfileError
from voice_imrs.profile_store import CONFIG_ENV, config_dir, load_profile, save_profile

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    folder = tmp_path / "config"
    monkeypatch.setenv(CONFIG_ENV, str(folder))
    return folder


def test_defaults_follow_the_domain() -> None:
    profile = Profile()
    assert (profile.high, profile.medium, profile.resume_at, profile.rise) == (8, 5, 4, 3)
    assert profile.silence_s == 8 and profile.barge_in == "hotword"
    assert profile.stop_words == DEFAULT_STOP_WORDS
    assert profile.mode == "homework" and profile.perspective == "first"
    assert not (profile.store_audio or profile.store_transcripts or profile.screen_done)
    assert "emergency services" in DEFAULT_CRISIS_RESOURCES
    assert "therapist" in DEFAULT_CRISIS_RESOURCES
    assert not any(ch.isdigit() for ch in DEFAULT_CRISIS_RESOURCES)  # no invented numbers


def test_variables_speak_helpers_to_the_user() -> None:
    profile = Profile(helpers=("my adult self", "my grandmother"), cue_word="sea")
    variables = profile.variables()
    assert variables["helper"] == "your adult self"
    assert variables["helpers"] == "your adult self and your grandmother"
    assert variables["cue_word"] == "sea" and variables["stop_word"] == "stop"
    assert set(variables) == PROFILE_VARIABLES
    assert spoken_helper("a protector") == "a protector"


def test_missing_file_gives_defaults(config: Path) -> None:
    assert load_profile() == Profile()
    assert config_dir() == config


def test_round_trip_with_user_only_permissions(config: Path) -> None:
    profile = Profile(name="Sam", helpers=("my adult self", "a lion"), safe_place="a beach",
                      stop_words=("stop", "red light"), perspective="third", eyes="open",
                      high=9, medium=6, resume_at=3, silence_s=10.5, mode="therapist",
                      screen_done=True, volume=0.6)
    file = save_profile(profile)
    assert file == config / "profile.toml"
    assert stat.S_IMODE(file.stat().st_mode) == 0o600
    assert stat.S_IMODE(config.stat().st_mode) == 0o700
    assert load_profile() == profile
    # Saving again over an existing file keeps it private.
    os.chmod(file, 0o644)
    save_profile(replace(profile, name="Alex"))
    assert stat.S_IMODE(file.stat().st_mode) == 0o600
    assert load_profile().name == "Alex"


def test_explicit_path_overrides_env(config: Path, tmp_path: Path) -> None:
    other = tmp_path / "elsewhere" / "mine.toml"
    save_profile(Profile(cue_word="river"), other)
    assert load_profile(other).cue_word == "river"
    assert load_profile() == Profile()
    assert not (config / "profile.toml").exists()


@pytest.mark.parametrize(("content", "words"), [
    ('perspective = "sideways"\n', ["'perspective'", "first, third"]),
    ("high = 11\n", ["'high'", "from 1 to 10"]),
    ('high = "eight"\n', ["'high'", "whole number"]),
    ("volume = 2.0\n", ["'volume'", "0.1 to 1"]),
    ("stop_words = []\n", ["'stop_words'", "one or more phrases"]),
    ("store_audio = 1\n", ["'store_audio'", "true or false"]),
    ('mode = "clinic"\n', ["'mode'", "homework, therapist"]),
    ('colour = "blue"\n', ["unknown profile key 'colour'", "Valid keys"]),
    ("high = 5\nmedium = 6\n", ["out of order"]),
    ('name = "unclosed\n', ["line 1", "not valid TOML"]),
])
def test_bad_files_name_file_key_and_valid_values(config: Path, content: str,
                                                  words: list[str]) -> None:
    config.mkdir(parents=True)
    file = config / "profile.toml"
    file.write_text(content, encoding="utf-8")
    with pytest.raises(ProfileError) as caught:
        load_profile()
    message = str(caught.value)
    assert str(file) in message
    for word in words:
        assert word in message
    assert "\n" not in message


def test_with_value_parses_and_validates() -> None:
    profile = with_value(Profile(), "stop_words", "stop, red light")
    assert profile.stop_words == ("stop", "red light")
    assert with_value(profile, "store_transcripts", "yes").store_transcripts is True
    assert with_value(profile, "rate_wpm", "170").rate_wpm == 170
    assert with_value(profile, "silence_s", "12").silence_s == 12.0
    with pytest.raises(ProfileError, match="rate_wpm"):
        with_value(profile, "rate_wpm", "fast")
    with pytest.raises(ProfileError, match="Valid keys"):
        with_value(profile, "colour", "blue")
    with pytest.raises(ProfileError, match="non-empty text"):
        with_value(profile, "cue_word", "  ")


def test_from_mapping_keeps_defaults_for_missing_keys() -> None:
    assert profile_from_mapping({"cue_word": "sea"}) == Profile(cue_word="sea")


def test_setup_conversation_keeps_defaults_reasks_and_stops_at_eof() -> None:
    answers = "Sam\n\n\nmy adult self, my dog\n\nsideways\nthird\n"  # then end of input
    out = StringIO()
    profile = setup_conversation(Profile(), StringIO(answers), out)
    assert profile.name == "Sam" and profile.safe_place == Profile().safe_place
    assert profile.helpers == ("my adult self", "my dog")
    assert profile.perspective == "third" and profile.eyes == "closed"
    shown = out.getvalue()
    assert "[a place where you feel calm and safe]" in shown  # each question with its default
    assert "Use one of first, third." in shown
    # Every question up to the end of input was shown (one prompt mark each).
    assert shown.count("?") + shown.count(":") >= answers.count("\n")
    assert len(SETUP_QUESTIONS) > answers.count("\n")


def _cli(*args: str, env_dir: Path, stdin: str = "") -> subprocess.CompletedProcess[str]:
    env = {**os.environ, CONFIG_ENV: str(env_dir)}
    return subprocess.run([sys.executable, "-m", "voice_imrs", *args], cwd=ROOT, env=env,
                          input=stdin, capture_output=True, text=True, timeout=60)


def test_profile_commands(tmp_path: Path) -> None:
    folder = tmp_path / "cli"
    shown = _cli("profile", env_dir=folder)
    assert shown.returncode == 0 and "not written yet" in shown.stdout
    assert "high: 8" in shown.stdout and "stop_words: stop, i need to stop" in shown.stdout

    changed = _cli("profile", "set", "mode", "therapist", env_dir=folder)
    assert changed.returncode == 0 and changed.stdout.strip() == "mode: therapist"
    assert stat.S_IMODE((folder / "profile.toml").stat().st_mode) == 0o600

    bad = _cli("profile", "set", "eyes", "half", env_dir=folder)
    assert bad.returncode == 3 and "Traceback" not in bad.stderr
    assert "'eyes'" in bad.stderr and "closed, open" in bad.stderr

    as_json = _cli("profile", "--json", env_dir=folder)
    import json
    data = json.loads(as_json.stdout)
    assert data["profile"]["mode"] == "therapist" and data["exists"] is True

    other = tmp_path / "other.toml"
    _cli("profile", "set", "cue_word", "river", "--profile", str(other), env_dir=folder)
    assert load_profile(other).cue_word == "river"

    setup = _cli("setup", "--keyboard", env_dir=folder, stdin="Robin\n")
    assert setup.returncode == 0, setup.stderr
    profile = load_profile(folder / "profile.toml")
    assert profile.name == "Robin" and profile.mode == "therapist"
