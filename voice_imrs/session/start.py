"""``voice-imrs run``: everything around a live session, in the order a user meets it.

1. A session that ended abruptly last time (killed, power cut) is marked, and a short
   grounding is offered before anything else.
2. Before the very first session: the consent and contraindication screen. A yes to any
   contraindication gives the crisis resources and no session; the screen's completion is
   remembered in the profile.
3. No exercise named: a spoken menu of what the profile's mode allows.
4. The exercise itself, recorded (events only, never audio or text unless turned on).
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from dataclasses import replace

from voice_imrs.core.events import LogEvent
from voice_imrs.core.profile import Profile
from voice_imrs.core.script import Script
from voice_imrs.errors import VoiceImrsError
from voice_imrs.session.live import LiveOptions, run_live
from voice_imrs.session.log_writers import JsonLinesLog
from voice_imrs.session.spoken import Answers, ask_yes, say

RECOVERY_GROUNDING = "grounding_54321"


class NotEnabledError(VoiceImrsError):
    """A therapist-only exercise asked for in homework mode."""

    exit_code = 9


def run_session(args: argparse.Namespace) -> int:
    from voice_imrs.cli.live_args import live_options
    from voice_imrs.profile_store import load_profile, save_profile
    from voice_imrs.script_files import builtin_scripts, find_script

    profile = load_profile(args.profile)
    options = live_options(args)
    script = find_script(args.script) if args.script else None
    if script is not None:
        _check_enabled(script, profile)

    log_file = args.log.open("a", encoding="utf-8") if args.log else None
    extra: list[Callable[[LogEvent], None]] = [JsonLinesLog(log_file)] if log_file else []
    try:
        recorder = _open_recorder(profile)
        if recorder is not None and _recover(recorder) and ask_yes(
                "Last time, the session ended suddenly. Would you like a short grounding "
                "exercise first?", profile, options, extra):
            grounding = builtin_scripts()[RECOVERY_GROUNDING]
            _run_recorded(grounding, profile, options, extra, recorder)

        if not profile.screen_done:
            from voice_imrs.session.conversations import screening_script

            outcome = Answers()
            run_live(screening_script(), profile, options, [*extra, outcome])
            if outcome.settings.get("screen") != "clear":
                return 0
            profile = replace(profile, screen_done=True)
            save_profile(profile, args.profile)

        if script is None:
            script = _choose_from_menu(builtin_scripts(), profile, options, extra)
            if script is None:
                return 0
        reason = _run_recorded(script, profile, options, extra, recorder)
        if profile.spoken_summary and reason in ("completed", "stopped"):
            from voice_imrs.records.summary import summary_of

            say(summary_of(recorder), profile, options, extra)
        return 0 if reason in ("completed", "stopped") else (130 if reason == "signal" else 1)
    finally:
        if log_file:
            log_file.close()


def _check_enabled(script: Script, profile: Profile) -> None:
    if script.mode == "therapist" and profile.mode != "therapist":
        raise NotEnabledError(
            f"The exercise {script.name!r} is a full rescripting session, offered only when "
            "a therapist has enabled it.",
            hint="Your therapist can run `voice-imrs profile set mode therapist`; "
                 "`voice-imrs list` shows the homework exercises.")


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


def _open_recorder(profile: Profile):  # noqa: ANN202
    from voice_imrs.records.store import SessionRecorder

    return SessionRecorder.open(store_transcripts=profile.store_transcripts)


def _recover(recorder) -> bool:  # noqa: ANN001
    """Mark sessions that never ended; True when there was one."""
    unfinished = recorder.unfinished_sessions()
    for session in unfinished:
        recorder.mark_killed(session.id)
    return bool(unfinished)


def _run_recorded(script: Script, profile: Profile, options: LiveOptions,
                  extra: list[Callable[[LogEvent], None]], recorder) -> str:  # noqa: ANN001
    session_id = recorder.begin(script.name, profile.mode)
    if profile.store_audio:
        from voice_imrs.records.kept_audio import session_audio_path

        options = replace(options, keep_audio=session_audio_path(recorder.folder, session_id))
    reason = "signal"
    try:
        reason = run_live(script, profile, options, [*extra, recorder.add])
        return reason
    finally:
        recorder.end(reason)
