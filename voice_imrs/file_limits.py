"""Bounded reads of the files a user hands us: scripts, scenarios, profiles, WAVs.

A path may name anything: ``/dev/zero`` (endless), a FIFO (blocks for ever), a 10 GB
file. Only regular files are read, and never more than a limit that is far above any
real file of that kind; a file over it is refused with one sentence before memory or
time run out.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

from voice_imrs.errors import FileLimitError

KB = 1024
MB = 1024 * KB
#: Far above any real file of each kind (the library's longest script is about 20 KB).
SCRIPT_LIMIT = 1 * MB
SCENARIO_LIMIT = 1 * MB
PROFILE_LIMIT = 256 * KB
#: About 10 minutes of 16-bit stereo at 44.1 kHz.
WAV_LIMIT = 100 * MB


def _size_words(limit: int) -> str:
    return f"{limit // MB} MB" if limit >= MB else f"{limit // KB} KB"


def check_regular(path: Path, what: str, limit: int) -> int:
    """The size of ``path``, which must be a regular file of at most ``limit`` bytes.

    FileNotFoundError passes through, so callers keep their own "no such file" message.
    """
    info = os.stat(path)
    if not stat.S_ISREG(info.st_mode):
        raise FileLimitError(f"{path}: the {what} is not a regular file.",
                             hint=f"Give the path of a {what} file.")
    if info.st_size > limit:
        raise FileLimitError(f"{path}: the {what} is larger than {_size_words(limit)}.",
                             hint=f"Check that this is the {what} you meant.")
    return info.st_size


def read_bytes_limited(path: Path, what: str, limit: int) -> bytes:
    """The bytes of a regular file of at most ``limit`` bytes (checked while reading too:
    a file that grows after the check is still cut off at the limit).
    """
    check_regular(path, what, limit)
    with open(path, "rb") as stream:
        data = stream.read(limit + 1)
    if len(data) > limit:
        raise FileLimitError(f"{path}: the {what} is larger than {_size_words(limit)}.",
                             hint=f"Check that this is the {what} you meant.")
    return data


def read_text_limited(path: Path, what: str, limit: int) -> str:
    """UTF-8 text of a regular file of at most ``limit`` bytes (UnicodeDecodeError passes)."""
    return read_bytes_limited(path, what, limit).decode("utf-8")
