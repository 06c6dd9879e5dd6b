"""Commands over the session record: ``history``, ``report``, ``summary``, ``export``, ``forget``.

Output is plain text a screen reader reads line by line. matplotlib is imported by the report
module only when a chart is drawn.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from voice_imrs.cli.live_args import add_live_options, live_options

CONFIRM_WORD = "yes"


def _days(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number of days") from None
    if not value > 0:
        raise argparse.ArgumentTypeError("the number of days must be more than 0")
    return value


def register(subparsers: argparse._SubParsersAction) -> None:  # noqa: SLF001
    """Add ``history``, ``report``, ``summary``, ``export`` and ``forget``."""
    history = subparsers.add_parser("history", help="list recorded sessions as a plain table")
    history.add_argument("--days", type=_days, default=None, metavar="N",
                         help="only sessions of the last N days")
    history.add_argument("--json", action="store_true", help="print JSON instead of text")
    history.set_defaults(handler=run_history)

    report = subparsers.add_parser(
        "report", help="write a self-contained HTML report with charts and tables")
    which = report.add_mutually_exclusive_group()
    which.add_argument("--session", type=int, default=None, metavar="ID",
                       help="one session (ids are listed by `voice-imrs history`)")
    which.add_argument("--last", action="store_true", help="the most recent session")
    which.add_argument("--days", type=_days, default=None, metavar="N",
                       help="sessions of the last N days (default 30)")
    report.add_argument("--out", type=Path, default=Path("report.html"), metavar="FILE",
                        help="where to write the page (default report.html)")
    report.set_defaults(handler=run_report)

    summary = subparsers.add_parser("summary", help="say in words how a session went")
    summary.add_argument("--session", type=int, default=None, metavar="ID",
                         help="which session (default: the most recent)")
    summary.add_argument("--say", action="store_true",
                         help="also speak it, with the voice and rate of your profile")
    summary.set_defaults(handler=run_summary)

    export = subparsers.add_parser("export", help="export every recorded session")
    export.add_argument("--format", choices=("csv", "json"), default="csv")
    export.add_argument("--out", type=Path, default=None, metavar="FILE",
                        help="write to FILE (default: standard output)")
    export.set_defaults(handler=run_export)

    forget = subparsers.add_parser("forget", help="delete recorded sessions")
    what = forget.add_mutually_exclusive_group(required=True)
    what.add_argument("--all", action="store_true",
                      help="delete the record and every data file (models are kept)")
    what.add_argument("--session", type=int, default=None, metavar="ID",
                      help="delete one session")
    how = forget.add_mutually_exclusive_group()
    how.add_argument("--yes", action="store_true", help="do not ask for confirmation")
    how.add_argument("--by-voice", action="store_true",
                     help="ask aloud and listen for yes or no (keys y and n work too)")
    add_live_options(forget)
    forget.set_defaults(handler=run_forget)


def run_history(args: argparse.Namespace) -> int:
    from voice_imrs.records.history import history_records, history_table
    from voice_imrs.records.store import RecordStore

    with RecordStore.open() as store:
        sessions = store.sessions(days=args.days)
    if args.json:
        print(json.dumps(history_records(sessions), indent=1))
    else:
        sys.stdout.write(history_table(sessions, days=args.days))
    return 0


def run_report(args: argparse.Namespace) -> int:
    from voice_imrs.records.report import write_report
    from voice_imrs.records.store import RecordStore

    with RecordStore.open() as store:
        out = write_report(store, args.out, session_id=args.session, last=args.last,
                           days=args.days)
    print(f"Report written to {out}.")
    return 0


def run_summary(args: argparse.Namespace) -> int:
    from voice_imrs.records.store import RecordStore
    from voice_imrs.records.summary import summary_of

    with RecordStore.open() as store:
        text = summary_of(store, args.session)
    print(text)
    if args.say:
        _speak(text)
    return 0


def _speak(text: str) -> None:
    from voice_imrs.audio.output import SoundDeviceSink
    from voice_imrs.profile_store import load_profile
    from voice_imrs.session.parts import voice_for
    from voice_imrs.tts import speak
    from voice_imrs.tts.registry import make_synthesizer

    synth = make_synthesizer("auto")
    with SoundDeviceSink(None, sample_rate=synth.sample_rate) as sink:
        speak(text, synth, sink, voice_for(load_profile(None)))


def run_export(args: argparse.Namespace) -> int:
    from voice_imrs.records.export import export_text
    from voice_imrs.records.report import write_private_text
    from voice_imrs.records.store import RecordStore

    with RecordStore.open() as store:
        text = export_text(store, args.format)
    if args.out is None:
        sys.stdout.write(text)
    else:
        write_private_text(args.out, text, what="the export")
        print(f"Exported to {args.out}.", file=sys.stderr)
    return 0


class _Confirmation:
    """How ``forget`` asks and answers: typed on the terminal, or aloud with ``--by-voice``.

    Only ``--yes``, a typed "yes" or a spoken yes goes ahead; anything else is a no (end
    of input, silence, a stop, a no). Spoken sentences leave out file paths, which are
    printed instead.
    """

    def __init__(self, args: argparse.Namespace) -> None:
        from voice_imrs.profile_store import load_profile

        self.args = args
        # Loaded before anything is deleted: the profile file may be deleted too.
        self.profile = load_profile(args.profile) if args.by_voice else None

    def given(self, question: str, action: str) -> bool:
        if self.args.yes:
            return True
        if self.profile is not None:
            from voice_imrs.session.spoken import ask_yes

            return ask_yes(f"{question} Do you want to {action}? Say yes or no.",
                           self.profile, live_options(self.args))
        print(f"{question} Type {CONFIRM_WORD} to {action}: ", end="", flush=True)
        return sys.stdin.readline().strip().lower() == CONFIRM_WORD

    def tell(self, text: str, detail: str = "") -> None:
        print(f"{text} {detail}".strip())
        if self.profile is not None:
            from voice_imrs.session.spoken import say

            options = live_options(self.args)
            options.captions = None  # printed already
            say(text, self.profile, options)


def run_forget(args: argparse.Namespace) -> int:
    from voice_imrs.profile_store import profile_path
    from voice_imrs.records.export import forget_all
    from voice_imrs.records.store import RecordStore, data_dir

    confirmation = _Confirmation(args)
    if args.all:
        folder, profile_file = data_dir(), profile_path(args.profile)
        print(f"Data folder: {folder}\nProfile: {profile_file}")
        if not confirmation.given("This deletes every session you recorded, your profile "
                                  "and every data file, and cannot be undone.",
                                  "delete everything"):
            confirmation.tell("Nothing was deleted.")
            return 1
        deleted = forget_all(folder, extra_paths=[profile_file])
        if deleted:
            items = f"{len(deleted)} item{'s' if len(deleted) != 1 else ''}"
            confirmation.tell("Everything recorded is gone.", f"({items} deleted.)")
        else:
            confirmation.tell("There was nothing to delete.")
        return 0
    with RecordStore.open() as store:
        one = store.session(args.session)
        if not confirmation.given(f"This deletes session {one.id}, {one.script}, of "
                                  f"{one.started_at:%B %d at %H:%M}.", "delete it"):
            confirmation.tell("Nothing was deleted.")
            return 1
        store.delete_session(one.id)
    confirmation.tell(f"Session {one.id} deleted.")
    return 0
