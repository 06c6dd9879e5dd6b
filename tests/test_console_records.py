"""Records per client, the console's note, and the report part by part."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest
from test_records_store import cli

from voice_imrs.console.phase_report import parts_of
from voice_imrs.console.state import ConsoleState, NotesOffError
from voice_imrs.core.events import LogEvent
from voice_imrs.records.store import RecordStore, SessionRecorder

#: A rescripting session in brief: times are seconds into the session.
IMRS = [
    LogEvent(0.0, "session_start", None, {"script": "imrs_session", "mode": "therapist"}),
    LogEvent(0.0, "step", "welcome", {"kind": "say"}),
    LogEvent(20.0, "step", "rating_start", {"kind": "askrating"}),
    LogEvent(25.0, "rating", "rating_start", {"value": 3, "scale": "distress"}),
    LogEvent(30.0, "step", "target_memory", {"kind": "say"}),
    LogEvent(60.0, "step", "hot_spot", {"kind": "say"}),
    LogEvent(90.0, "step", "reliving_enter", {"kind": "say"}),
    LogEvent(100.0, "hot_spot", "reliving_enter", {}),  # marked on the console
    LogEvent(100.0, "control", "reliving_enter", {"action": "hot_spot"}),
    LogEvent(110.0, "step", "reliving_senses", {"kind": "say"}),
    LogEvent(115.0, "intent", "reliving_senses", {"intent": "stop", "confidence": 0.9}),
    LogEvent(115.0, "step", "grounding_stop", {"kind": "say"}),
    LogEvent(140.0, "step", "rating_reliving", {"kind": "askrating"}),
    LogEvent(150.0, "noinput", "rating_reliving", {"count": 1}),
    LogEvent(160.0, "rating", "rating_reliving", {"value": 7, "scale": "distress"}),
    LogEvent(170.0, "step", "need", {"kind": "say"}),
    LogEvent(200.0, "step", "grounding_close", {"kind": "say"}),
    LogEvent(210.0, "session_end", "grounding_close", {"reason": "stopped"}),
]


def record(folder: Path, client: str | None, note: str | None = None) -> int:
    recorder = SessionRecorder.open(folder, client)
    session_id = recorder.begin("imrs_session", "therapist")
    for event in IMRS:
        recorder.add(event)
    if note is not None:
        recorder.set_notes(session_id, note)
    recorder.close()
    return session_id


def test_parts_hold_their_ratings_hot_spot_time_stops_and_silences() -> None:
    parts = {p.name: p for p in parts_of("imrs_session", IMRS)}
    assert list(parts) == ["Preparation", "Phase 1: reliving", "Grounding",
                           "Phase 2: rescripting"]
    reliving = parts["Phase 1: reliving"]
    assert reliving.hot_spot_s == 30.0 + 10.0  # the hot_spot step, then the console's mark
    assert reliving.stops == 1 and reliving.noinputs == 1
    assert reliving.ratings == [(160.0, 7)]
    assert reliving.seconds == (115.0 - 30.0) + (170.0 - 140.0)
    assert parts["Preparation"].ratings == [(25.0, 3)]
    assert parts["Grounding"].seconds == (140.0 - 115.0) + (210.0 - 200.0)


def test_history_report_and_export_per_client(tmp_path: Path) -> None:
    folder = tmp_path / "data"
    mine = record(folder, "c07", note="Hot spot: the stairs. Calmer after rescripting.")
    record(folder, "c08")
    record(folder, None)
    with RecordStore.open(folder, "c07") as store:
        assert [s.id for s in store.sessions()] == [mine]
        assert store.last_session().notes.startswith("Hot spot: the stairs")
    with RecordStore.open(folder) as store:  # no code: everything, as before
        assert [s.client for s in store.sessions()] == ["c07", "c08", None]

    history = cli(folder, "history", "--client-code", "c07", "--json")
    assert history.returncode == 0, history.stderr
    assert [row["id"] for row in json.loads(history.stdout)] == [mine]

    out = tmp_path / "report.html"
    report = cli(folder, "report", "--client-code", "c07", "--last", "--out", str(out))
    assert report.returncode == 0, report.stderr
    page = out.read_text(encoding="utf-8")
    assert f"Session {mine}, client c07 part by part" in page
    assert "Phase 1: reliving" in page and "7 at 2:40" in page and "0:40" in page
    assert "Hot spot: the stairs. Calmer after rescripting." in page

    export = cli(folder, "export", "--format", "json", "--client-code", "c08")
    (only,) = json.loads(export.stdout)["sessions"]
    assert only["client"] == "c08" and only["notes"] is None
    every = cli(folder, "export")  # CSV, every client: each row says whose it is
    rows = list(csv.DictReader(io.StringIO(every.stdout)))
    assert [r["client"] for r in rows if r["event"] == "session_start"] == ["c07", "c08", ""]


def test_a_client_code_that_could_be_a_name_or_a_path_is_refused(tmp_path: Path) -> None:
    done = cli(tmp_path / "data", "history", "--client-code", "../Jane Doe")
    assert done.returncode == 2
    assert "is not a client code" in done.stderr and "Traceback" not in done.stderr


def test_a_note_goes_to_the_record_only_when_notes_are_on() -> None:
    kept: list[str] = []
    ConsoleState(notes_enabled=True, on_note=kept.append).add_note("Rated 7 at the stairs.")
    assert kept == ["Rated 7 at the stairs."]
    off = ConsoleState(notes_enabled=False, on_note=kept.append)
    with pytest.raises(NotesOffError, match="notes are off"):
        off.add_note("not kept")
    assert kept == ["Rated 7 at the stairs."]


def test_the_json_log_has_the_wall_clock_time() -> None:
    import io
    from datetime import datetime

    from voice_imrs.session.log_writers import JsonLinesLog

    stream = io.StringIO()
    JsonLinesLog(stream)(LogEvent(1.5, "hot_spot", "reliving_enter"))
    line = json.loads(stream.getvalue())
    assert line["t"] == 1.5 and line["event"] == "hot_spot"
    when = datetime.fromisoformat(line["clock"])
    assert when.tzinfo is not None
    assert abs((datetime.now().astimezone() - when).total_seconds()) < 60


def test_a_simulated_session_is_recorded_under_its_client_code(tmp_path: Path) -> None:
    folder = tmp_path / "data"
    data = Path(__file__).resolve().parent / "data" / "console"
    done = cli(folder, "simulate", str(data / "short_session.toml"), "--client",
               str(data / "calm_client.toml"), "--record", "--client-code", "c09",
               "--tts", "espeak")
    assert done.returncode == 0, done.stderr
    history = json.loads(cli(folder, "history", "--client-code", "c09", "--json").stdout)
    assert len(history) == 1
    assert json.loads(cli(folder, "history", "--client-code", "c10", "--json").stdout) == []
