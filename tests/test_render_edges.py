"""Rendered tracks for the ear: -16 LUFS, soft edges, every chapter, and `list` lengths.

Loudness is measured with pyloudnorm, the reference BS.1770 meter, not with the
project's own meter; the project's meter is checked against it as well.
"""

from __future__ import annotations

import json
import re
import subprocess

import numpy as np
import pyloudnorm
import pytest

from voice_imrs.audio.wav import read_wav
from voice_imrs.cli.main import main
from voice_imrs.core.profile import Profile
from voice_imrs.render import track as track_module
from voice_imrs.render.export import CHAPTER_TITLE_CHARS, chapter_title
from voice_imrs.render.loudness import TARGET_LUFS, integrated_loudness
from voice_imrs.render.track import calm_path, render_track
from voice_imrs.script_files import builtin_scripts
from voice_imrs.session.parts import variables_for, voice_for
from voice_imrs.tts.registry import make_synthesizer


@pytest.fixture()
def folders(tmp_path, monkeypatch):
    """A profile and data folder of the test's own (the default profile)."""
    monkeypatch.setenv("VOICE_IMRS_CONFIG_DIR", str(tmp_path / "config"))
    monkeypatch.setenv("VOICE_IMRS_DATA_DIR", str(tmp_path / "data"))
    return tmp_path


def _lufs(audio: np.ndarray, rate: int) -> float:
    return float(pyloudnorm.Meter(rate).integrated_loudness(audio.astype(np.float64) / 32768))


def _rms_db(audio: np.ndarray) -> float:
    return float(20 * np.log10(np.sqrt(np.mean((audio.astype(np.float64) / 32768) ** 2))
                               + 1e-12))


def test_the_meter_agrees_with_pyloudnorm() -> None:
    rng = np.random.default_rng(7)
    for rate in (16000, 22050, 48000):
        noise = rng.normal(0, 0.1, rate * 6) * np.sin(np.linspace(0, 20, rate * 6)) ** 2
        noise[rate:2 * rate] = 0.0  # a pause, for the gates
        ours = integrated_loudness(noise.astype(np.float32), rate)
        reference = pyloudnorm.Meter(rate).integrated_loudness(noise)
        assert ours == pytest.approx(reference, abs=0.05), rate


def test_a_rendered_track_is_at_minus_16_lufs_with_soft_edges(folders) -> None:
    out = folders / "safe_place.wav"
    assert main(["render", "safe_place", "--out", str(out), "--background", "rain"]) == 0
    audio, rate = read_wav(out)
    sheet = json.loads(out.with_suffix(".cues.json").read_text())

    assert _lufs(audio, rate) == pytest.approx(TARGET_LUFS, abs=0.5)
    peak_db = 20 * np.log10(np.abs(audio.astype(np.float64)).max() / 32768)
    assert peak_db < -0.5  # headroom: nothing at full scale, even after encoding

    # Fades: the first and last 50 ms are near silence, though the rain runs throughout.
    edge = int(0.05 * rate)
    steady = _rms_db(audio[int(1.5 * rate):int(2.5 * rate)])  # rain and the opening bell
    assert _rms_db(audio[:edge]) < steady - 25
    assert _rms_db(audio[-edge:]) < steady - 25
    # The soft bells: one before the first word, one after the last, both in the sheet.
    bells = sheet["bells"]
    first_word = sheet["steps"][0]["start_s"]
    last_step = sheet["steps"][-1]["start_s"]
    assert bells[0]["name"] == track_module.EDGE_BELL and bells[0]["time_s"] < first_word
    assert bells[-1]["name"] == track_module.EDGE_BELL and bells[-1]["time_s"] > last_step
    assert sheet["duration_s"] - bells[-1]["time_s"] > 2.0  # it rings out before the end


def test_every_chapter_of_a_built_in_script_reaches_the_mp3(folders) -> None:
    out = folders / "grounding.mp3"
    assert main(["render", "grounding_54321", "--out", str(out)]) == 0
    sheet = json.loads(out.with_suffix(".cues.json").read_text())
    probe = subprocess.run(["ffprobe", "-v", "error", "-show_chapters", "-of", "json",
                            str(out)], capture_output=True, text=True, timeout=60, check=True)
    chapters = json.loads(probe.stdout)["chapters"]
    assert len(chapters) == len(sheet["steps"]) >= 8
    assert [c["tags"]["title"].split(":")[0] for c in chapters] == [
        s["id"] for s in sheet["steps"]]
    assert all(len(c["tags"]["title"]) <= CHAPTER_TITLE_CHARS for c in chapters)


def test_chapter_titles_are_cut_at_a_word() -> None:
    long = "Let your eyes move slowly around the room. Name five things you can see."
    title = chapter_title("grounding_see", long)
    assert title.startswith("grounding_see: Let your eyes") and title.endswith("...")
    assert len(title) <= CHAPTER_TITLE_CHARS and " roo..." not in title
    assert chapter_title("end", "Well done.") == "end: Well done."
    assert chapter_title("quiet", "") == "quiet"


def _said_seconds(length: str) -> float:
    """"about 2 minutes 40 seconds" / "about 3 and a half minutes" -> seconds."""
    minutes = re.search(r"(\d+)( and a half)? minute", length)
    seconds = re.search(r"(\d+) seconds", length)
    total = 0.0
    if minutes:
        total += 60 * int(minutes.group(1)) + (30 if minutes.group(2) else 0)
    if seconds:
        total += int(seconds.group(1))
    return total


@pytest.mark.slow
def test_the_length_list_says_is_the_rendered_length_within_10_percent(folders, capsys
                                                                       ) -> None:
    assert main(["list"]) == 0
    said = {}
    for line in capsys.readouterr().out.splitlines():
        name, rest = line.split(": ", 1)
        said[name] = _said_seconds(rest.split(", ")[1])
    profile = Profile()
    synth = make_synthesizer("auto")  # the voice a track is rendered with
    settings = voice_for(profile)
    library = builtin_scripts()
    assert set(said) == set(library)
    for name, script in library.items():
        items = calm_path(script, {**variables_for(profile), "delivery": "track"})
        rendered = render_track(items, synth, settings)
        assert said[name] == pytest.approx(rendered.duration_s, rel=0.10), (
            name, said[name], rendered.duration_s)
