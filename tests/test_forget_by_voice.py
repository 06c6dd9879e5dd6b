"""``voice-imrs forget --all --by-voice``: the confirmation is asked aloud and answered aloud.

A real ``voice-imrs`` process on the virtual sound device asks; a recorded "yes" or "no"
is played into its microphone. Only a yes deletes, and the answer is spoken back.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from live_cli import SPEECH, LiveCli, answer_aloud, play_into_microphone
from test_records_store import record, session_events

YES_CLIP = SPEECH / "sc1_yes_51055bda_4.wav"
NO_CLIP = SPEECH / "sc1_no_6d818f6c_2.wav"


@pytest.fixture
def folder(tmp_path: Path, pulse: str) -> Iterator[Path]:
    """A user with a profile and one recorded session."""
    (tmp_path / "profile.toml").write_text('safe_place = "the lake"\nsilence_s = 2.0\n',
                                           encoding="utf-8")
    record(tmp_path / "data", session_events((6, 2)))
    yield tmp_path


def _forget_by_voice(folder: Path, answer: Path | None = None, typed: str = "",
                     over_the_question: bool = False) -> LiveCli:
    forget = LiveCli(folder, "forget", "--all", "--by-voice",
                     *(() if typed else ("--no-keyboard",)))
    try:
        forget.wait_for("Say yes or no")
        if answer is not None and over_the_question:
            time.sleep(1.5)  # the question has about 8 s still to go
            play_into_microphone(answer)
        elif answer is not None:
            answer_aloud(forget, answer)
        if typed:
            forget.type(typed)
        forget.finish(timeout=60)
    finally:
        forget.kill()
    return forget


def test_a_spoken_yes_deletes_everything_and_says_so(folder: Path) -> None:
    forget = _forget_by_voice(folder, YES_CLIP)
    assert forget.child.returncode == 0, forget.captions
    assert any("Everything recorded is gone" in line for line in forget.captions)
    assert not (folder / "data").exists()
    assert not (folder / "profile.toml").exists()


def test_a_yes_spoken_over_the_question_is_taken(folder: Path) -> None:
    # A user who knows the question answers before it ends (barge-in on answers).
    forget = _forget_by_voice(folder, YES_CLIP, over_the_question=True)
    assert forget.child.returncode == 0, forget.captions
    assert not any("Take your time" in line for line in forget.captions)
    assert not (folder / "data").exists()


def test_a_spoken_no_deletes_nothing(folder: Path) -> None:
    before = sorted((folder / "data").rglob("*"))
    forget = _forget_by_voice(folder, NO_CLIP)
    assert forget.child.returncode == 1, forget.captions
    assert any("Nothing was deleted" in line for line in forget.captions)
    # Every file is still there (the sound libraries may have begun a native.log beside them).
    assert set(before) <= set((folder / "data").rglob("*"))
    assert (folder / "profile.toml").exists()


def test_the_keyboard_answers_beside_the_voice(folder: Path) -> None:
    forget = _forget_by_voice(folder, typed="y")
    assert forget.child.returncode == 0, forget.captions
    assert not (folder / "data").exists()
