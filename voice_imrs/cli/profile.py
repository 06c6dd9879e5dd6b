"""``voice-imrs profile``, ``profile set KEY VALUE`` and ``setup`` (by voice or keyboard).

The profile is shown as plain ``key: value`` lines (or JSON with ``--json``). ``setup``
runs a spoken conversation (``voice_imrs.session.voice_setup``); ``setup --keyboard``
asks one plain question per line on standard input, each with its current value; an empty
answer keeps it, and the end of input keeps all the rest, so it also works piped.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import sys
from pathlib import Path
from typing import TextIO

from voice_imrs.cli.live_args import add_live_options, live_options
from voice_imrs.core.profile import Profile

#: (key, question) asked by ``setup``, in order.
SETUP_QUESTIONS: tuple[tuple[str, str], ...] = (
    ("name", "What name would you like the voice to use for you? Leave empty for none"),
    ("safe_place", "Describe your safe place in a few words"),
    ("cue_word", "A cue word for your safe place"),
    ("helpers", "Helper figures that feel right for you, separated by commas"),
    ("anchor_phrase", "Your anchor phrase for this week"),
    ("perspective", "See imagery through your own eyes (first) or from a distance (third)"),
    ("eyes", "Eyes closed or open during exercises (closed or open)"),
    ("stop_words", "Words that stop a session at once, separated by commas"),
    ("rate_wpm", "Speaking rate in words per minute (90 to 220)"),
    # Last, so earlier answers keep their order for anyone who pipes them in.
    ("crisis_number", "A crisis line or emergency number where you live, said with the "
                      "crisis resources if you are ever in danger. Leave empty for none"),
    ("pace", "Length of the pauses: 1 as written, up to 2 for longer, down to 0.5 for shorter"),
)
_ATTEMPTS = 3


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add ``profile`` (with ``profile set``) and ``setup``."""
    show = subparsers.add_parser(
        "profile", help="show your profile, or change one setting",
        description="Show your profile (name, helpers, safe place, voice, thresholds...). "
                    "`voice-imrs profile set KEY VALUE` changes one setting.")
    show.add_argument("--profile", metavar="FILE", help="profile file (default: yours)")
    show.add_argument("--json", action="store_true", help="print JSON instead of text")
    show.set_defaults(handler=show_profile)
    actions = show.add_subparsers(dest="profile_action", metavar="ACTION")
    change = actions.add_parser(
        "set", help="change one setting",
        description="Change one setting. Lists are comma-separated "
                    "(voice-imrs profile set stop_words \"stop, i need a break\").")
    change.add_argument("key", metavar="KEY")
    change.add_argument("value", metavar="VALUE")
    change.add_argument("--profile", metavar="FILE", default=argparse.SUPPRESS,
                        help="profile file (default: yours)")
    change.set_defaults(handler=set_profile)

    setup = subparsers.add_parser(
        "setup", help="fill in your profile by answering questions, aloud or typed",
        description="Fill in your profile in a spoken conversation: pace and loudness, "
                    "perspective, eyes, helper figure, spoken summary, keeping words. Answer "
                    "aloud or with the keys; say stop at any time, Ctrl-C leaves without "
                    "saving. --keyboard asks typed questions instead, including your own "
                    "words (safe place, cue word, anchor phrase); Enter keeps a value.")
    setup.add_argument("--keyboard", action="store_true",
                       help="typed questions on the terminal instead of a spoken conversation")
    add_live_options(setup)
    setup.add_argument("--log", type=Path, help="also write the event log (JSON lines) here")
    setup.set_defaults(handler=run_setup)


def _shown(value: object) -> str:
    if isinstance(value, (list, tuple)):
        return ", ".join(str(v) for v in value)
    if isinstance(value, bool):
        return "yes" if value else "no"
    return str(value)


def show_profile(args: argparse.Namespace) -> int:
    from voice_imrs.core.profile import profile_to_mapping
    from voice_imrs.profile_store import load_profile, profile_path

    path = profile_path(args.profile)
    data = profile_to_mapping(load_profile(path))
    if args.json:
        print(json.dumps({"file": str(path), "exists": path.exists(), "profile": data},
                         indent=2, ensure_ascii=False))
        return 0
    state = "" if path.exists() else " (not written yet: these are the defaults)"
    print(f"Profile file: {path}{state}")
    for key, value in data.items():
        print(f"{key}: {_shown(value)}")
    return 0


def set_profile(args: argparse.Namespace) -> int:
    from voice_imrs.core.profile import with_value
    from voice_imrs.profile_store import load_profile, profile_path, save_profile

    path = profile_path(getattr(args, "profile", None))
    profile = with_value(load_profile(path), args.key, args.value, str(path))
    _check_name(args.key, str(getattr(profile, args.key)))
    save_profile(profile, path)
    print(f"{args.key}: {_shown(getattr(profile, args.key))}")
    return 0


def _check_name(key: str, value: str) -> None:
    """Names that are looked up as files or voices are checked when they are set."""
    from voice_imrs.session import preflight

    if not value:
        return  # "" turns the recorded voice or background off; the default voice
    if key == "recorded_voice":
        preflight.check_recorded_voice(value)
    elif key == "background":
        preflight.check_background(value)
    elif key == "voice":
        preflight.check_voice("auto", value)


def _ask(question: str, current: str, stdin: TextIO, stdout: TextIO) -> str | None:
    """One answer (stripped), or None at the end of input."""
    stdout.write(f"{question} [{current}]: ")
    stdout.flush()
    line = stdin.readline()
    if not line:
        stdout.write("\n")
        return None
    return line.strip()


def setup_conversation(profile: Profile, stdin: TextIO, stdout: TextIO) -> Profile:
    """Ask ``SETUP_QUESTIONS``; the profile with the answers (pure apart from the streams)."""
    from voice_imrs.core.profile import with_value
    from voice_imrs.errors import ProfileError

    stdout.write("Let's set up your profile. Press Enter to keep the value in brackets.\n")
    for key, question in SETUP_QUESTIONS:
        for _ in range(_ATTEMPTS):
            answer = _ask(question, _shown(getattr(profile, key)), stdin, stdout)
            if answer is None:
                return profile
            if not answer:
                break
            try:
                profile = with_value(profile, key, answer)
                break
            except ProfileError as error:
                stdout.write(f"{error}\n")
    return profile


def run_setup(args: argparse.Namespace) -> int:
    from voice_imrs.core.profile import profile_to_mapping
    from voice_imrs.profile_store import load_profile, profile_path, save_profile

    path = profile_path(args.profile)
    before = load_profile(path)
    if args.keyboard:
        profile = setup_conversation(before, sys.stdin, sys.stdout)
    else:
        from voice_imrs.session.log_writers import JsonLinesLog
        from voice_imrs.session.voice_setup import setup_by_voice

        with contextlib.ExitStack() as stack:
            observers = []
            if args.log:
                from voice_imrs.private_files import open_private

                stream = stack.enter_context(open_private(args.log, "a"))
                observers.append(JsonLinesLog(stream))
            profile, reason = setup_by_voice(before, live_options(args), observers)
        if reason not in ("completed", "stopped"):
            print("Setup left before the end: your profile is unchanged.")
            return 130 if reason == "signal" else 1
    old, new = profile_to_mapping(before), profile_to_mapping(profile)
    for key, value in new.items():
        if old.get(key) != value:
            print(f"{key}: {_shown(value)}")
    saved = save_profile(profile, path)
    print(f"Saved your profile to {saved}. `voice-imrs profile` shows it.")
    return 0
