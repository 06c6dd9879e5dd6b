"""PocketSphinx through our interface: real clips, espeak-ng speech, and the loopback device."""

from __future__ import annotations

import subprocess
import threading
import time
from pathlib import Path

import numpy as np
import pytest

from voice_imrs.asr.listener import IntentListener
from voice_imrs.asr.pocketsphinx import PocketSphinxRecognizer
from voice_imrs.audio.input import WavFileSource
from voice_imrs.core.intents import NOTHING, RATING, YES_NO
from voice_imrs.ports import Hypothesis, Recognizer

DEV = Path(__file__).resolve().parent / "data" / "speech" / "dev"
STOP_CLIP = DEV / "sc2_stop_0fa1e7a9_2.wav"


def _espeak(tmp_path: Path, text: str, name: str) -> Path:
    path = tmp_path / f"{name}.wav"
    subprocess.run(["espeak-ng", "-v", "en-us", "-w", str(path), text], check=True, timeout=30)
    return path


def _hear(recognizer: Recognizer, wav: Path) -> list[Hypothesis]:
    source = WavFileSource(wav)
    heard: list[Hypothesis] = []
    while (block := source.read()) is not None:
        heard.extend(recognizer.accept(block))
    heard.extend(recognizer.finish())
    return heard


@pytest.fixture(scope="module")
def recognizer() -> PocketSphinxRecognizer:
    return PocketSphinxRecognizer()


def test_partials_then_one_final_per_utterance(recognizer: PocketSphinxRecognizer) -> None:
    assert isinstance(recognizer, Recognizer)
    assert recognizer.missing_phrases == []
    heard = _hear(recognizer, STOP_CLIP)
    partials = [h for h in heard if not h.final]
    finals = [h for h in heard if h.final]
    assert any(h.text == "stop" for h in partials)
    assert [h.text for h in finals] == ["stop"]
    assert heard.index(finals[0]) > heard.index(partials[0])


def test_silence_and_noise_give_nothing(recognizer: PocketSphinxRecognizer) -> None:
    quiet = np.zeros(16_000, np.int16)
    assert recognizer.accept(quiet) == [] and recognizer.finish() == []


def test_reset_forgets_the_utterance_in_progress(recognizer: PocketSphinxRecognizer) -> None:
    source = WavFileSource(STOP_CLIP)
    heard: list[Hypothesis] = []
    while (block := source.read()) is not None:
        heard.extend(recognizer.accept(block))
        if any(h.text == "stop" for h in heard):
            recognizer.reset()
            heard.clear()
    heard.extend(recognizer.finish())
    assert not any(h.final for h in heard)  # the stop acted on is not heard again


def test_espeak_phrases_through_the_listener(tmp_path: Path) -> None:
    listener = IntentListener(PocketSphinxRecognizer(), vad=False)
    # PocketSphinx hears espeak-ng's digits unevenly ("seven" as "what", "five" as
    # "volume up"); "three" and "zero" came through reliably, so those carry the path.
    cases = [("i need a break", NOTHING, ("stop", None)), ("three", RATING, ("rating", 3)),
             ("yes", YES_NO, ("yes", None)), ("slow down", NOTHING, ("slower", None))]
    for index, (text, expect, wanted) in enumerate(cases):
        source = WavFileSource(_espeak(tmp_path, text, f"p{index}"))
        heard = []
        while (block := source.read()) is not None:
            heard.extend(listener.feed(block, expect))
        heard.extend(listener.finish(expect))
        listener.reset()
        assert [(h.intent.kind, h.intent.value) for h in heard][:1] == [wanted], text


def test_a_rating_not_asked_for_is_ignored(tmp_path: Path) -> None:
    listener = IntentListener(PocketSphinxRecognizer(), vad=False)
    source = WavFileSource(_espeak(tmp_path, "three", "three"))
    heard = []
    while (block := source.read()) is not None:
        heard.extend(listener.feed(block, NOTHING))
    heard.extend(listener.finish(NOTHING))
    assert not [h for h in heard if h.intent.kind == "rating"]


def test_loopback_rating_spoken_into_the_microphone(pulse: str, tmp_path: Path) -> None:
    """espeak-ng -> paplay into mic_feed -> the default source "mic" -> a rating intent."""
    from voice_imrs.audio.input import SoundDeviceSource

    wav = _espeak(tmp_path, "three", "three")
    listener = IntentListener(PocketSphinxRecognizer(), vad=False)
    source = SoundDeviceSource()
    player = threading.Thread(
        target=lambda: subprocess.run(["paplay", "--device=mic_feed", str(wav)],
                                      check=True, timeout=10),
        name="paplay")
    heard = []
    try:
        for _ in range(10):  # let the stream settle before speaking
            source.read()
        player.start()
        deadline = time.monotonic() + 8
        while time.monotonic() < deadline and not heard:
            block = source.read()
            assert block is not None
            heard.extend(h for h in listener.feed(block, RATING) if h.intent.kind != "speech")
    finally:
        source.close()
        player.join(timeout=10)
    assert [(h.intent.kind, h.intent.value) for h in heard] == [("rating", 3)]
