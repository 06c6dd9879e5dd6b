"""One root error for everything a user can fix, each subclass carrying its context.

The CLI prints ``str(error)`` as one sentence and exits with ``error.exit_code``; a
traceback is never shown for these.
"""

from __future__ import annotations

from collections.abc import Iterable


class VoiceImrsError(Exception):
    """Root of every error a user can act on."""

    exit_code = 1

    def __init__(self, message: str, *, hint: str = "") -> None:
        self.message = message
        self.hint = hint
        super().__init__(f"{message} {hint}".strip())


def _choices(choices: Iterable[str]) -> str:
    listed = sorted(set(choices))
    return ", ".join(listed) if listed else "(none)"


class UnknownChoiceError(VoiceImrsError):
    """A name (voice, recognizer, device, script...) that is not among the valid choices."""

    exit_code = 2

    def __init__(self, what: str, given: str, choices: Iterable[str]) -> None:
        self.what, self.given, self.choices = what, given, sorted(set(choices))
        super().__init__(f"Unknown {what} {given!r}.",
                         hint=f"Choose one of: {_choices(self.choices)}.")


class ScriptError(VoiceImrsError):
    """A script file that is malformed or inconsistent; names the file and line or step."""

    exit_code = 3

    def __init__(self, message: str, *, file: str = "", line: int | None = None,
                 step: str | None = None, hint: str = "") -> None:
        self.file, self.line, self.step = file, line, step
        self.detail = message  # without the location, for whoever adds it again
        where = file or "script"
        if line is not None:
            where += f", line {line}"
        if step is not None:
            where += f", step {step!r}"
        super().__init__(f"{where}: {message}", hint=hint)


class ProfileError(VoiceImrsError):
    """The user's profile file cannot be read or holds an invalid value."""

    exit_code = 3


class AudioFormatError(VoiceImrsError):
    """An audio file that is missing, empty, not WAV or in a format we cannot use."""

    exit_code = 4


class DeviceError(VoiceImrsError):
    """No usable sound device, or the named one does not exist."""

    exit_code = 5


class ModelError(VoiceImrsError):
    """A recognition model that is missing, broken or lacks what we need."""

    exit_code = 6


class VoiceError(VoiceImrsError):
    """The speech synthesizer cannot be started or cannot speak with the chosen voice."""

    exit_code = 7


class RecordError(VoiceImrsError):
    """The session record store cannot be opened or written."""

    exit_code = 8


class FileLimitError(VoiceImrsError):
    """A given file that is not a regular file, or larger than its kind can be."""

    exit_code = 3


class ValueRangeError(VoiceImrsError):
    """A number or name from the command line that is out of range or not allowed."""

    exit_code = 2
