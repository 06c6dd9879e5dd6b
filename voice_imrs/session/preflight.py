"""Every choice a session depends on, checked before it starts (and before it is recorded).

A voice, recorded voice or background named on the command line or in the profile used to
be looked up at first use: the session was recorded, began, and then died. Here each is
checked in one pass, so a mistake is one clear sentence and no session at all.
"""

from __future__ import annotations

import re

from voice_imrs.core.profile import Profile
from voice_imrs.errors import ValueRangeError, VoiceImrsError

#: Names that become file or folder names (a recorded voice, a background texture):
#: letters, digits, ``_``, ``-`` and ``.``, never a path (``../../etc``).
SAFE_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.\-]{0,63}$")


def check_safe_name(what: str, name: str) -> str:
    """``name`` when it can be a folder name of ours, else ValueRangeError."""
    if not SAFE_NAME.match(name) or ".." in name:
        raise ValueRangeError(f"The {what} {name!r} is not a valid name.",
                              hint="Use letters, digits, '-', '_' or '.' only; never a path.")
    return name


def check_listening(recognizer: str, keyboard: bool) -> None:
    """A session must have some way to hear a stop."""
    if recognizer.strip().lower() == "keyboard" and not keyboard:
        raise ValueRangeError(
            "--recognizer keyboard with --no-keyboard leaves nothing that can hear you, "
            "not even a stop.",
            hint="Leave out --no-keyboard, or choose a speech recognizer.")


def check_voice(tts: str, voice: str) -> None:
    """The synthesizer ``tts`` exists and knows ``voice`` ("" is its default voice)."""
    from voice_imrs.tts.registry import make_synthesizer

    synth = make_synthesizer(tts)
    try:
        if voice:
            check = (getattr(synth, "check_voice", None)
                     or getattr(synth, "espeak_voice_name", None)
                     or getattr(synth, "voice_id", None))
            if callable(check):
                check(voice)
    finally:
        close = getattr(synth, "close", None)
        if callable(close):
            close()


def check_recorded_voice(name: str) -> None:
    from voice_imrs.render.takes import TakeLibrary, recorded_voices
    from voice_imrs.session.recorded_voice import UnknownRecordedVoiceError

    check_safe_name("recorded voice", name)
    library = TakeLibrary(name)
    if not library.index():
        known = ", ".join(recorded_voices(library.root)) or "none yet"
        raise UnknownRecordedVoiceError(
            f"There is no recorded voice named {name!r} (recorded voices: {known}).",
            hint=f"Record one with `voice-imrs record-prompts SCRIPT --voice-name {name}`, "
                 "or choose another.")


def check_background(name: str) -> None:
    from voice_imrs.render.assets import check_texture

    if name and name.strip().lower() != "none":
        check_texture(name)


def check_session_choices(profile: Profile, *, tts: str = "auto", voice: str | None = None,
                          recorded_voice: str | None = None, background: str | None = None,
                          recognizer: str | None = None, keyboard: bool = True) -> None:
    """Check what a session will use: command-line choices first, else the profile's.

    Raises the first problem as a VoiceImrsError (one sentence naming the choice).
    """
    if recognizer is not None:
        check_listening(recognizer, keyboard)
    chosen_voice = voice if voice is not None else profile.voice
    try:
        check_voice(tts, chosen_voice)
    except VoiceImrsError as error:
        if voice is None and chosen_voice:  # say where the bad name came from
            from_profile = VoiceImrsError(
                f"Your profile's voice {chosen_voice!r} is not available ({error.message})",
                hint="Change it with `voice-imrs profile set voice NAME` "
                     "(see `voice-imrs voices`).")
            from_profile.exit_code = error.exit_code
            raise from_profile from None
        raise
    recorded = profile.recorded_voice if recorded_voice is None else recorded_voice
    if recorded:
        check_recorded_voice(recorded)
    check_background(profile.background if background is None else background)
