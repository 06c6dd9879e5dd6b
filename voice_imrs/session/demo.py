"""``voice-imrs demo``: a short safe-place session with a simulated client.

Works on a machine with no sound hardware: the session's speech goes to a WAV file, the
client answers with real human recordings shipped in the package (Speech Commands,
CC BY 4.0) through the real recognizer, and says "stop" in the middle of a prompt, so
the demo shows the safety path too: the voice is cut off, a short grounding, a rating,
then the choice to continue. What happened is printed as plain text.
"""

from __future__ import annotations

import sys
from importlib import resources
from pathlib import Path

from voice_imrs.audio.wav import read_wav_at
from voice_imrs.core.events import LogEvent
from voice_imrs.core.intents import Expectation
from voice_imrs.ports import ASR_RATE
from voice_imrs.session.simulated_client import BargeIn, Reply, Scenario

DEMO_SCRIPT = "safe_place"
CLIPS = resources.files("voice_imrs") / "data" / "demo"


def _clip(name: str) -> Reply:
    with resources.as_file(CLIPS / name) as path:
        return Reply(audio=read_wav_at(path, ASR_RATE), label=name)


def demo_answers(expect: Expectation) -> Reply | None:
    """How the demo client answers: calm ratings, yes, and "continue" after a stop."""
    if "rating" in expect.kinds:
        return _clip("two.wav")
    if "yes" in expect.kinds:
        return _clip("yes.wav")
    if "choice" in expect.kinds and expect.choices:
        values = [value for value, _ in expect.choices]
        return Reply(text="continue" if "continue" in values else expect.choices[0][1][0])
    if "ready" in expect.kinds:
        return Reply(text="continue")
    return None


def describe(event: LogEvent) -> str | None:
    """One plain line for the events a person wants to follow."""
    minutes, seconds = divmod(event.t, 60)
    stamp = f"{int(minutes):02d}:{seconds:04.1f}"
    fields = event.fields
    if event.event == "say_start":
        return f"{stamp}  says: {fields.get('text', '')}"
    if event.event == "intent":
        value = f" {fields['value']}" if fields.get("value") is not None else ""
        return f"{stamp}  heard: {fields.get('intent')}{value}"
    if event.event == "interrupted":
        return f"{stamp}  voice cut off ({fields.get('by')})"
    if event.event == "branch":
        return f"{stamp}  goes to {fields.get('to')} ({fields.get('reason')})"
    if event.event in ("noinput", "nomatch"):
        return f"{stamp}  {event.event} {fields.get('count')}"
    if event.event == "session_end":
        return f"{stamp}  session ended: {fields.get('reason')}"
    return None


def run_demo(out: Path, log: Path | None = None) -> int:
    from voice_imrs.core.profile import Profile
    from voice_imrs.script_files import find_script
    from voice_imrs.session.log_writers import JsonLinesLog
    from voice_imrs.session.simulate import simulate

    script = find_script(DEMO_SCRIPT)
    says = [step.id for step in script.steps if type(step).__name__ == "Say"]
    stop_at = says[min(2, len(says) - 1)]
    scenario = Scenario(barge_ins=[BargeIn(stop_at, 1.5, _clip("stop.wav").audio, "stop.wav")])  # type: ignore[arg-type]

    def show(event: LogEvent) -> None:
        line = describe(event)
        if line:
            print(line, flush=True)

    observers = [show]
    log_stream = log.open("w", encoding="utf-8") if log else None
    if log_stream:
        observers.append(JsonLinesLog(log_stream))
    try:
        print(f"Demo: the {script.title.lower()} exercise with a simulated client "
              f"who says stop during step {stop_at!r}.", flush=True)
        result = simulate(script, scenario, Profile(), out_wav=out, observers=observers,
                          fallback=demo_answers)
    finally:
        if log_stream:
            log_stream.close()
    print(f"The session's audio is in {out}.", file=sys.stderr)
    return 0 if result.reason in ("completed", "stopped", "incomplete") else 1
