"""A therapist's recorded takes: keyed by step and text, stale when the text changes."""

from __future__ import annotations

import json

import numpy as np
import pytest
from conftest import SPEECH

from voice_imrs.audio.wav import read_wav
from voice_imrs.core.script import AskYesNo, End, Say, Script, Timed
from voice_imrs.errors import VoiceImrsError
from voice_imrs.render.takes import (
    TakeLibrary,
    client_message_library,
    has_placeholders,
    list_recorded,
    load_client_message,
    recordable,
    recorded_voices,
    text_hash,
)

SCRIPT = Script("practice", "Practice", steps=(
    Say("hello", "Hello. Let's begin."),
    Say("place", "Picture {safe_place}."),
    Say("view", "[first: Look around you. | third: Watch from a distance.]"),
    Timed("breath", "breathing", 10),
    AskYesNo("ready", "Are you ready?"),
    End("grounding_end", "Well done."),
))


@pytest.fixture()
def clip():
    samples, rate = read_wav(SPEECH / "dev" / "arctic_aew_a0002.wav")
    return samples, rate


def test_store_and_take_for_round_trip_with_resampling(tmp_path, clip):
    samples, rate = clip
    library = TakeLibrary("dr_lee", tmp_path)
    path = library.store("hello", "Hello. Let's begin.", samples, rate)
    assert path.parent == tmp_path / "dr_lee" and path.suffix == ".wav"
    back = library.take_for("hello", "Hello. Let's begin.")
    assert back is not None and len(back) == len(samples)
    assert np.max(np.abs(back.astype(np.int32) - samples)) <= 1  # 16-bit WAV, round trip
    # Spacing is not a change of text.
    assert library.take_for("hello", "Hello.   Let's\nbegin.") is not None
    at22 = library.take_for("hello", "Hello. Let's begin.", rate=22050)
    assert at22 is not None and abs(len(at22) / 22050 - len(samples) / rate) < 0.01
    index = json.loads((tmp_path / "dr_lee" / "index.json").read_text())
    entry = index["takes"]["hello"]
    assert entry["hash"] == text_hash("Hello. Let's begin.") and entry["rate"] == rate
    assert entry["seconds"] == pytest.approx(len(samples) / rate, abs=0.001)
    assert recorded_voices(tmp_path) == ["dr_lee"]


def test_edited_text_makes_the_take_stale_and_a_new_take_replaces_the_file(tmp_path, clip):
    samples, rate = clip
    library = TakeLibrary("dr_lee", tmp_path)
    first = library.store("hello", "Hello.", samples, rate)
    assert library.take_for("hello", "Hello there.") is None
    edited = Script("p", "P", steps=(Say("hello", "Hello there."), End("grounding_e")))
    assert library.missing(edited) == ["hello"] and library.stale(edited) == ["hello"]
    second = library.store("hello", "Hello there.", samples[: rate], rate)
    assert not first.exists() and second.exists()
    assert library.missing(edited) == [] and library.stale(edited) == []
    assert len(library.take_for("hello", "Hello there.")) == rate


def test_placeholders_and_alternatives_always_use_the_synthetic_voice(tmp_path, clip):
    samples, rate = clip
    assert has_placeholders("Picture {safe_place}.")
    assert has_placeholders("[first: Look around. | third: Watch.]")
    assert not has_placeholders("Hello [sic]. Let's begin.")
    library = TakeLibrary("dr_lee", tmp_path)
    library.store("place", "Picture {safe_place}.", samples, rate)
    assert library.take_for("place", "Picture {safe_place}.") is None
    assert [step for step, _ in recordable(SCRIPT)] == ["hello", "ready", "grounding_end"]
    assert library.missing(SCRIPT) == ["hello", "ready", "grounding_end"]
    library.store("ready", "Are you ready?", samples, rate)
    assert library.missing(SCRIPT) == ["hello", "grounding_end"]


def test_a_deleted_take_file_counts_as_missing(tmp_path, clip):
    samples, rate = clip
    library = TakeLibrary("dr_lee", tmp_path)
    library.store("hello", "Hello. Let's begin.", samples, rate).unlink()
    assert library.take_for("hello", "Hello. Let's begin.") is None
    assert "hello" in library.missing(SCRIPT)


def test_bad_names_and_a_damaged_index_are_clear(tmp_path):
    with pytest.raises(VoiceImrsError) as caught:
        TakeLibrary("../elsewhere", tmp_path)
    assert "folder name" in str(caught.value)
    library = TakeLibrary("dr_lee", tmp_path)
    library.folder.mkdir(parents=True)
    (library.folder / "index.json").write_text("{not json")
    with pytest.raises(VoiceImrsError) as caught:
        library.index()
    assert "index.json" in str(caught.value) and "record" in str(caught.value)


def test_list_recorded_without_a_script(tmp_path, clip):
    samples, rate = clip
    assert "No takes recorded" in list_recorded("dr_lee", None, tmp_path)
    TakeLibrary("dr_lee", tmp_path).store("hello", "Hello. Let's begin.", samples, rate)
    listing = list_recorded("dr_lee", None, tmp_path)
    assert "1 takes recorded" in listing and "hello:" in listing


def test_list_recorded_for_a_builtin_script_names_what_is_missing(tmp_path, clip):
    from voice_imrs.script_files import find_script

    samples, rate = clip
    script = find_script("safe_place")
    first_id, first_text = recordable(script)[0]
    TakeLibrary("dr_lee", tmp_path).store(first_id, first_text, samples, rate)
    listing = list_recorded("dr_lee", "safe_place", tmp_path)
    assert f"1 of {len(recordable(script))} prompts recorded" in listing
    assert first_id + ":" not in listing.split("Missing")[1]
    assert "record-prompts safe_place --voice-name dr_lee" in listing
    assert "placeholders" in listing  # "welcome" uses {stop_word}


def test_client_message_lives_in_the_data_folder(tmp_path, monkeypatch, clip):
    monkeypatch.setenv("VOICE_IMRS_DATA_DIR", str(tmp_path / "data"))
    assert load_client_message(22050) is None
    samples, rate = clip
    library = client_message_library()
    assert library.folder == tmp_path / "data" / "voices" / "own"
    library.store("message", "the client's own affirming message", samples, rate)
    message = load_client_message(16000)
    assert message is not None and len(message) == len(samples)
