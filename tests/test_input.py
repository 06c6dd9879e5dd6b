"""Input sources: WAV files (rates, padding, pacing, bad files) and a real sound device."""

from __future__ import annotations

import subprocess
import time
from pathlib import Path

import numpy as np
import pytest

from voice_imrs.audio.input import BLOCK, TAIL_S, WavFileSource
from voice_imrs.audio.wav import write_wav
from voice_imrs.errors import AudioFormatError
from voice_imrs.ports import ASR_RATE, AudioSource


def _tone(rate: int, seconds: float) -> np.ndarray:
    t = np.arange(int(rate * seconds)) / rate
    return (np.sin(2 * np.pi * 440 * t) * 8000).astype(np.int16)


def _drain(source: AudioSource) -> list[np.ndarray]:
    blocks = []
    while (block := source.read()) is not None:
        blocks.append(block)
    return blocks


def test_wav_source_gives_20ms_blocks_and_a_silent_tail(tmp_path: Path) -> None:
    write_wav(tmp_path / "a.wav", _tone(ASR_RATE, 1.0), ASR_RATE)
    source = WavFileSource(tmp_path / "a.wav")
    assert isinstance(source, AudioSource)
    blocks = _drain(source)
    assert all(len(b) == BLOCK for b in blocks[:-1])
    audio = np.concatenate(blocks)
    assert len(audio) == ASR_RATE + int(TAIL_S * ASR_RATE)
    assert not audio[ASR_RATE:].any()
    assert source.duration_s == pytest.approx(1.0)


def test_other_rates_are_resampled_to_16k(tmp_path: Path) -> None:
    write_wav(tmp_path / "b.wav", _tone(44_100, 1.0), 44_100)
    audio = np.concatenate(_drain(WavFileSource(tmp_path / "b.wav")))
    assert len(audio) == pytest.approx(ASR_RATE * (1 + TAIL_S), abs=2)
    spectrum = np.abs(np.fft.rfft(audio[:ASR_RATE]))
    assert np.argmax(spectrum) == pytest.approx(440, abs=2)  # 1 Hz bins over 1 s


def test_realtime_pacing_takes_as_long_as_the_audio(tmp_path: Path) -> None:
    write_wav(tmp_path / "c.wav", _tone(ASR_RATE, 0.3), ASR_RATE)
    start = time.monotonic()
    _drain(WavFileSource(tmp_path / "c.wav", realtime=True))
    assert 0.7 <= time.monotonic() - start < 2.0  # 0.3 s audio + 0.5 s tail


@pytest.mark.parametrize("content", [b"", b"this is not a wav file at all", None])
def test_bad_files_are_clear_errors(tmp_path: Path, content: bytes | None) -> None:
    path = tmp_path / "bad.wav"
    if content is None:
        write_wav(path, np.zeros(0, np.int16), ASR_RATE)  # a header and no samples
    else:
        path.write_bytes(content)
    with pytest.raises(AudioFormatError, match=r"bad\.wav"):
        WavFileSource(path)


def test_missing_file_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(AudioFormatError, match="does not exist"):
        WavFileSource(tmp_path / "nope.wav")


def test_sound_device_source_hears_what_is_played_into_the_microphone(
        pulse: str, tmp_path: Path) -> None:
    from voice_imrs.audio.input import SoundDeviceSource

    write_wav(tmp_path / "tone.wav", _tone(ASR_RATE, 0.5), ASR_RATE)
    source = SoundDeviceSource("default")
    try:
        subprocess.run(["paplay", "--device=mic_feed", str(tmp_path / "tone.wav")],
                       check=True, timeout=10)
        heard = []
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline:
            block = source.read()
            assert block is not None and block.dtype == np.int16 and len(block) == BLOCK
            heard.append(block)
            if np.abs(np.concatenate(heard)).max() > 4000 and len(heard) > 10:
                break
        assert np.abs(np.concatenate(heard)).max() > 4000
    finally:
        source.close()
    assert source.read() is None


def test_unknown_device_is_a_device_error(pulse: str) -> None:
    from voice_imrs.audio.input import SoundDeviceSource
    from voice_imrs.errors import DeviceError

    with pytest.raises(DeviceError, match="no-such-microphone"):
        SoundDeviceSource("no-such-microphone")
