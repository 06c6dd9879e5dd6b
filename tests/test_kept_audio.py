"""Kept session audio: a playable WAV while it is written, complete once closed."""

from __future__ import annotations

import stat
import subprocess
import sys
from pathlib import Path

import numpy as np

from voice_imrs.audio.wav import read_wav
from voice_imrs.ports import ASR_RATE
from voice_imrs.records.kept_audio import KeptAudio

BLOCK = ASR_RATE // 50  # 20 ms, as the microphone delivers them


def _blocks(seconds: float) -> list[np.ndarray]:
    rng = np.random.default_rng(7)
    return [rng.integers(-8000, 8000, BLOCK).astype(np.int16)
            for _ in range(int(seconds * 50))]


def test_closed_file_holds_every_block_and_only_the_user_may_read_it(tmp_path: Path) -> None:
    blocks = _blocks(2.5)
    kept = KeptAudio(tmp_path / "audio" / "session-1.wav")
    for block in blocks:
        kept.write(block)
    kept.close()
    kept.close()  # a second close is harmless (a fault path may close again)
    audio, rate = read_wav(kept.path)
    assert rate == ASR_RATE
    assert np.array_equal(audio, np.concatenate(blocks))
    assert stat.S_IMODE(kept.path.stat().st_mode) == 0o600


def test_a_killed_session_leaves_a_playable_file_up_to_the_last_second(tmp_path: Path) -> None:
    path = tmp_path / "session-2.wav"
    writer = (
        "import sys, os, signal, numpy as np\n"
        "from pathlib import Path\n"
        "from voice_imrs.records.kept_audio import KeptAudio\n"
        "kept = KeptAudio(Path(sys.argv[1]))\n"
        "rng = np.random.default_rng(7)\n"
        f"for _ in range(175):\n"
        f"    kept.write(rng.integers(-8000, 8000, {BLOCK}).astype(np.int16))\n"
        "os.kill(os.getpid(), signal.SIGKILL)\n"
    )
    done = subprocess.run([sys.executable, "-c", writer, str(path)], check=False)
    assert done.returncode == -9
    audio, _ = read_wav(path)  # the header is valid without a close
    written = np.concatenate(_blocks(3.5))
    assert 3.0 * ASR_RATE <= len(audio) <= len(written)
    assert np.array_equal(audio, written[: len(audio)])
