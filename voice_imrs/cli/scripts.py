"""``voice-imrs list`` and ``voice-imrs validate``: the script library and script files.

Output is plain text, one item per line, so that screen readers read it well.
"""

from __future__ import annotations

import argparse
import sys


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add ``list`` and ``validate``."""
    listing = subparsers.add_parser(
        "list", help="list the built-in exercises",
        description="List the built-in exercises: name, title, length (at your pace, "
                    "as a rendered track) and mode.")
    listing.set_defaults(handler=list_scripts)

    validate = subparsers.add_parser(
        "validate", help="check script files and report every problem",
        description="Check script files (TOML) and report every problem, one per line. "
                    "With no file, checks the built-in library. Exits non-zero if any "
                    "problem is found.")
    validate.add_argument("files", nargs="*", metavar="FILE", help="script files to check")
    validate.set_defaults(handler=validate_scripts)


def _minutes(minutes: float) -> str:
    if minutes <= 0:
        return "length not given"
    if minutes < 1.5:
        return "about 1 minute" if minutes >= 0.75 else f"about {round(minutes * 60)} seconds"
    return f"about {minutes:g} minutes"


def spoken_length(seconds: float) -> str:
    """A length as it is said: fine enough to be within 10 % ("about 2 minutes 40 seconds")."""
    if seconds < 180:  # to the nearest 10 s: at most 5 s off, under 9 % of a minute
        whole = max(10, round(seconds / 10) * 10)
        minutes, rest = divmod(whole, 60)
        said = [f"{minutes} minute{'s' if minutes != 1 else ''}"] if minutes else []
        if rest:
            said.append(f"{rest} seconds")
        return "about " + " ".join(said)
    if seconds < 600:  # to the nearest half minute
        halves = round(seconds / 30)
        minutes = halves // 2
        return f"about {minutes}{' and a half' if halves % 2 else ''} minutes"
    return f"about {round(seconds / 60)} minutes"


def script_length(script: object, profile: object) -> str:
    """How long ``script`` takes on its calm path at the profile's pace, as said in lists.

    The same layout as a rendered track (``render.track.estimated_seconds``), so `list`
    says the length a rendered track really has; a script whose calm path cannot be
    walked falls back to the length its file states.
    """
    from voice_imrs.errors import ScriptError
    from voice_imrs.render.track import calm_path, estimated_seconds
    from voice_imrs.session.parts import variables_for, voice_for

    try:
        # "track": the wording of a recording nobody answers, as `render` speaks it.
        items = calm_path(script, {**variables_for(profile), "delivery": "track"})  # type: ignore[arg-type]
    except ScriptError:
        return _minutes(getattr(script, "minutes", 0.0))
    return spoken_length(estimated_seconds(items, voice_for(profile).rate_wpm))  # type: ignore[arg-type]


def list_scripts(args: argparse.Namespace) -> int:
    from voice_imrs.profile_store import load_profile
    from voice_imrs.script_files import builtin_scripts

    profile = load_profile(None)
    for script in builtin_scripts().values():
        mode = ("homework" if script.mode == "homework"
                else "therapist-enabled sessions only")
        print(f"{script.name}: {script.title}, {script_length(script, profile)}, {mode}.")
    return 0


def validate_scripts(args: argparse.Namespace) -> int:
    from voice_imrs.errors import ScriptError
    from voice_imrs.script_files import builtin_files, builtin_text, parse_script, validate_files

    problems: list[ScriptError] = []
    if args.files:
        files = list(args.files)
        problems = validate_files(files)
    else:
        files = builtin_files()
        for label in files:
            problems.extend(parse_script(builtin_text(label), label)[1])
    bad_files = {p.file for p in problems}
    for file in files:
        if str(file) not in bad_files:
            print(f"{file}: ok.")
    for problem in problems:
        print(f"voice-imrs: {problem}", file=sys.stderr)
    if problems:
        count = len(problems)
        print(f"voice-imrs: {count} problem{'s' if count > 1 else ''} in "
              f"{len(bad_files)} of {len(files)} file{'s' if len(files) > 1 else ''}.",
              file=sys.stderr)
        return ScriptError.exit_code
    return 0
