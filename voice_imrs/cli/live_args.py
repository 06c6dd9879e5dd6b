"""The options every command that talks and listens on the sound devices shares.

``run``, ``setup`` and ``forget --voice`` all run a live conversation: the same devices,
recognizer, voice, captions and keyboard choices, declared and read in one place.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import TYPE_CHECKING

from voice_imrs.cli.plain import add_plain_option
from voice_imrs.cli.values import rate_wpm

if TYPE_CHECKING:  # the session modules load numpy: only when a conversation runs
    from voice_imrs.session.live import LiveOptions


def add_live_options(parser: argparse.ArgumentParser) -> None:
    """Devices, recognizer, voice, captions and keyboard for a live conversation."""
    parser.add_argument("--recognizer", default="whisper",
                        help="whisper (default: Whisper answers, keyword fast lane for stop), "
                             "keyword, pocketsphinx, vosk or keyboard")
    parser.add_argument("--model", help="faster-whisper (whisper) or Vosk (vosk) model directory")
    parser.add_argument("--profile", type=Path, help="profile file (default: your profile)")
    parser.add_argument("--input", dest="input_device",
                        help="microphone (name, index, pulse:SOURCE)")
    parser.add_argument("--output", dest="output_device",
                        help="speaker (name, index, pulse:SINK)")
    parser.add_argument("--voice", help="synthesizer voice (see `voice-imrs voices`)")
    parser.add_argument("--rate", type=rate_wpm, help="words per minute (90 to 220)")
    parser.add_argument("--tts", default="auto", help="synthesizer: auto, piper, espeak, pyttsx3")
    parser.add_argument("--recorded-voice", metavar="NAME",
                        help="a therapist's recorded prompts (see `voice-imrs voices "
                             "--recorded`); \"\" for the synthetic voice only")
    parser.add_argument("--background", metavar="TEXTURE",
                        help="rain, pink_noise or brown_noise under the voice; none for none")
    parser.add_argument("--captions", choices=("before", "after", "off"), default="before",
                        help="print each spoken line before the voice says it (default), "
                             "after it (a screen reader then speaks in the gap), or off")
    parser.add_argument("--quiet", action="store_true",
                        help="do not print the spoken lines (the same as --captions off)")
    parser.add_argument("--no-keyboard", action="store_true", help="do not read keys")
    add_plain_option(parser)


def live_options(args: argparse.Namespace) -> LiveOptions:
    """The ``LiveOptions`` the parsed ``add_live_options`` arguments ask for."""
    from voice_imrs.session.captions import make_captions
    from voice_imrs.session.live import LiveOptions

    return LiveOptions(recognizer=args.recognizer, model=args.model,
                       input_device=args.input_device, output_device=args.output_device,
                       tts=args.tts, voice=args.voice, rate=args.rate,
                       keyboard=not args.no_keyboard,
                       captions=make_captions("off" if args.quiet else args.captions),
                       recorded_voice=args.recorded_voice, background=args.background)
