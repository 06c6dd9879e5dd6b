"""Commands for homework audio: ``render``, ``record-prompts`` and ``record-message``.

``render`` writes a non-interactive version of a script to a WAV, MP3 or OGG file with a
cue sheet beside it; ``record-prompts`` records a therapist's own voice for a script's
prompts; ``record-message`` records the client's own affirming message. pydub, espeak-ng
and sounddevice are loaded inside the handlers only.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path
from typing import TextIO

from voice_imrs.cli.plain import add_plain_option
from voice_imrs.cli.values import number_in, rate_wpm, volume

#: The longest recording of one prompt or message.
take_seconds = number_in(1.0, 600.0, "seconds")


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add ``render``, ``record-prompts`` and ``record-message``."""
    render = subparsers.add_parser(
        "render", help="render a script to an audio file to listen to without answering",
        description="Render a non-interactive version of SCRIPT: questions become pauses "
                    "with gentle cues and the calm path is taken. A cue sheet "
                    "(FILE.cues.json) with each step's start time is written beside it.")
    render.add_argument("script", help="exercise name (see `voice-imrs list`) or file")
    render.add_argument("--out", required=True, type=Path, metavar="FILE",
                        help="output file: .wav, .mp3 or .ogg (MP3 and OGG need ffmpeg)")
    render.add_argument("--profile", type=Path, help="profile file (default: your profile)")
    render.add_argument("--background", metavar="NAME",
                        help="background bed under the voice: rain, pink_noise, brown_noise")
    render.add_argument("--background-volume", type=volume, default=0.25, metavar="V",
                        help="background volume 0-1 (default 0.25)")
    render.add_argument("--voice", help="synthesizer voice (see `voice-imrs voices`)")
    render.add_argument("--rate", type=rate_wpm, metavar="WPM",
                        help="words per minute (90 to 220)")
    render.add_argument("--tts", default="auto", help="synthesizer: auto, piper, espeak, pyttsx3")
    render.add_argument("--voice-name", metavar="RECORDED",
                        help="use this recorded voice's takes where they exist "
                             "(see `voice-imrs record-prompts`)")
    render.add_argument("--voices-dir", type=Path, metavar="DIR",
                        help="folder of recorded voices (default audio_assets/voices)")
    render.add_argument("--no-message", action="store_true",
                        help="do not play your recorded message (see `voice-imrs "
                             "record-message`) at the micro-imagery message step")
    render.add_argument("--no-chapters", action="store_true",
                        help="do not write chapters into MP3/OGG metadata")
    add_plain_option(render)
    render.set_defaults(handler=run_render)

    record = subparsers.add_parser(
        "record-prompts", help="record your own voice for every prompt of a script",
        description="Shows each prompt, records it from the microphone until Enter (or a "
                    "pause after speaking, or --max-seconds), trims the silence, and asks: "
                    "k keep, r redo, s skip, q quit.")
    record.add_argument("script", help="exercise name or file")
    record.add_argument("--voice-name", required=True, metavar="NAME",
                        help="the recorded voice's name (a folder under the voices folder)")
    record.add_argument("--voices-dir", type=Path, metavar="DIR",
                        help="folder of recorded voices (default audio_assets/voices)")
    record.add_argument("--device", metavar="DEV",
                        help="microphone: index, name, default, or pulse:SOURCE")
    record.add_argument("--max-seconds", type=take_seconds, default=60.0, metavar="S",
                        help="longest take (default 60)")
    record.add_argument("--all", action="store_true",
                        help="also record prompts that already have an up-to-date take")
    record.set_defaults(handler=run_record_prompts)

    message = subparsers.add_parser(
        "record-message", help="record your own affirming message (your anchor phrase)",
        description="Records a short message in your own voice; micro-imagery practice "
                    "plays it. Kept in your data folder.")
    message.add_argument("--device", metavar="DEV",
                         help="microphone: index, name, default, or pulse:SOURCE")
    message.add_argument("--max-seconds", type=take_seconds, default=20.0, metavar="S",
                         help="longest message (default 20)")
    message.add_argument("--profile", type=Path, help="profile file (default: your profile)")
    message.set_defaults(handler=run_record_message)


# ------------------------------------------------------------------ render


class ProgressBar:
    """Rendering progress on standard error: a bar redrawn in place on a terminal, and in
    plain output (``voice_imrs.cli.plain``) one sentence per tenth, with no bar characters.
    """

    def __init__(self, label: str, stream: TextIO | None = None, width: int = 30) -> None:
        from voice_imrs.cli.plain import plain_output

        self.label, self.width = label, width
        self.stream = stream or sys.stderr
        self._shown = -1
        self._plain = plain_output(self.stream)

    def __call__(self, done: int, total: int) -> None:
        share = done / total if total else 1.0
        percent = int(share * 100)
        # In plain output every 10 % only: a log or a screen reader should not get 100 lines.
        if percent == self._shown or (self._plain and percent % 10 and done != total):
            return
        self._shown = percent
        if self._plain:
            self.stream.write(f"{self.label}: {percent} percent ({done} of {total} "
                              "prompts).\n")
        else:
            filled = int(share * self.width)
            bar = "#" * filled + "." * (self.width - filled)
            end = "" if done < total else "\n"
            self.stream.write(f"\r{self.label} [{bar}] {percent:3d}% ({done}/{total}){end}")
        self.stream.flush()


def run_render(args: argparse.Namespace) -> int:
    from voice_imrs.profile_store import load_profile
    from voice_imrs.render.assets import check_texture
    from voice_imrs.render.export import (
        chapter_title,
        output_format,
        require_ffmpeg,
        write_audio,
        write_cue_sheet,
    )
    from voice_imrs.render.takes import TakeLibrary, load_client_message, recorded_voices
    from voice_imrs.render.track import calm_path, render_track
    from voice_imrs.script_files import find_script
    from voice_imrs.session.parts import variables_for, voice_for
    from voice_imrs.tts.registry import make_synthesizer

    # Everything the user can get wrong is checked before the slow part.
    fmt = output_format(args.out)
    if fmt != "wav":
        require_ffmpeg(fmt)
    background = check_texture(args.background) if args.background else None
    script = find_script(args.script)
    profile = load_profile(args.profile)
    from voice_imrs.session.start import check_enabled

    check_enabled(script, profile)  # a rescripting track is as therapist-only as a session
    takes = None
    if args.voice_name:
        takes = TakeLibrary(args.voice_name, args.voices_dir)
        if not takes.index():
            from voice_imrs.errors import UnknownChoiceError

            raise UnknownChoiceError(f"recorded voice (in {takes.root})", args.voice_name,
                                     recorded_voices(takes.root))
    settings = voice_for(profile, args.voice, args.rate)
    synth = make_synthesizer(args.tts)
    if settings.voice:
        check = getattr(synth, "espeak_voice_name", None) or getattr(synth, "voice_id", None)
        if callable(check):
            check(settings.voice)

    started = time.monotonic()
    # "track": the wording for a recording nobody answers, so it never promises to listen.
    items = calm_path(script, {**variables_for(profile), "delivery": "track"})
    message = None if args.no_message else load_client_message(synth.sample_rate)
    track = render_track(items, synth, settings, takes=takes, background=background,
                         background_volume=args.background_volume, message=message,
                         progress=ProgressBar(f"Rendering {script.name}"))
    chapters = [] if args.no_chapters else [
        (float(str(cue["start_s"])), chapter_title(str(cue["id"]), str(cue["text"])))
        for cue in track.cues]
    _reserve_private_outputs(Path(args.out))
    write_audio(args.out, track.audio, track.sample_rate, title=script.title,
                chapters=chapters)
    sheet = write_cue_sheet(args.out, track.cue_sheet(
        script, file=Path(args.out).name, background=background,
        recorded_voice=args.voice_name, rules=CALM_PATH_RULES))
    minutes, seconds = divmod(round(track.duration_s), 60)
    print(f"Wrote {args.out} ({minutes}:{seconds:02d}, {len(track.cues)} steps, "
          f"{len(track.bells)} bells) and its cue sheet {sheet} in "
          f"{time.monotonic() - started:.1f} s.")
    return 0


def _reserve_private_outputs(out: Path) -> None:
    """The track and its cue sheet hold the profile's personal words: user-only files.

    A missing folder is left for ``write_audio`` to report in its own words.
    """
    from voice_imrs.private_files import reserve_private
    from voice_imrs.render.export import cue_sheet_path

    if out.parent.is_dir():
        reserve_private(out)
        reserve_private(cue_sheet_path(out))


CALM_PATH_RULES = ("questions become a gentle cue and a pause; ratings take the "
                   "lowest-distress branch; yes/no takes yes unless yes leads into a "
                   "grounding or safety detour; choices take the profile's value or the first "
                   "option; repeat loops run once; timers and breathing keep their length")


# ------------------------------------------------------------------ recording


def run_record_prompts(args: argparse.Namespace) -> int:
    from voice_imrs.render.recording import PromptRecorder, microphone_opener
    from voice_imrs.render.takes import TakeLibrary
    from voice_imrs.script_files import find_script

    script = find_script(args.script)
    library = TakeLibrary(args.voice_name, args.voices_dir)
    recorder = PromptRecorder(microphone_opener(args.device), max_seconds=args.max_seconds)
    summary = recorder.record_script(script, library, redo_all=args.all)
    print(summary)
    return 0


def run_record_message(args: argparse.Namespace) -> int:
    from voice_imrs.profile_store import load_profile
    from voice_imrs.render.recording import PromptRecorder, microphone_opener
    from voice_imrs.render.takes import MESSAGE_STEP, MESSAGE_TEXT, client_message_library

    profile = load_profile(args.profile)
    library = client_message_library()
    recorder = PromptRecorder(microphone_opener(args.device), max_seconds=args.max_seconds)
    hint = (f"Say your message in your own words, for example: {profile.anchor_phrase}")
    kept = recorder.record_one(MESSAGE_STEP, MESSAGE_TEXT, library, shown=hint)
    if kept:
        print(f"Saved your message in {library.folder}. Micro-imagery practice will play it.")
    else:
        print("No message saved.")
    return 0
