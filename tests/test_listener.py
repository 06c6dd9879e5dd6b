"""IntentListener rules, with a scripted recognizer (pure logic) and the keyboard one."""

from __future__ import annotations

import io
import os

import numpy as np

from voice_imrs.asr.keyboard import KeyboardRecognizer
from voice_imrs.asr.listener import IntentListener
from voice_imrs.asr.vocabulary import session_vocabulary, vocabulary_words
from voice_imrs.core.intents import NOTHING, RATING, YES_NO, Intent
from voice_imrs.core.messages import Heard
from voice_imrs.ports import Hypothesis, Recognizer

BLOCK = np.zeros(320, np.int16)


class ScriptedRecognizer:
    """Returns the hypotheses scripted for each successive block; records resets."""

    name = "scripted"
    detector = None

    def __init__(self, script: list[list[Hypothesis]], at_finish: list[Hypothesis] | None = None
                 ) -> None:
        self.script = list(script)
        self.at_finish = at_finish or []
        self.resets = 0

    def accept(self, block: np.ndarray) -> list[Hypothesis]:
        return self.script.pop(0) if self.script else []

    def finish(self) -> list[Hypothesis]:
        return self.at_finish

    def reset(self) -> None:
        self.resets += 1

    def expect(self, expectation: object) -> None:
        """Says what it was scripted to say."""


def _run(listener: IntentListener, blocks: int, expect=NOTHING) -> list[Heard]:
    heard: list[Heard] = []
    for _ in range(blocks):
        heard.extend(listener.feed(BLOCK, expect))
    return heard


def test_stop_in_a_partial_fires_once_it_held_and_resets() -> None:
    recognizer = ScriptedRecognizer([[], [Hypothesis("please", False)],
                                     [Hypothesis("please stop", False)]])
    assert isinstance(recognizer, Recognizer)
    listener = IntentListener(recognizer, vad=False, stop_hold_s=0.1)
    heard = _run(listener, 12)
    # seen at 0.06 s, held 0.1 s (the hold), decided at 0.16 s, before any final
    assert heard == [Heard(Intent("stop", None, "please stop"), 0.16)]
    assert recognizer.resets == 1


def test_by_default_a_stop_partial_fires_on_the_same_block() -> None:
    recognizer = ScriptedRecognizer([[], [Hypothesis("stop", False)]])
    heard = _run(IntentListener(recognizer, vad=False), 3)
    assert [(h.intent.kind, h.t) for h in heard] == [("stop", 0.04)]


def test_a_flickering_stop_partial_does_not_count() -> None:
    recognizer = ScriptedRecognizer([[Hypothesis("stop", False)], [Hypothesis("four", False)],
                                     [], [], [], [], [], [Hypothesis("four", True)]])
    assert _run(IntentListener(recognizer, vad=False, stop_hold_s=0.1), 10) == []


def test_answers_come_from_finals_and_only_when_expected() -> None:
    script = [[Hypothesis("seven", False)], [Hypothesis("seven", True)]]
    assert _run(IntentListener(ScriptedRecognizer(list(script)), vad=False), 2, NOTHING) == []
    heard = _run(IntentListener(ScriptedRecognizer(list(script)), vad=False), 2, RATING)
    assert [(h.intent.kind, h.intent.value, h.t) for h in heard] == [("rating", 7, 0.04)]


def test_commands_count_in_every_state_and_unknown_only_when_an_answer_is_expected() -> None:
    heard = _run(IntentListener(ScriptedRecognizer([[Hypothesis("slow down", True)]]),
                                vad=False), 1)
    assert [h.intent.kind for h in heard] == ["slower"]
    heard = _run(IntentListener(ScriptedRecognizer([[Hypothesis("the top", True)]]),
                                vad=False), 1, YES_NO)
    assert [h.intent.kind for h in heard] == ["unknown"]
    assert _run(IntentListener(ScriptedRecognizer([[Hypothesis("the top", True)]]),
                               vad=False), 1) == []


def test_configured_stop_words_in_any_script() -> None:
    recognizer = ScriptedRecognizer([[Hypothesis("halt", False)], [Hypothesis("멈춰", True)]])
    listener = IntentListener(recognizer, stop_words=("halt", "멈춰"), vad=False,
                              stop_hold_s=0.0)
    assert [h.intent.kind for h in _run(listener, 2)] == ["stop", "stop"]


def test_finish_gives_the_last_final() -> None:
    listener = IntentListener(ScriptedRecognizer([], [Hypothesis("no", True)]), vad=False)
    assert [h.intent.kind for h in listener.finish(YES_NO)] == ["no"]


def test_speech_onset_is_reported_once_per_utterance() -> None:
    # A real voice, twice: Silero's VAD (rightly) does not take a synthetic tone for speech.
    from pathlib import Path

    from voice_imrs.audio.wav import read_wav_at

    rate = 16_000
    voice = read_wav_at(Path(__file__).parent / "data/speech/dev/sc2_stop_0fa1e7a9_2.wav",
                        rate)[:rate].astype(np.float64)
    voice = np.pad(voice, (0, rate - len(voice)))
    quiet = np.random.default_rng(1).normal(0, 3, rate // 2)
    audio = np.concatenate([quiet, voice, quiet, quiet, voice, quiet, quiet]).astype(np.int16)
    listener = IntentListener(ScriptedRecognizer([]), vad=True)
    heard = []
    for start in range(0, len(audio), 320):
        heard.extend(listener.feed(audio[start:start + 320], NOTHING))
    onsets = [h.t for h in heard if h.intent.kind == "speech"]
    assert len(onsets) == 2
    assert 0.5 <= onsets[0] < 1.5 and 2.5 <= onsets[1] < 3.5
    assert abs((onsets[1] - onsets[0]) - 2.0) < 0.1  # the same word, 2 s later


def test_keyboard_lines_become_intents() -> None:
    listener = IntentListener(KeyboardRecognizer(["  Stop ", "", "7", "yes"]), vad=False)
    heard = listener.feed(BLOCK, RATING)
    assert [(h.intent.kind, h.intent.value) for h in heard] == [
        ("stop", None), ("rating", 7), ("unknown", None)]


def test_keyboard_reads_a_pipe_without_threads() -> None:
    read_end, write_end = os.pipe()
    with os.fdopen(read_end) as stream:
        recognizer = KeyboardRecognizer(stream=stream)
        assert recognizer.accept(BLOCK) == []
        os.write(write_end, b"four\nsto")
        assert recognizer.accept(BLOCK) == [Hypothesis("four", True)]
        os.write(write_end, b"p\n")
        os.close(write_end)
        assert recognizer.accept(BLOCK) == [Hypothesis("stop", True)]
        assert recognizer.at_end


def test_keyboard_reads_a_stream_without_a_file_descriptor() -> None:
    recognizer = KeyboardRecognizer(stream=io.StringIO("one\ntwo\n"))
    heard: list[Hypothesis] = []
    for _ in range(200):  # the reader thread needs a moment; bounded
        heard.extend(recognizer.accept(BLOCK))
        if recognizer.at_end:
            break
        import time
        time.sleep(0.01)
    assert [h.text for h in heard] == ["one", "two"]


def test_vocabulary_holds_every_word_the_session_acts_on() -> None:
    phrases = session_vocabulary(("halt now",))
    assert phrases[:3] == ["stop", "i need to stop", "i need a break"]
    for phrase in ("halt now", "zero", "oh", "ten", "yes", "no", "ready", "slow down", "pause"):
        assert phrase in phrases
    assert len(phrases) == len(set(phrases))
    assert "halt" in vocabulary_words(phrases)
