"""Files and folders that hold personal data: readable by their owner only.

Everything the project writes about a client (event logs, reports, exports, kept audio,
a recorded message, the profile) goes through here, so that it is 0600 in a 0700 folder
whatever the umask, and also when it replaces or appends to a file that already existed
with wider permissions: ``os.open``'s mode applies only to files it creates, so an
explicit ``fchmod`` covers the rest.
"""

from __future__ import annotations

import contextlib
import os
from pathlib import Path
from typing import IO

FILE_MODE = 0o600
FOLDER_MODE = 0o700


def private_dir(folder: Path, *, own: bool = True) -> Path:
    """Create ``folder`` and any missing parents as 0700; with ``own``, make ``folder``
    itself 0700 even if it existed (our data folder; not a folder the user named).

    ``Path.mkdir(parents=True, mode=...)`` gives the parents it creates the default mode
    (0755 under the usual umask), which would leave a fresh data folder open to others.
    Parents that already existed are left as they are: they are not ours.
    """
    missing: list[Path] = []
    current = folder
    while not current.exists():
        missing.append(current)
        if current.parent == current:
            break
        current = current.parent
    for each in reversed(missing):
        with contextlib.suppress(FileExistsError):  # made by another process meanwhile
            each.mkdir(mode=FOLDER_MODE)
    if own:
        os.chmod(folder, FOLDER_MODE)
    return folder


def open_private(path: Path, mode: str = "w", *, encoding: str | None = "utf-8") -> IO:
    """Open ``path`` for writing ("w", "a", "wb", "ab"), user-only even if it existed."""
    flags = os.O_WRONLY | os.O_CREAT
    flags |= os.O_APPEND if mode.startswith("a") else os.O_TRUNC
    fd = os.open(path, flags, FILE_MODE)
    try:
        os.fchmod(fd, FILE_MODE)
        if "b" in mode:
            return os.fdopen(fd, mode)
        return os.fdopen(fd, mode, encoding=encoding)
    except BaseException:
        os.close(fd)
        raise


def reserve_private(path: Path) -> Path:
    """Make sure ``path`` exists as a 0600 file before a library writes it.

    ``wave``, pydub and ffmpeg create files with the umask's mode (0644), but truncating
    an existing file keeps its mode: so the file is created (or narrowed) here first.
    """
    os.close(os.open(path, os.O_WRONLY | os.O_CREAT, FILE_MODE))
    os.chmod(path, FILE_MODE)
    return path


def make_private(path: Path) -> None:
    """Narrow an existing file written by a library (``wave``, pydub) to 0600."""
    os.chmod(path, FILE_MODE)
