"""The microphone audio of a session, kept only when the profile's ``store_audio`` is on.

One WAV file per recorded session in the data folder's ``audio/`` (readable by the user
only), deleted with its session by ``forget``. Written block by block as the session
hears it, so a session cut short keeps what was heard until then.
"""

from __future__ import annotations

import os
import wave
from pathlib import Path

from voice_imrs.ports import ASR_RATE, PCM

AUDIO_FOLDER = "audio"


def session_audio_path(data_folder: Path, session_id: int) -> Path:
    """Where the audio of session ``session_id`` is kept (whether or not it exists)."""
    return data_folder / AUDIO_FOLDER / f"session-{session_id}.wav"


class KeptAudio:
    """A 16 kHz mono WAV file written as microphone blocks arrive (user-only permissions)."""

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        self.path = path
        self._file = os.fdopen(descriptor, "wb")
        self._wav = wave.open(self._file, "wb")  # noqa: SIM115 - open for the whole session
        self._wav.setnchannels(1)
        self._wav.setsampwidth(2)
        self._wav.setframerate(ASR_RATE)

    def write(self, block: PCM) -> None:
        self._wav.writeframesraw(block.tobytes())

    def close(self) -> None:
        self._wav.close()  # writes the final lengths into the header
        self._file.close()
