"""Captions a screen reader can follow: printed before (or after) the voice, cues once.

The voice is the real synthesizer; the sink records when voice reaches it, so the test
sees the order in which a caption and its voice came out. Only the microphone side is a
stand-in (silence, nobody speaks): captions do not depend on it.
"""

from __future__ import annotations

import asyncio
import io

import numpy as np
import pytest
from quiet_session import NobodySpeaks, PacedSink, silence

from voice_imrs.cli.live_args import live_options
from voice_imrs.cli.main import build_parser
from voice_imrs.core.profile import Profile
from voice_imrs.core.script import End, Say, Script, Timed
from voice_imrs.session import parts
from voice_imrs.session.captions import Captions, make_captions
from voice_imrs.session.recorded_voice import RecordedVoice
from voice_imrs.session.runner import Observers, SessionRunner

SCRIPT = Script("captions", "Captions", (
    Say("hello", "Hello, and welcome."),
    Timed("breathe", "breathing", duration_s=30.0, inhale_s=2.0, exhale_s=3.0,
          inhale_cue="Breathe in.", exhale_cue="And out."),
    Say("grounding_done", "Notice the room around you."),
    End("end"),
))


class Timeline:
    """What came out, in order: ("caption", text) and ("voice", block number)."""

    def __init__(self) -> None:
        self.items: list[tuple[str, object]] = []

    def write(self, text: str) -> int:
        for line in text.splitlines():
            if line.strip():
                self.items.append(("caption", line))
        return len(text)

    def flush(self) -> None:
        """Nothing buffered."""


class TimelineSink(PacedSink):
    """An AudioSink that notes each block with voice in it on the shared timeline."""

    def __init__(self, timeline: Timeline, rate: int) -> None:
        super().__init__(rate)
        self.timeline, self.blocks = timeline, 0

    def write(self, block: np.ndarray) -> None:
        self.blocks += 1
        if np.abs(block.astype(np.int32)).max(initial=0) > 200:
            self.timeline.items.append(("voice", self.blocks))


def _run(when: str) -> list[tuple[str, object]]:
    timeline = Timeline()
    speech = parts.make_speech("espeak")
    try:
        captions = Captions(timeline, when)  # type: ignore[arg-type]
        profile = Profile()

        async def go() -> str:
            runner = SessionRunner(
                parts.plan_for(SCRIPT, profile), parts.variables_for(profile),
                renderer=RecordedVoice.plain(speech.renderer), voice=parts.voice_for(profile),
                sink=TimelineSink(timeline, speech.sample_rate), blocks=silence(90.0),
                listener=NobodySpeaks(), observers=Observers(lines=captions),
                echo_gate=False)
            return await asyncio.wait_for(runner.run(), 60.0)

        assert asyncio.run(go()) == "completed"
    finally:
        speech.close()
    return timeline.items


def _spans(items: list[tuple[str, object]]) -> list[tuple[str, int, int]]:
    """For each caption: (text, its position, the position of the next caption)."""
    where = [i for i, (kind, _) in enumerate(items) if kind == "caption"]
    ends = [*where[1:], len(items)]
    return [(str(items[i][1]), i, end) for i, end in zip(where, ends, strict=True)]


def test_captions_come_before_their_voice_and_cues_once() -> None:
    items = _run("before")
    captions = [str(text) for kind, text in items if kind == "caption"]
    # Twelve breaths, each cue printed once: not 24 lines of "in" and "out".
    assert captions == ["Hello, and welcome.", "Breathe in.", "And out.",
                        "Notice the room around you."], captions
    assert items[0][0] == "caption"  # nothing was heard before the first line was printed
    for text, at, until in _spans(items):
        voiced = [kind for kind, _ in items[at + 1:until]]
        assert voiced and all(kind == "voice" for kind in voiced), text


def test_after_prints_each_line_once_its_voice_is_out() -> None:
    items = _run("after")
    captions = [str(text) for kind, text in items if kind == "caption"]
    assert captions[:4] == ["Hello, and welcome.", "Breathe in.", "And out.",
                            "Notice the room around you."], captions
    # The first voice comes before any caption, and every voice block of the welcome
    # line comes before its caption.
    assert items[0][0] == "voice"
    welcome = items.index(("caption", "Hello, and welcome."))
    assert all(kind == "voice" for kind, _ in items[:welcome])
    assert welcome > 20  # over 0.4 s of voice went out before its caption


@pytest.mark.parametrize(("argv", "expected"), [
    ([], "before"), (["--captions", "after"], "after"), (["--captions", "off"], None),
    (["--quiet"], None),
])
def test_the_captions_option_and_quiet_as_its_alias(argv: list[str],
                                                    expected: str | None) -> None:
    args = build_parser().parse_args(["run", "safe_place", *argv])
    captions = live_options(args).captions
    if expected is None:
        assert captions is None
    else:
        assert isinstance(captions, Captions) and captions.when == expected


def test_caption_text_is_plain_one_line_each() -> None:
    out = io.StringIO()
    captions = make_captions("after", out)
    assert captions is not None
    captions.begin("One.")
    assert out.getvalue() == ""
    captions.begin("Two.")  # a new line flushes the one waiting
    captions.end()
    assert out.getvalue() == "One.\nTwo.\n"
