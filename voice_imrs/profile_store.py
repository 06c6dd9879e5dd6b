"""Reading and writing the profile as TOML in the user's config folder.

The folder is ``platformdirs.user_config_dir("voice-imrs")``, or ``$VOICE_IMRS_CONFIG_DIR``
when set (tests, portable installs); a ``--profile FILE`` path overrides both. The file
may hold personal words (a safe place, an anchor phrase), so it is written readable by
its owner only (0600) in a folder only its owner can enter (0700).
"""

from __future__ import annotations

import os
import re
import tempfile
from pathlib import Path

import tomli_w
import tomllib  # Python 3.11+ (pyproject's requires-python)

from voice_imrs.core.profile import Profile, profile_from_mapping, profile_to_mapping
from voice_imrs.errors import FileLimitError, ProfileError
from voice_imrs.file_limits import PROFILE_LIMIT, read_text_limited
from voice_imrs.private_files import private_dir

CONFIG_ENV = "VOICE_IMRS_CONFIG_DIR"
PROFILE_NAME = "profile.toml"


def config_dir() -> Path:
    """The folder holding the profile (not created here)."""
    override = os.environ.get(CONFIG_ENV)
    if override:
        return Path(override).expanduser()
    import platformdirs

    return Path(platformdirs.user_config_dir("voice-imrs"))


def profile_path(path: str | os.PathLike[str] | None = None) -> Path:
    """``path`` when given, else the profile file in ``config_dir()``."""
    return Path(path).expanduser() if path else config_dir() / PROFILE_NAME


def load_profile(path: str | os.PathLike[str] | None = None) -> Profile:
    """The profile in ``path`` (default: the user's); defaults when the file does not exist.

    A malformed file or an invalid value raises ProfileError naming the file, the key and
    the valid values.
    """
    file = profile_path(path)
    try:
        text = read_text_limited(file, "profile", PROFILE_LIMIT)
    except FileNotFoundError:
        return Profile()
    except FileLimitError as error:
        raise ProfileError(error.message, hint=error.hint) from None
    except (OSError, UnicodeDecodeError) as error:
        raise ProfileError(f"{file}: the profile cannot be read ({error}).",
                           hint="Check the file's permissions, or remove it to start "
                                "from the defaults.") from None
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        line = re.search(r"line (\d+)", str(error))
        where = f"{file}, line {line.group(1)}" if line else str(file)
        raise ProfileError(f"{where}: the profile is not valid TOML ({error}).",
                           hint="Fix that line, or run `voice-imrs setup` to write a "
                                "new profile.") from None
    return profile_from_mapping(data, str(file))


def save_profile(profile: Profile, path: str | os.PathLike[str] | None = None) -> Path:
    """Write ``profile`` (user-only permissions, replaced atomically); returns the file."""
    file = profile_path(path)
    try:
        # Our config folder is made 0700; a folder the user named keeps its mode.
        private_dir(file.parent, own=file.parent == config_dir())
        data = tomli_w.dumps(profile_to_mapping(profile))
        handle, temporary = tempfile.mkstemp(prefix=".profile-", suffix=".toml",
                                             dir=file.parent)
        try:
            # mkstemp creates the file 0600 already; chmod states the intent and covers
            # unusual umasks or filesystems.
            os.chmod(temporary, 0o600)
            with os.fdopen(handle, "w", encoding="utf-8") as stream:
                stream.write("# voice-imrs profile. Change it with `voice-imrs profile set "
                             "KEY VALUE` or `voice-imrs setup`.\n")
                stream.write(data)
            os.replace(temporary, file)
        except BaseException:
            Path(temporary).unlink(missing_ok=True)
            raise
    except OSError as error:
        raise ProfileError(f"{file}: the profile cannot be written ({error}).",
                           hint="Check that the folder exists and is writable, or pass "
                                "--profile FILE.") from None
    return file
