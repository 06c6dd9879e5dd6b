"""A fault anywhere, the very first step included, still ends the session grounded.

Scripts built in code (bypassing ``validate``, as a bug or a changed asset folder would),
run through the real synthesizer, engine and runner, recorded in a real store.
"""

from __future__ import annotations

from pathlib import Path

from voice_imrs.core.profile import Profile
from voice_imrs.core.script import End, Jump, Say, Script
from voice_imrs.records.store import RecordStore, SessionRecorder
from voice_imrs.session.simulate import simulate
from voice_imrs.session.simulated_client import Scenario


def run_recorded(script: Script, folder: Path) -> tuple[str, list, str | None]:
    recorder = SessionRecorder.open(data_dir=folder)
    recorder.begin(script.name, "homework")
    result = simulate(script, Scenario(), Profile(silence_s=2.0), observers=[recorder.add])
    recorder.close()
    with RecordStore.open(folder) as store:
        reason = store.sessions()[-1].end_reason
    return result.reason, result.events, reason


def test_an_unknown_bell_in_the_first_step_grounds_and_records_fault(tmp_path: Path) -> None:
    script = Script("bell_first", "Bell first", (
        Say("welcome", "Welcome.", bell="gong"),
        Say("grounding_back", "Feel your feet on the floor."),
        End("bye", "Goodbye."),
    ))
    reason, events, recorded = run_recorded(script, tmp_path / "data")
    assert reason == "fault" and recorded == "fault"
    names = [e.event for e in events]
    assert names[0] == "session_start" and "fault" in names
    fault = next(e for e in events if e.event == "fault")
    assert "gong" in fault.fields["error"]
    said = [e.step for e in events if e.event == "say_start"]
    assert "grounding_close" in said, said  # grounded, not cut off
    assert names[-1] == "session_end"


def test_a_script_the_engine_cannot_enter_still_grounds(tmp_path: Path) -> None:
    script = Script("circle", "Circle", (Jump("a", "b"), Jump("b", "a"), End("bye")))
    reason, events, recorded = run_recorded(script, tmp_path / "data")
    assert reason == "fault" and recorded == "fault"
    assert [e.event for e in events][:2] == ["session_start", "fault"]
    assert any(e.event == "say_start" and e.step == "grounding_close" for e in events)
