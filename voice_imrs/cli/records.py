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
    # inf would overflow the date arithmetic; a century covers any record.
    if not 0 < value <= 36500:
        raise argparse.ArgumentTypeError("the number of days must be more than 0 and at "
                                         "most 36500")
    return value


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add ``history``, ``report``, ``summary``, ``export`` and ``forget``."""
    history = subparsers.add_parser("history", help="list recorded sessions as a plain table")
    history.add_argument("--days", type=_days, default=None, metavar="N",
                         help="only sessions of the last N days")
    history.add_argument("--json", action="store_true", help="print JSON instead of text")
    _per_client(history)
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
    _per_client(report)
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
    _per_client(export)
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

    recover = subparsers.add_parser(
        "recover", help="copy what can be read from a damaged record back into the record",
        description="A damaged records database is set aside as "
                    "records.sqlite3.damaged-DATE (never deleted). This copies every session "
                    "and event that can still be read from FILE into the current record.")
    recover.add_argument("file", type=Path, metavar="FILE", help="the set-aside database")
    recover.set_defaults(handler=run_recover)


def _tell_skipped(store: object) -> None:
    """One line per stored row that could not be read: reported, never fatal."""
    for sentence in getattr(store, "skipped", ()):
        print(f"voice-imrs: {sentence}", file=sys.stderr)


def _per_client(parser: argparse.ArgumentParser) -> None:
    from voice_imrs.cli.console import add_client_code

    add_client_code(parser, reading=True)


def run_history(args: argparse.Namespace) -> int:
    from voice_imrs.records.history import history_records, history_table
    from voice_imrs.records.store import RecordStore

    with RecordStore.open(client=args.client_code) as store:
        sessions = store.sessions(days=args.days)
        _tell_skipped(store)
    if args.json:
        print(json.dumps(history_records(sessions), indent=1))
    else:
        sys.stdout.write(history_table(sessions, days=args.days))
    return 0


def run_report(args: argparse.Namespace) -> int:
    from voice_imrs.records.report import write_report
    from voice_imrs.records.store import RecordStore

    with RecordStore.open(client=args.client_code) as store:
        out = write_report(store, args.out, session_id=args.session, last=args.last,
                           days=args.days)
        _tell_skipped(store)
    print(f"Report written to {out}.")
    return 0


def run_summary(args: argparse.Namespace) -> int:
    from voice_imrs.records.store import RecordStore
    from voice_imrs.records.summary import summary_of

    with RecordStore.open() as store:
        text = summary_of(store, args.session)
        _tell_skipped(store)
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

    with RecordStore.open(client=args.client_code) as store:
        text = export_text(store, args.format)
        _tell_skipped(store)
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
    from voice_imrs.profile_store import config_dir, profile_path
    from voice_imrs.records.forget import check_profile_path, forget_all
    from voice_imrs.records.store import RecordStore, data_dir

    if args.all:
        folder, config, profile_file = data_dir(), config_dir(), profile_path(args.profile)
        # Refused before anything is asked or deleted: a path outside our folders.
        check_profile_path(profile_file, folder, config)
        confirmation = _Confirmation(args)
        print(f"Data folder: {folder}\nProfile: {profile_file}")
        if not confirmation.given("This deletes every session you recorded, your profile "
                                  "and every data file, and cannot be undone.",
                                  "delete everything"):
            confirmation.tell("Nothing was deleted.")
            return 1
        result = forget_all(folder, config, profile_file)
        for entry in result.left:
            print(f"Left in place (not written by voice-imrs): {entry}")
        if result.deleted:
            count = len(result.deleted)
            items = f"{count} item{'s' if count != 1 else ''}"
            confirmation.tell("Everything recorded is gone.", f"({items} deleted.)")
        else:
            confirmation.tell("There was nothing to delete.")
        return 0
    confirmation = _Confirmation(args)
    with RecordStore.open() as store:
        one = store.session(args.session)
        if not confirmation.given(f"This deletes session {one.id}, {one.script}, of "
                                  f"{one.started_at:%B %d at %H:%M}.", "delete it"):
            confirmation.tell("Nothing was deleted.")
            return 1
        store.delete_session(one.id)
    confirmation.tell(f"Session {one.id} deleted.")
    return 0


def run_recover(args: argparse.Namespace) -> int:
    from voice_imrs.file_limits import check_regular
    from voice_imrs.records.store import RecordStore, database_path

    try:
        check_regular(args.file, "records database", 1 << 40)
    except FileNotFoundError:
        from voice_imrs.errors import RecordError

        raise RecordError(f"{args.file} does not exist.",
                          hint="Set-aside files are named records.sqlite3.damaged-DATE, in "
                               "the data folder.") from None
    with RecordStore.open() as store:
        if args.file.resolve() == database_path(store.folder).resolve():
            from voice_imrs.errors import RecordError

            raise RecordError(f"{args.file} is the current record.",
                              hint="Give the set-aside file (records.sqlite3.damaged-DATE).")
        found = store.recover_from(args.file)
    print(f"Recovered {found.sessions} session{'s' if found.sessions != 1 else ''} and "
          f"{found.events} event{'s' if found.events != 1 else ''} from {args.file}.")
    for sentence in found.skipped:
        print(f"Could not be read: {sentence}")
    print(f"{args.file} is kept; delete it yourself once you no longer need it.")
    return 0
