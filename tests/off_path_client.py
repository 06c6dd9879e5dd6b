"""A simulated client for off-path scenarios: answers by step, typed or recorded.

Each scenario names what the client says at given steps (a list per step, used in order);
everything else gets a calm answer by what the step expects. The whole session runs
through ``voice_imrs.session.simulate`` with the real synthesizer and the default
recognizer, so recorded answers go through the same ears as in a live session.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from voice_imrs.audio.wav import read_wav_at
from voice_imrs.core.events import LogEvent
from voice_imrs.core.intents import Expectation
from voice_imrs.core.profile import Profile
from voice_imrs.core.script import Script
from voice_imrs.session import parts
from voice_imrs.session.simulate import simulate
from voice_imrs.session.simulated_client import Reply, Scenario

DEV = Path(__file__).parent / "data" / "speech" / "dev"
SILENT = Reply(silence_s=600.0, label="silence")


def recorded(name: str) -> Reply:
    """A real human recording from the dev set as the answer."""
    return Reply(audio=read_wav_at(DEV / name, 16000), label=name)


def typed(text: str) -> Reply:
    return Reply(text=text, label=text)


def calm(expect: Expectation) -> Reply:
    """The calm-path answer for what is expected now."""
    if "rating" in expect.kinds:
        return typed("two")
    if "choice" in expect.kinds:
        return typed(expect.choices[0][1][0])
    if "yes" in expect.kinds:
        return typed("yes")
    return typed("ready")


@dataclass
class ByStep:
    """Answers keyed by the step being asked; the rest calm (or silent when ``quiet``)."""

    answers: Mapping[str, Sequence[Reply | str]]
    quiet: bool = False
    step: str | None = None
    used: dict[str, int] = field(default_factory=dict)

    def observe(self, event: LogEvent) -> None:
        if event.event == "step":
            self.step = event.step

    def reply(self, expect: Expectation) -> Reply | None:
        planned = self.answers.get(self.step or "", ())
        index = self.used.get(self.step or "", 0)
        if index < len(planned):
            self.used[self.step or ""] = index + 1
            answer = planned[index]
            return typed(answer) if isinstance(answer, str) else answer
        return SILENT if self.quiet else calm(expect)


@dataclass
class Outcome:
    """What a scenario did: its events, in order, and how it ended."""

    reason: str
    events: list[LogEvent]
    captions: list[str]

    def steps(self) -> list[str]:
        return [str(e.step) for e in self.events if e.event == "step"]

    def named(self, name: str) -> list[LogEvent]:
        return [e for e in self.events if e.event == name]

    def intents_at(self, step: str) -> list[str]:
        return [str(e.fields["intent"]) for e in self.named("intent") if e.step == step]

    def spoken(self) -> list[str]:
        return [str(e.fields["text"]) for e in self.named("say_start")]

    def ratings(self) -> list[int]:
        return [int(e.fields["value"]) for e in self.named("rating")
                if e.fields.get("scale") == "distress"]

    def crisis_spoken(self, profile: Profile) -> bool:
        return any(profile.crisis_text() in text for text in self.spoken())


def run(script: Script, answers: Mapping[str, Sequence[Reply | str]],
        profile: Profile | None = None, speech: parts.Speech | None = None,
        quiet: bool = False, barge_ins: Sequence = (), recognizer: str = "whisper") -> Outcome:
    """Run ``script`` against a client that answers by step; the session's outcome."""
    profile = profile or Profile()
    client = ByStep(answers, quiet=quiet)
    result = simulate(script, Scenario(barge_ins=list(barge_ins)), profile, speech=speech,
                      observers=[client.observe], fallback=client.reply, recognizer=recognizer)
    return Outcome(result.reason, result.events, result.captions)
