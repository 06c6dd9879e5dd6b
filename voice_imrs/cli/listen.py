"""``voice-imrs listen``: print, as JSON lines, the intents heard in WAV files or live.

Other tools call this command, so its output is stable: one object per intent,
``{"file", "intent", "value", "t", "text"}``, and ``{"file", "intent": null}`` for a file
in which nothing was heard. An utterance the recognizer rejected as none of the allowed
answers prints ``{"file", "intent": null, "text", "rejected": true}`` when nothing else
was heard in that file (live: at once, as it happens).
"""

from __future__ import annotations

import argparse
import json
import time
from typing import Any

EXPECTATIONS = ("any", "rating", "yesno", "none")


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add ``listen``."""
    from voice_imrs.asr.registry import DEFAULT_RECOGNIZER, RECOGNIZERS

    listen = subparsers.add_parser("listen", help="print the intents heard (JSON lines)")
    listen.add_argument("--recognizer", default=DEFAULT_RECOGNIZER,
                        help=f"one of {', '.join(RECOGNIZERS)} (default {DEFAULT_RECOGNIZER})")
    listen.add_argument("--model", help="model directory: faster-whisper for whisper, Vosk "
                        "for vosk (default: models/, else the built-in one)")
    listen.add_argument("--expect", choices=EXPECTATIONS,
                        help="which answers count besides stop and commands (default any; "
                             "with --choice, none besides the options)")
    listen.add_argument("--file", action="extend", nargs="+", default=[], metavar="WAV",
                        help="WAV file(s) to listen to instead of the microphone")
    listen.add_argument("--device", help="input device: index, name, default or pulse:SOURCE")
    listen.add_argument("--stop-word", action="append", default=[], metavar="PHRASE",
                        help="a phrase that means stop (repeatable; replaces the default "
                             "stop words for this run)")
    listen.add_argument("--choice", action="append", default=[], metavar="PHRASE",
                        help="an option of a choice question (repeatable; implies one; "
                             "printed as {\"intent\": \"choice\", \"value\": PHRASE})")
    listen.add_argument("--speech", action="store_true",
                        help="also print the 'speech' intent at each speech onset")
    listen.add_argument("--realtime", action="store_true",
                        help="feed files at the speed of speech rather than at once")
    listen.set_defaults(handler=listen_command)


def _record(file: str | None, heard: Any) -> str:
    intent = heard.intent
    return json.dumps({"file": file, "intent": intent.kind, "value": intent.value,
                       "t": round(heard.t, 2), "text": intent.text})


def listen_command(args: argparse.Namespace) -> int:
    from voice_imrs.asr.listener import IntentListener
    from voice_imrs.asr.registry import make_recognizer
    from voice_imrs.audio.input import WavFileSource
    from voice_imrs.core.intents import DEFAULT_STOP_WORDS, Expectation, normalize
    from voice_imrs.errors import VoiceImrsError

    stop_words = tuple(args.stop_word) or DEFAULT_STOP_WORDS
    expect = Expectation.named(args.expect or ("none" if args.choice else "any"))
    if args.choice:
        expect = Expectation(expect.kinds | {"choice"},
                             tuple((phrase, (phrase,)) for phrase in args.choice))
    bad = [p for p in (*args.stop_word, *args.choice) if not normalize(p)]
    if bad:
        raise VoiceImrsError(f"The phrase {bad[0]!r} has no words to listen for.",
                             hint="Give --stop-word and --choice phrases in letters.")
    if args.recognizer == "keyboard" and args.file:
        raise VoiceImrsError("The keyboard recognizer reads typed lines, not --file audio.",
                             hint="Drop --file, or choose --recognizer pocketsphinx.")

    def fresh_listener() -> IntentListener:
        recognizer = make_recognizer(args.recognizer, model=args.model, stop_words=stop_words)
        return IntentListener(recognizer, stop_words, vad=args.speech)

    if not args.file:
        return _listen_live(args, fresh_listener(), expect)
    # Open every file first: a bad one is reported before any output.
    sources = [WavFileSource(path, realtime=args.realtime) for path in args.file]
    for path, source in zip(args.file, sources, strict=True):
        listener = fresh_listener()
        printed = False
        rejected: list[Any] = []
        while (block := source.read()) is not None:
            printed |= _emit(path, listener.feed(block, expect), args.speech, rejected)
        printed |= _emit(path, listener.finish(expect), args.speech, rejected)
        if not printed and rejected:
            print(_rejected(path, rejected[0]), flush=True)
        elif not printed:
            print(json.dumps({"file": path, "intent": None}), flush=True)
    return 0


def _rejected(file: str | None, heard: Any) -> str:
    return json.dumps({"file": file, "intent": None, "text": heard.intent.text,
                       "rejected": True})


def _emit(file: str | None, heard: list[Any], speech: bool,
          rejected: list[Any] | None = None) -> bool:
    """Print what counts; "unknown" (a rejected utterance) goes to ``rejected`` instead,
    or is printed as rejected at once when no such list is kept (live listening).
    """
    printed = False
    for item in heard:
        if item.intent.kind == "speech" and not speech:
            continue
        if item.intent.kind == "unknown":
            if rejected is None:
                print(_rejected(file, item), flush=True)
            else:
                rejected.append(item)
            continue
        print(_record(file, item), flush=True)
        printed = True
    return printed


def _listen_live(args: argparse.Namespace, listener: Any, expect: Any) -> int:
    """The microphone (or typed lines) until Ctrl-C or end of input."""
    import numpy as np

    source: Any = None
    try:
        if args.recognizer == "keyboard":
            silence = np.zeros(320, np.int16)
            while not getattr(listener.recognizer, "at_end", False):
                time.sleep(0.02)
                _emit(None, listener.feed(silence, expect), args.speech)
        else:
            from voice_imrs.audio.input import SoundDeviceSource

            source = SoundDeviceSource(args.device)
            while (block := source.read()) is not None:
                _emit(None, listener.feed(block, expect), args.speech)
        _emit(None, listener.finish(expect), args.speech)
    except KeyboardInterrupt:
        pass  # Ctrl-C is how live listening ends
    finally:
        if source is not None:
            source.close()
    return 0
