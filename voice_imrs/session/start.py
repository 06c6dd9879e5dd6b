"""``voice-imrs run``: everything around a live session, in the order a user meets it.

1. A session that ended abruptly last time (killed, power cut) is marked, and a short
   grounding is offered before anything else.
2. The consent and contraindication screen: before the first session, before every full
   rescripting session, and again after the profile's interval (30 days by default). A
   yes (or an unclear answer) to any contraindication gives the crisis resources and no
   session; the date of a completed screen is remembered in the profile. Every other
   session starts with a short check: a private place, and how to stop.
3. No exercise named: a spoken menu of what the profile's mode allows.
4. The exercise itself, recorded (events only, never audio or text unless turned on).
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from dataclasses import replace
from datetime import date
from typing import TYPE_CHECKING

from voice_imrs.core.events import LogEvent
from voice_imrs.core.profile import Profile
from voice_imrs.core.script import Script
from voice_imrs.errors import RecordError, VoiceImrsError
from voice_imrs.records.recording import open_recorder, recorded
from voice_imrs.session.live import LiveOptions, run_live
from voice_imrs.session.log_writers import JsonLinesLog
from voice_imrs.session.spoken import Answers, ask_yes, say

if TYPE_CHECKING:
    from voice_imrs.records.store import SessionRecorder

RECOVERY_GROUNDING = "grounding_54321"


class NotEnabledError(VoiceImrsError):
    """A therapist-only exercise asked for in homework mode."""

    exit_code = 9


def run_session(args: argparse.Namespace, options: LiveOptions) -> int:
    """``run`` and ``console``: the chosen exercise (or the spoken menu) with ``options``."""
    from voice_imrs.profile_store import load_profile
    from voice_imrs.script_files import builtin_scripts, find_script
    from voice_imrs.session.preflight import check_session_choices

    profile = load_profile(args.profile)
    script = find_script(args.script) if args.script else None
    if script is not None:
        check_enabled(script, profile)
    # Before anything is recorded or said: a bad name is one sentence, not a dead session.
    check_session_choices(profile, tts=options.tts, voice=options.voice,
                          recorded_voice=options.recorded_voice,
                          background=options.background, recognizer=options.recognizer,
                          keyboard=options.keyboard)

    from voice_imrs.private_files import open_private

    # The log holds the spoken text, with the profile's personal words: user-only.
    log_file = open_private(args.log, "a") if args.log else None
    extra: list[Callable[[LogEvent], None]] = [JsonLinesLog(log_file)] if log_file else []
    try:
        # Records are kept per client (`--client-code`, a therapist's code for the client).
        recorder = open_recorder(profile.store_transcripts, getattr(args, "client_code", None))
        if recorder is not None and _recover(recorder) and ask_yes(
                "Last time, the session ended suddenly. Would you like a short grounding "
                "exercise first?", profile, options, extra):
            grounding = builtin_scripts()[RECOVERY_GROUNDING]
            _run_recorded(grounding, profile, options, extra, recorder)

        screened = False
        if _needs_screen(profile, script):  # before the menu: consent comes first
            if not _screen(profile, options, extra):
                return 0
            profile, screened = _screened(profile, args.profile), True
        if script is None:
            script = _choose_from_menu(builtin_scripts(), profile, options, extra)
            if script is None:
                return 0
        if not screened and _needs_screen(profile, script):  # a rescripting session
            if not _screen(profile, options, extra):
                return 0
            profile, screened = _screened(profile, args.profile), True
        if not screened:  # the short check opens the session itself (no second start-up)
            from voice_imrs.session.conversations import with_short_check

            script = with_short_check(script)
        console = getattr(args, "console", None)  # `voice-imrs console`: the exercise only
        if console is not None:
            cue = getattr(args, "cue_output", None)
            devices = {"input": options.input_device or "default",
                       "output": options.output_device or "default",
                       **({"cue output": cue} if cue else {})}
            console = replace(console, keep_text=profile.store_transcripts, devices=devices)
        main = replace(options, console=console, cue_output=getattr(args, "cue_output", None))
        reason = _run_recorded(script, profile, main, extra, recorder)
        if (profile.spoken_summary and reason in ("completed", "stopped", "incomplete")
                and recorder is not None and recorder.write_error is None):
            from voice_imrs.records.summary import summary_of

            say(summary_of(recorder), profile, options, extra)
        if reason in ("completed", "stopped", "incomplete"):
            return 0
        return 130 if reason == "signal" else 1
    finally:
        if recorder is not None:
            recorder.close()
        if log_file:
            from voice_imrs.session.log_writers import close_log

            close_log(log_file)


def _needs_screen(profile: Profile, script: Script | None) -> bool:
    """The full screen is due (``script`` None: not yet known, so not as a therapist one)."""
    from voice_imrs.session.conversations import screen_due

    return screen_due(screen_done=profile.screen_done, screened_on=profile.screened_on,
                      interval_days=profile.screen_interval_days,
                      therapist=script is not None and script.mode == "therapist",
                      today=date.today())


def _screened(profile: Profile, path) -> Profile:
    """Remember a completed screen (and its date, for the interval) in the profile."""
    from voice_imrs.profile_store import save_profile

    profile = replace(profile, screen_done=True, screened_on=date.today().isoformat())
    save_profile(profile, path)
    return profile


def _screen(profile: Profile, options: LiveOptions,
            extra: list[Callable[[LogEvent], None]]) -> bool:
    """Run the safety screen; True only when it came out clear (consent given)."""
    from voice_imrs.session.conversations import screening_script

    outcome = Answers()
    run_live(screening_script(), profile, options, [*extra, outcome])
    if outcome.settings.get("screen") == "refer":
        # Shown as well as spoken, so it stays on the screen after the voice ends.
        print(profile.crisis_text(), flush=True)
    return outcome.settings.get("screen") == "clear"


def check_enabled(script: Script, profile: Profile) -> None:
    """Refuse a therapist-only exercise (to run or to render) unless a therapist enabled it."""
    # The message says who enables it, not how: the setting is documented for therapists.
    if script.mode == "therapist" and profile.mode != "therapist":
        raise NotEnabledError(
            f"The exercise {script.name!r} is a full rescripting session, offered only when "
            "a therapist has enabled it for you.",
            hint="Ask your therapist about it; `voice-imrs list` shows the exercises you "
                 "can do on your own.")


def _choose_from_menu(library: dict[str, Script], profile: Profile, options: LiveOptions,
                      extra: list[Callable[[LogEvent], None]]) -> Script | None:
    from voice_imrs.session.conversations import menu_script

    allowed = [s for s in library.values() if s.mode == "homework" or profile.mode == "therapist"]
    answers = Answers()
    reason = run_live(menu_script(allowed), profile, options, [*extra, answers])
    choice = answers.by_step.get("menu_choice")
    if reason != "completed" or choice is None:
        return None
    return library.get(choice)


def _recover(recorder: SessionRecorder) -> bool:
    """Mark sessions that never ended; True when one of this client's was cut off."""
    import sqlite3

    try:
        return bool(recorder.recover_killed())
    except (sqlite3.Error, RecordError):
        return False  # the session itself matters more than marking an old one


def _run_recorded(script: Script, profile: Profile, options: LiveOptions,
                  extra: list[Callable[[LogEvent], None]],
                  recorder: SessionRecorder | None) -> str:
    with recorded(recorder, script.name, profile.mode) as recording:
        if recording is None:
            return run_live(script, profile, options, extra)
        session_id = recording.session_id
        if profile.store_audio:
            from voice_imrs.records.kept_audio import session_audio_path

            options = replace(options,
                              keep_audio=session_audio_path(recording.recorder.folder,
                                                            session_id))
        if options.console is not None and options.console.notes:
            notes_to = recording.recorder

            def keep_note(text: str) -> None:
                notes_to.set_notes(session_id, text)

            options = replace(options, console=replace(options.console, on_note=keep_note))
        recording.end_reason = run_live(script, profile, options,
                                        [*extra, recording.observe])
        return recording.end_reason
