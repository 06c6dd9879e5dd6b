"""The microphone audio of a session, kept only when the profile's ``store_audio`` is on.

One WAV file per recorded session in the data folder's ``audio/`` (readable by the user
only), deleted with its session by ``forget``. Written block by block as the session
hears it, and the header's lengths are brought up to date every second, so a session
cut short, even by SIGKILL, leaves a playable file of what was heard until then.
"""

from __future__ import annotations

import os
import struct
from pathlib import Path

from voice_imrs.ports import ASR_RATE, PCM
from voice_imrs.private_files import private_dir

AUDIO_FOLDER = "audio"
_BYTES_PER_SAMPLE = 2


def session_audio_path(data_folder: Path, session_id: int) -> Path:
    """Where the audio of session ``session_id`` is kept (whether or not it exists)."""
    return data_folder / AUDIO_FOLDER / f"session-{session_id}.wav"


def _header(data_bytes: int) -> bytes:
    """A 16-bit mono PCM WAV header at the recognizer's rate for ``data_bytes`` of samples."""
    return (b"RIFF" + struct.pack("<I", 36 + data_bytes) + b"WAVE"
            + b"fmt " + struct.pack("<IHHIIHH", 16, 1, 1, ASR_RATE,
                                    ASR_RATE * _BYTES_PER_SAMPLE, _BYTES_PER_SAMPLE, 16)
            + b"data" + struct.pack("<I", data_bytes))


class KeptAudio:
    """A 16 kHz mono WAV file written as microphone blocks arrive (user-only permissions)."""

    def __init__(self, path: Path) -> None:
        private_dir(path.parent)
        self.path = path
        # Unbuffered writes: what was heard is in the file even if the process is killed.
        self._fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        os.fchmod(self._fd, 0o600)  # a file left from before keeps its mode otherwise
        os.write(self._fd, _header(0))
        self._data_bytes = 0
        self._lengths_at = 0  # data bytes the header last announced

    def write(self, block: PCM) -> None:
        data = block.astype("<i2", copy=False).tobytes()
        os.write(self._fd, data)
        self._data_bytes += len(data)
        if self._data_bytes - self._lengths_at >= ASR_RATE * _BYTES_PER_SAMPLE:
            self._update_lengths()

    def close(self) -> None:
        if self._fd < 0:
            return
        self._update_lengths()
        os.close(self._fd)
        self._fd = -1

    def _update_lengths(self) -> None:
        # pwrite leaves the file position at the end, where the next block goes.
        os.pwrite(self._fd, _header(self._data_bytes), 0)
        self._lengths_at = self._data_bytes
