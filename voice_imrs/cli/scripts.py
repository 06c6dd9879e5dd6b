"""``voice-imrs list`` and ``voice-imrs validate``: the script library and script files.

Output is plain text, one item per line, so that screen readers read it well.
"""

from __future__ import annotations

import argparse
import sys


def register(subparsers: argparse._SubParsersAction) -> None:  # noqa: SLF001
    """Add ``list`` and ``validate``."""
    listing = subparsers.add_parser(
        "list", help="list the built-in exercises",
        description="List the built-in exercises: name, title, length and mode.")
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


def list_scripts(args: argparse.Namespace) -> int:
    from voice_imrs.script_files import builtin_scripts

    for script in builtin_scripts().values():
        mode = ("homework" if script.mode == "homework"
                else "therapist-enabled sessions only")
        print(f"{script.name}: {script.title}, {_minutes(script.minutes)}, {mode}.")
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
