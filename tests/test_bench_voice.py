"""``bench voice`` on a few prompts, with floors: the neural voice says built-in prompts so
that Whisper tiny.en hears their words, and the key words one by one."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from benchmarks import voice
from voice_imrs.ports import VoiceSettings
from voice_imrs.tts.registry import make_synthesizer

ROOT = Path(__file__).resolve().parent.parent
#: Prompts that the full run (docs/BENCHMARKS.md) heard without an error; the floor leaves
#: room for the voice's own variation from one rendering to the next.
FLOOR_PROMPTS = {("safe_place", "welcome"), ("safe_place", "see"),
                 ("grounding_54321", "grounding_finish")}
PROMPT_FLOOR = 0.25
#: Each key word must be heard right in at least this many of three tries.
KEY_WORD_TRIES, KEY_WORD_FLOOR = 3, 2


@pytest.fixture(scope="module")
def synth():
    return make_synthesizer("auto")


def test_words_and_word_error_rate() -> None:
    assert voice.words("From 0 to 10, how distressed?") == [
        "from", "zero", "to", "ten", "how", "distressed"]
    assert voice.words("Your Q word, the colors.") == ["your", "cue", "word", "the", "colours"]
    assert voice.wer("breathe in and out", "breathe in and out") == 0.0
    assert voice.wer("breathe in and out", "breathe in out") == 0.25
    assert voice.wer("how distressed do you feel", "how to stress do you feel") == 0.4


def test_every_builtin_prompt_is_listed_once() -> None:
    prompts = voice.builtin_prompts()
    texts = [p.text for p in prompts]
    assert len(texts) == len(set(texts)) > 80
    assert not any("{" in text or "[" in text for text in texts), "placeholders filled"
    keys = {(p.script, p.step) for p in prompts}
    assert keys >= FLOOR_PROMPTS
    # Breathing cues too (listed once, under the first script whose plan says them).
    assert {"Breathe in", "and out"} <= set(texts), "breathing cues too"
    assert any(p.step.startswith("grounding_stop") for p in prompts), "the safety steps too"


def test_floor_per_prompt(synth) -> None:
    chosen = [p for p in voice.builtin_prompts() if (p.script, p.step) in FLOOR_PROMPTS]
    summary = voice.measure_prompts(synth, chosen, VoiceSettings(rate_wpm=125), show=False)
    for row in summary["rows"]:
        assert row["wer"] <= PROMPT_FLOOR, row
    assert 105 <= summary["speech_wpm"] <= 145, summary["speech_wpm"]


@pytest.mark.parametrize("word", ["distress", "grounding", "rescripting", "seven"])
def test_key_words_are_heard(synth, word: str) -> None:
    heard = [voice.check_key_words(synth, VoiceSettings(), [word], show=False)[word]
             for _ in range(KEY_WORD_TRIES)]
    assert sum(result["ok"] for result in heard) >= KEY_WORD_FLOOR, heard


def test_bench_voice_prints_json_last() -> None:
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    done = subprocess.run([sys.executable, "-m", "voice_imrs", "bench", "voice", "--script",
                           "micro_imagery", "--limit", "1", "--key-word", "ten"],
                          cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    summary = json.loads(done.stdout.strip().splitlines()[-1])
    assert summary["bench"] == "voice" and summary["synthesizer"] == "piper"
    assert summary["prompts"] == 1 and summary["key_words"] == 1
    assert 0.0 <= summary["wer"] <= 1.0 and summary["rtf"] > 0
