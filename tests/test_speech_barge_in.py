"""Barge-in through the whole session loop on real sound-device streams (virtual device).

- A recorded "stop" played into the microphone while a long prompt plays cuts the prompt;
  the time from the end of the word to the last sound on the output is measured.
- Self-trigger guard: with the microphone hearing the speaker (loudspeakers, no
  headphones), a prompt that says "stop" does not stop the session; without the echo gate
  the same prompt does, so the test would notice a gate that stopped working.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest
from conftest import SPEECH

from voice_imrs.core.events import LogEvent
from voice_imrs.core.profile import Profile
from voice_imrs.core.script import End, Say, Script
from voice_imrs.session.recorded_voice import RecordedVoice

DEV = SPEECH / "dev"
#: Held-out speakers' "stop" (none of them trained the keyword model).
STOP_CLIPS = [DEV / name for name in ("sc2_stop_0fa1e7a9_0.wav", "sc2_stop_0fa1e7a9_1.wav",
                                      "sc2_stop_0fa1e7a9_2.wav", "sc2_stop_1b4c9b89_0.wav")]
#: The end of the word to silence on the output; the benchmark's target p95 is 250 ms.
GENEROUS_BOUND_MS = 800.0
WARNING = ("Remember that you can say stop at any time. If you want to stop, just say stop, "
           "and we will stop together. Stop means stop.")


def test_a_spoken_stop_cuts_the_prompt_on_real_streams(pulse: str,
                                                       capsys: pytest.CaptureFixture[str]) -> None:
    from benchmarks.barge_in import measure

    summary = measure(len(STOP_CLIPS), peer=False, clips=STOP_CLIPS)
    with capsys.disabled():
        print(f"\n[barge-in] {summary}")
    latencies = [ms for ms in summary["latencies_ms"] if ms is not None]
    # Real-time streams shift the classifier's windows a little from run to run: one
    # clip in four may be missed here; recall itself is guarded on the files.
    assert summary["heard"] >= len(STOP_CLIPS) - 1, summary
    assert len(latencies) == summary["heard"], summary
    assert max(latencies) < GENEROUS_BOUND_MS, summary


async def _session_hearing_itself(echo_gate: bool) -> list[LogEvent]:
    from voice_imrs.audio.input import SoundDeviceSource
    from voice_imrs.audio.output import SoundDeviceSink
    from voice_imrs.session import parts
    from voice_imrs.session.live import MicrophoneBlocks
    from voice_imrs.session.runner import Observers, SessionRunner

    profile = Profile()
    script = Script("warning", "Warning", (Say("warn", WARNING), End("end")))
    speech = parts.make_speech()
    events: list[LogEvent] = []
    sink = SoundDeviceSink(None, speech.sample_rate)
    source = SoundDeviceSource("pulse:speaker.monitor")  # the microphone hears the speaker
    mic = MicrophoneBlocks(source, asyncio.get_running_loop())
    runners: list[SessionRunner] = []

    def end_at_the_first_stop(event: LogEvent) -> None:
        # Without the gate every spoken "stop" of the grounding stops it again; the first
        # one is what this test is about.
        if _stops([event]) and runners:
            runners[0].signal("SIGINT")
            runners[0].signal("SIGINT")

    try:
        runner = SessionRunner(
            parts.plan_for(script, profile), parts.variables_for(profile),
            renderer=RecordedVoice.plain(speech.renderer),
            voice=parts.voice_for(profile), sink=sink, blocks=mic.__aiter__(),
            listener=parts.make_listener("keyword", None, profile),
            stop_words=tuple(profile.stop_words),
            observers=Observers(events=[events.append, end_at_the_first_stop]),
            echo_gate=echo_gate)
        runners.append(runner)
        await asyncio.wait_for(runner.run(), timeout=120.0)
    finally:
        mic.close()
        sink.close()
        speech.close()
    return events


def _stops(events: list[LogEvent]) -> list[Any]:
    return [e for e in events if e.event == "intent" and e.fields.get("intent") == "stop"]


def test_the_assistant_saying_stop_through_loudspeakers_does_not_stop_it(pulse: str) -> None:
    events = asyncio.run(_session_hearing_itself(echo_gate=True))
    assert not _stops(events), [e.fields for e in _stops(events)]
    assert events[-1].event == "session_end"
    assert events[-1].fields["reason"] == "completed"


def test_without_the_echo_gate_the_same_prompt_stops_itself(pulse: str) -> None:
    events = asyncio.run(_session_hearing_itself(echo_gate=False))
    assert _stops(events), "the loopback no longer carries the prompt to the recognizer"


def test_bench_barge_in_refuses_zero_trials(tmp_path: Path) -> None:
    import subprocess
    import sys

    done = subprocess.run([sys.executable, "-m", "voice_imrs.cli.main", "bench", "barge-in",
                           "--trials", "0"], capture_output=True, text=True, timeout=60)
    assert done.returncode != 0
    assert "Traceback" not in done.stderr
    assert "--trials" in done.stderr
