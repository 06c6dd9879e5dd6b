"""Private by default: every file and folder holding personal data is 0600 / 0700.

Each writer is tried on a fresh folder and over a file that already existed as 0644
(``open(..., "w")`` keeps an existing file's mode, the trap these tests guard).
"""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from test_records_store import cli, record, session_events

ROOT = Path(__file__).resolve().parent.parent


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.fixture(autouse=True)
def usual_umask() -> Iterator[None]:
    """The umask most systems have (022): without care, files come out 0644."""
    old = os.umask(0o022)
    yield
    os.umask(old)


def wide_file(path: Path, text: str = "old\n") -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    path.chmod(0o644)
    return path


def test_private_helpers_narrow_existing_files_and_create_private_parents(
        tmp_path: Path) -> None:
    from voice_imrs.private_files import open_private, private_dir, reserve_private

    folder = private_dir(tmp_path / "a" / "b" / "c")
    for each in (tmp_path / "a", tmp_path / "a" / "b", folder):
        assert mode(each) == 0o700, each
    for how in ("w", "a"):
        target = wide_file(tmp_path / f"log-{how}.jsonl")
        with open_private(target, how) as stream:
            stream.write("new\n")
        assert mode(target) == 0o600
    assert (tmp_path / "log-a.jsonl").read_text() == "old\nnew\n"
    assert (tmp_path / "log-w.jsonl").read_text() == "new\n"
    assert mode(reserve_private(wide_file(tmp_path / "track.wav"))) == 0o600
    # A folder the user named keeps its mode; only the ones we create are narrowed.
    theirs = tmp_path / "theirs"
    theirs.mkdir(mode=0o755)
    private_dir(theirs, own=False)
    assert mode(theirs) == 0o755


def test_record_database_kept_audio_and_profile_are_private(tmp_path: Path) -> None:
    from voice_imrs.core.profile import Profile
    from voice_imrs.profile_store import save_profile
    from voice_imrs.records.kept_audio import KeptAudio, session_audio_path
    from voice_imrs.records.store import DB_NAME

    data = tmp_path / "fresh" / "data"
    record(data, session_events((6, 2)))
    assert mode(tmp_path / "fresh") == 0o700 and mode(data) == 0o700
    assert mode(data / DB_NAME) == 0o600
    audio = session_audio_path(data, 1)
    wide_file(audio)
    audio.parent.chmod(0o755)
    kept = KeptAudio(audio)
    kept.write(np.zeros(320, np.int16))
    kept.close()
    assert mode(audio) == 0o600 and mode(audio.parent) == 0o700

    config = tmp_path / "config" / "voice-imrs"
    os.environ["VOICE_IMRS_CONFIG_DIR"] = str(config)
    try:
        profile = wide_file(config / "profile.toml", 'safe_place = "the lake"\n')
        save_profile(Profile(safe_place="the old garden"), profile)
    finally:
        del os.environ["VOICE_IMRS_CONFIG_DIR"]
    assert mode(profile) == 0o600 and mode(config) == 0o700


def test_the_clients_recorded_message_is_private(tmp_path: Path) -> None:
    from voice_imrs.render.takes import MESSAGE_LIBRARY, MESSAGE_STEP, MESSAGE_TEXT, TakeLibrary

    data = tmp_path / "data"
    library = TakeLibrary(MESSAGE_LIBRARY, data / "voices")
    wav = library.store(MESSAGE_STEP, MESSAGE_TEXT, np.full(1600, 900, np.int16), 16000)
    for folder in (data, data / "voices", library.folder):
        assert mode(folder) == 0o700, folder
    assert mode(wav) == 0o600
    assert mode(library.folder / "index.json") == 0o600
    assert library.take_for(MESSAGE_STEP, MESSAGE_TEXT) is not None


def test_report_and_export_over_an_existing_file_are_private(tmp_path: Path) -> None:
    data = tmp_path / "data"
    record(data, session_events((7, 3)))
    report = wide_file(tmp_path / "out" / "report.html")
    export = wide_file(tmp_path / "out" / "records.csv")
    done = cli(data, "report", "--out", str(report))
    assert done.returncode == 0, done.stderr
    done = cli(data, "export", "--out", str(export))
    assert done.returncode == 0, done.stderr
    assert mode(report) == 0o600 and mode(export) == 0o600
    assert "session_id" in export.read_text()


def test_simulate_log_and_speech_are_private(tmp_path: Path) -> None:
    scenario = tmp_path / "client.toml"
    scenario.write_text('[[reply]]\ntext = "2"\n[[reply]]\ntext = "stop"\n')
    log = wide_file(tmp_path / "events.jsonl")
    out = wide_file(tmp_path / "speech.wav")
    config = tmp_path / "config"
    config.mkdir()
    (config / "profile.toml").write_text('safe_place = "grandmother\'s kitchen"\n')
    env = {**os.environ, "PYTHONPATH": str(ROOT), "VOICE_IMRS_CONFIG_DIR": str(config),
           "VOICE_IMRS_DATA_DIR": str(tmp_path / "data")}
    done = subprocess.run([sys.executable, "-m", "voice_imrs", "simulate", "safe_place",
                           "--client", str(scenario), "--log", str(log), "--out", str(out)],
                          env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    assert "grandmother" in log.read_text()  # personal words: the reason for 0600
    assert mode(log) == 0o600 and mode(out) == 0o600
    assert out.stat().st_size > 44


def test_a_rendered_track_and_its_cue_sheet_are_private(tmp_path: Path) -> None:
    out = wide_file(tmp_path / "track.wav")
    cues = wide_file(tmp_path / "track.cues.json")
    config = tmp_path / "config"
    config.mkdir()
    env = {**os.environ, "PYTHONPATH": str(ROOT), "VOICE_IMRS_CONFIG_DIR": str(config),
           "VOICE_IMRS_DATA_DIR": str(tmp_path / "data")}
    done = subprocess.run([sys.executable, "-m", "voice_imrs", "render", "grounding_54321",
                           "--out", str(out)], env=env, capture_output=True, text=True,
                          timeout=300)
    assert done.returncode == 0, done.stderr
    assert out.stat().st_size > 44 and cues.read_text().startswith("{")
    assert mode(out) == 0o600 and mode(cues) == 0o600
