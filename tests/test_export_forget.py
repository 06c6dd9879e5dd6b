"""``voice-imrs export`` and ``voice-imrs forget``: they do what they say, and nothing else."""

from __future__ import annotations

import csv
import io
import json
import stat
from pathlib import Path

from test_records_store import all_bytes, cli, record, session_events

from voice_imrs.records.store import DB_NAME, RecordStore


def test_export_csv_has_one_row_per_event(tmp_path: Path) -> None:
    folder = tmp_path / "data"
    first = session_events((7, 3))
    second = session_events((5,), stop=False, end="stopped", script="grounding")
    record(folder, first)
    record(folder, second)
    result = cli(folder, "export")  # csv to standard output by default
    assert result.returncode == 0, result.stderr
    rows = list(csv.DictReader(io.StringIO(result.stdout)))
    assert len(rows) == len(first) + len(second)
    assert {r["session_id"] for r in rows} == {"1", "2"}
    assert {r["client"] for r in rows} == {""}  # the single local user
    ratings = [(r["session_id"], json.loads(r["fields"])["value"]) for r in rows
               if r["event"] == "rating" and json.loads(r["fields"])["scale"] == "distress"]
    assert ratings == [("1", 7), ("1", 3), ("2", 5)]
    assert rows[0]["event"] == "session_start" and rows[0]["seq"] == "1"
    assert rows[-1]["event"] == "session_end" and rows[-1]["end_reason"] == "stopped"
    assert "the attic" not in result.stdout  # recognized text was never stored


def test_export_json_to_a_file(tmp_path: Path) -> None:
    folder = tmp_path / "data"
    events = session_events((6, 8, 2))
    record(folder, events)
    out = tmp_path / "export.json"
    result = cli(folder, "export", "--format", "json", "--out", str(out))
    assert result.returncode == 0, result.stderr
    assert result.stdout == ""
    assert stat.S_IMODE(out.stat().st_mode) == 0o600
    data = json.loads(out.read_text(encoding="utf-8"))
    assert data["schema_version"] == 3
    (session,) = data["sessions"]
    assert session["script"] == "safe_place" and session["end_reason"] == "completed"
    assert [e["event"] for e in session["events"]] == [e.event for e in events]
    assert [e["value"] for e in session["events"] if e["event"] == "rating"] == [6, 8, 2, 6]


def test_export_to_an_unwritable_path_is_one_clear_line(tmp_path: Path) -> None:
    folder = tmp_path / "data"
    record(folder, session_events((4,)))
    result = cli(folder, "export", "--out", str(tmp_path / "no" / "such" / "dir.csv"))
    assert result.returncode == 8
    assert "Traceback" not in result.stderr
    assert result.stderr.startswith("voice-imrs: Cannot write the export to")
    bad = cli(folder, "export", "--format", "xml")
    assert bad.returncode == 2 and "csv" in bad.stderr and "Traceback" not in bad.stderr


def _user_files(folder: Path) -> None:
    record(folder, session_events((7, 3)))
    (folder / "audio").mkdir()
    (folder / "audio" / "session-1.wav").write_bytes(b"RIFF....WAVE")
    (folder / "transcripts.jsonl").write_text('{"text": "private words"}\n')
    (folder / "models" / "vosk-small").mkdir(parents=True)
    (folder / "models" / "vosk-small" / "model.bin").write_bytes(b"weights")


def test_forget_all_asks_first_and_a_no_deletes_nothing(tmp_path: Path) -> None:
    folder = tmp_path / "data"
    _user_files(folder)
    before = sorted(p.relative_to(folder) for p in folder.rglob("*"))
    for answer in ("no\n", "", "y\n"):
        result = cli(folder, "forget", "--all", stdin=answer)
        assert result.returncode == 1
        assert "Type yes to delete everything" in result.stdout
        assert "Nothing was deleted." in result.stdout
        assert sorted(p.relative_to(folder) for p in folder.rglob("*")) == before


def test_forget_all_deletes_our_files_and_leaves_the_rest(tmp_path: Path) -> None:
    folder = tmp_path / "data"
    _user_files(folder)
    (folder / "native.log").write_text("ALSA lib pcm.c: underrun occurred\n")
    profile = tmp_path / "config" / "profile.toml"
    profile.parent.mkdir()
    profile.write_text('safe_place = "the lake"\n', encoding="utf-8")
    result = cli(folder, "forget", "--all", stdin="yes\n")
    assert result.returncode == 0, result.stderr
    assert "Everything recorded is gone." in result.stdout
    assert not profile.exists()  # the safe place and anchor phrase are personal too
    left = sorted(str(p.relative_to(folder)) for p in folder.rglob("*"))
    # transcripts.jsonl was not written by voice-imrs: it is named, and left alone.
    assert left == ["models", "models/vosk-small", "models/vosk-small/model.bin",
                    "transcripts.jsonl"]
    assert f"Left in place (not written by voice-imrs): {folder / 'transcripts.jsonl'}" \
        in result.stdout
    history = cli(folder, "history")
    assert history.stdout == "No sessions recorded.\n"


def test_forget_all_with_yes_needs_no_answer_and_removes_the_folder(tmp_path: Path) -> None:
    folder = tmp_path / "data"
    record(folder, session_events((7, 3)))
    (folder / "audio").mkdir()
    result = cli(folder, "forget", "--all", "--yes")
    assert result.returncode == 0, result.stderr
    assert not folder.exists()
    again = cli(folder, "forget", "--all", "--yes")
    assert again.returncode == 0 and "nothing to delete" in again.stdout


def test_forget_one_session_leaves_no_trace_of_it(tmp_path: Path) -> None:
    folder = tmp_path / "data"
    record(folder, session_events((7, 3), script="nightmare_rehearsal_zq"))
    record(folder, session_events((5, 2), script="grounding"))
    assert b"nightmare_rehearsal_zq" in all_bytes(folder)
    asked = cli(folder, "forget", "--session", "1", stdin="no\n")
    assert asked.returncode == 1 and "Type yes to delete it" in asked.stdout
    result = cli(folder, "forget", "--session", "1", stdin="yes\n")
    assert result.returncode == 0, result.stderr
    assert "Session 1 deleted." in result.stdout
    with RecordStore.open(folder) as store:
        assert [s.script for s in store.sessions()] == ["grounding"]
        assert store.conn.execute("SELECT COUNT(*) FROM events WHERE session_id = 1"
                                  ).fetchone()[0] == 0
    # secure_delete and the WAL checkpoint: the forgotten session's bytes are gone from disk.
    assert b"nightmare_rehearsal_zq" not in all_bytes(folder)
    assert (folder / DB_NAME).exists()


def test_forget_unknown_session_and_missing_choice_are_clear(tmp_path: Path) -> None:
    folder = tmp_path / "data"
    record(folder, session_events((4,)))
    unknown = cli(folder, "forget", "--session", "12", "--yes")
    assert unknown.returncode == 8 and "Traceback" not in unknown.stderr
    assert "no recorded session 12" in unknown.stderr
    neither = cli(folder, "forget")
    assert neither.returncode == 2 and "--all" in neither.stderr
    both = cli(folder, "forget", "--all", "--session", "1")
    assert both.returncode == 2 and "Traceback" not in both.stderr


def _tree(folder: Path) -> list[tuple[str, bytes]]:
    return sorted((str(p.relative_to(folder)), p.read_bytes() if p.is_file() else b"")
                  for p in folder.rglob("*"))


def test_forget_refuses_a_profile_path_outside_our_folders(tmp_path: Path) -> None:
    folder = tmp_path / "data"
    record(folder, session_events((7, 3)))
    precious = tmp_path / "elsewhere"
    (precious / "photos").mkdir(parents=True)
    (precious / "photos" / "holiday.jpg").write_bytes(b"jpeg")
    (precious / "notes.toml").write_text("x = 1\n")
    before, data_before = _tree(precious), _tree(folder)
    for target in (precious, precious / "notes.toml", precious / "photos",
                   tmp_path / "config" / ".." / "elsewhere" / "notes.toml", Path("/")):
        result = cli(folder, "forget", "--all", "--yes", "--profile", str(target))
        assert result.returncode == 2, result
        assert "Traceback" not in result.stderr
        assert "forget deletes only voice-imrs's own files" in result.stderr
        assert "Nothing was deleted" in result.stderr
        assert _tree(precious) == before
        assert _tree(folder) == data_before  # the record was not touched either


def test_forget_refuses_a_folder_named_like_a_profile_in_our_config(tmp_path: Path) -> None:
    folder = tmp_path / "data"
    config = tmp_path / "config"
    (config / "profile.toml").mkdir(parents=True)
    (config / "profile.toml" / "inside.txt").write_text("keep")
    result = cli(folder, "forget", "--all", "--yes")
    assert result.returncode == 2 and "not a profile file" in result.stderr
    assert (config / "profile.toml" / "inside.txt").read_text() == "keep"


def test_forget_never_follows_links_and_keeps_other_files_of_a_shared_folder(
        tmp_path: Path) -> None:
    # A data folder that is also used for other things (a mistaken VOICE_IMRS_DATA_DIR).
    folder = tmp_path / "home"
    record(folder, session_events((6, 2)))
    (folder / "thesis.odt").write_bytes(b"years of work")
    (folder / "Documents").mkdir()
    (folder / "Documents" / "letter.txt").write_text("dear")
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "keep.wav").write_bytes(b"RIFF")
    (folder / "audio").mkdir()
    (folder / "audio" / "session-1.wav").symlink_to(outside / "keep.wav")
    (folder / "audio" / "mine.mp3").write_bytes(b"not ours")
    (folder / "voices").symlink_to(outside)
    result = cli(folder, "forget", "--all", "--yes")
    assert result.returncode == 0, result.stderr
    assert (outside / "keep.wav").read_bytes() == b"RIFF"  # links removed, never followed
    assert not (folder / "voices").exists() and not (folder / "audio" / "session-1.wav"
                                                     ).is_symlink()
    assert sorted(str(p.relative_to(folder)) for p in folder.rglob("*")) == [
        "Documents", "Documents/letter.txt", "audio", "audio/mine.mp3", "thesis.odt"]
    assert not (folder / DB_NAME).exists()


def test_forget_all_also_deletes_records_set_aside_as_damaged(tmp_path: Path) -> None:
    folder = tmp_path / "data"
    record(folder, session_events((7, 3)))
    (folder / f"{DB_NAME}.damaged-20261202T150102").write_bytes(b"old pages")
    (folder / f"{DB_NAME}.damaged-20261202T150102-wal").write_bytes(b"old log")
    result = cli(folder, "forget", "--all", "--yes")
    assert result.returncode == 0, result.stderr
    assert not folder.exists()
