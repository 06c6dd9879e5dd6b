"""``forget --all``: delete what voice-imrs wrote about the user, and nothing else.

Only files this program creates are deleted, by name, and only inside its own two folders:
the data folder (the record database and its write-ahead files, records set aside as
damaged, kept session audio, recorded messages and takes) and the config folder (the
profile and the temporary files of its atomic replace). Anything else found there is left
and reported; downloaded recognition models are kept (they hold nothing about the user).
A ``--profile`` path outside those folders is refused before anything is touched, so a
mistyped or hostile path can never reach a user's other files. Symbolic links are removed
as links, never followed. Deleting is unlinking: on flash storage no program can promise
that the blocks are overwritten, so the store also keeps ``secure_delete`` on for sessions
forgotten one by one.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

from voice_imrs.errors import VoiceImrsError
from voice_imrs.records.store import DB_NAME

KEPT_ON_FORGET = ("models",)  # downloaded recognition models: not the user's data
#: Files of the data folder itself, by name (native.log: the native libraries' noise).
_DATA_FILES = re.compile(
    rf"^(native\.log|{re.escape(DB_NAME)}(-wal|-shm|-journal)?"
    rf"|{re.escape(DB_NAME)}\.damaged-[0-9T:.\-]+(-wal|-shm)?)$")
#: Sub-folders we create, and the files we create in them (a pattern per depth).
_DATA_FOLDERS: dict[str, tuple[re.Pattern[str], ...]] = {
    "audio": (re.compile(r"^session-\d+\.wav$"),),
    "voices": (re.compile(r"^[A-Za-z0-9_.\-]+$"),  # one folder per recorded voice
               re.compile(r"^(index\.json(\.tmp)?|[A-Za-z0-9_.\-]+\.wav)$")),
}
_CONFIG_FILES = re.compile(r"^(profile\.toml|\.profile-[A-Za-z0-9_]+\.toml)$")


class ForgetRefused(VoiceImrsError):
    """A path ``forget`` will not delete: it is not one of voice-imrs's own files."""

    exit_code = 2


@dataclass
class ForgetResult:
    """What was deleted, and what was found in our folders but left (not ours)."""

    deleted: list[Path] = field(default_factory=list)
    left: list[Path] = field(default_factory=list)


def _inside(path: Path, folder: Path) -> bool:
    try:
        path.resolve(strict=False).relative_to(folder.resolve(strict=False))
    except ValueError:
        return False
    return True


def check_profile_path(profile: Path, data_folder: Path, config_folder: Path) -> None:
    """Refuse a profile ``forget`` did not write in its own folders (before any deletion)."""
    if not (_inside(profile.parent, config_folder) or _inside(profile.parent, data_folder)):
        raise ForgetRefused(
            f"forget deletes only voice-imrs's own files, and {profile} is outside its "
            f"folders ({config_folder} and {data_folder}).",
            hint="Nothing was deleted. Delete that file yourself if you mean to, or leave "
                 "out --profile.")
    if profile.is_symlink() or (profile.exists() and not profile.is_file()):
        raise ForgetRefused(f"forget will not delete {profile}: it is not a profile file.",
                            hint="Nothing was deleted.")
    if profile.suffix != ".toml":
        raise ForgetRefused(f"forget will not delete {profile}: a profile is a .toml file.",
                            hint="Nothing was deleted.")


def _unlink(path: Path, result: ForgetResult) -> None:
    path.unlink(missing_ok=True)
    result.deleted.append(path)


def _sweep(folder: Path, patterns: tuple[re.Pattern[str], ...], result: ForgetResult) -> None:
    """Delete the entries of ``folder`` that match ``patterns[0]`` (deeper levels by the
    following patterns); rmdir ``folder`` when it ends up empty.
    """
    if folder.is_symlink():
        _unlink(folder, result)  # the link only, never what it points at
        return
    for entry in sorted(folder.iterdir()):
        if not patterns[0].match(entry.name):
            result.left.append(entry)
        elif entry.is_symlink() or entry.is_file():
            _unlink(entry, result)
        elif entry.is_dir() and len(patterns) > 1:
            _sweep(entry, patterns[1:], result)
        else:
            result.left.append(entry)
    if not any(folder.iterdir()):
        folder.rmdir()
        result.deleted.append(folder)


def forget_all(data_folder: Path, config_folder: Path,
               profile: Path | None = None) -> ForgetResult:
    """Delete our files in ``data_folder`` and ``config_folder`` (and ``profile``).

    ``profile`` must lie in one of the two folders (``check_profile_path``); it is checked
    before anything is deleted. Each folder itself goes when nothing is left in it.
    """
    if profile is not None:
        check_profile_path(profile, data_folder, config_folder)
    result = ForgetResult()
    if data_folder.is_dir() and not data_folder.is_symlink():
        for entry in sorted(data_folder.iterdir()):
            if entry.name in KEPT_ON_FORGET and entry.is_dir():
                continue
            if _DATA_FILES.match(entry.name) and (entry.is_file() or entry.is_symlink()):
                _unlink(entry, result)
            elif entry.name in _DATA_FOLDERS and entry.is_dir():
                _sweep(entry, _DATA_FOLDERS[entry.name], result)
            else:
                result.left.append(entry)
        if not any(data_folder.iterdir()):
            data_folder.rmdir()
    if profile is not None and (profile.is_file() or profile.is_symlink()):
        _unlink(profile, result)
    if config_folder.is_dir() and not config_folder.is_symlink():
        for entry in sorted(config_folder.iterdir()):
            if _CONFIG_FILES.match(entry.name) and entry.is_file():
                _unlink(entry, result)
        if not any(config_folder.iterdir()):
            config_folder.rmdir()
    return result
