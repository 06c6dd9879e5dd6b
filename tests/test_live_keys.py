"""``voice-imrs run`` on the virtual sound device, answered by keys only.

The spoken menu is answered with a number key, a typed stop leads into the safety steps,
the grounding check is answered with a digit and the "continue, safe place or end"
choice with its number key. Keys come as lines on a pipe, as they would from a terminal.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest
from live_cli import LiveCli


@pytest.mark.audio
@pytest.mark.slow
def test_the_menu_and_every_question_after_a_stop_answered_by_keys(tmp_path: Path,
                                                                   pulse: str) -> None:
    profile = tmp_path / "profile.toml"
    profile.write_text("screen_done = true\n", encoding="utf-8")
    log = tmp_path / "events.jsonl"
    run = LiveCli(tmp_path, "run", "--profile", str(profile), "--log", str(log))
    try:
        started = time.monotonic()
        menu = run.wait_for("Choose an exercise", timeout=60)
        assert "one safe place" in menu.lower()
        run.type("1")  # the safe place, by its number key
        run.wait_for("safe place exercise", timeout=60)
        run.type("s")  # the key for stop
        run.wait_for("how distressed are you feeling", timeout=60)
        run.type("2")
        run.wait_for("continue, go to your safe place, or end", timeout=60)
        run.type("3")  # end for today: the third option, by its key
        code = run.finish(timeout=90)
    finally:
        run.kill()
    assert code == 0, run.captions
    assert time.monotonic() - started < 150
    events = [json.loads(line) for line in log.read_text().splitlines() if line]
    choices = [(e["step"], e["value"]) for e in events
               if e["event"] == "intent" and e.get("intent") == "choice"]
    assert choices == [("menu_choice", "safe_place"), ("grounding_choice", "end")]
    ratings = [e["value"] for e in events if e["event"] == "rating"]
    assert ratings == [2]
    ended = []  # (script, end reason) of each session the process ran
    for event in events:
        if event["event"] == "session_start":
            script = event["script"]
        elif event["event"] == "session_end":
            ended.append((script, event["reason"]))
    assert ended[0] == ("menu", "completed")
    assert ("safe_place", "stopped") in ended
