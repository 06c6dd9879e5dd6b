"""Commands for speech out: ``devices``, ``voices`` and ``say``.

Output is plain text that a screen reader reads line by line (``--json`` for tools).
sounddevice, espeak-ng and pyttsx3 are loaded inside the handlers only.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import signal
import sys
import threading
from types import FrameType

from voice_imrs.cli.values import rate_wpm, volume, whole_in
from voice_imrs.ports import VoiceSettings

TTS_CHOICES = ("auto", "piper", "espeak", "pyttsx3")


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add ``devices``, ``voices`` and ``say``."""
    devices = subparsers.add_parser("devices", help="list sound input and output devices")
    devices.add_argument("--json", action="store_true", help="print JSON instead of text")
    devices.add_argument("--check", action="store_true",
                         help="print nothing; exit 0 only if a microphone and a speaker exist")
    _device_test_options(devices)
    devices.set_defaults(handler=run_devices)

    voices = subparsers.add_parser("voices", help="list the voices of a speech synthesizer")
    voices.add_argument("--tts", default="auto", metavar="NAME",
                        help="synthesizer: " + ", ".join(TTS_CHOICES) + " (default auto)")
    voices.add_argument("--json", action="store_true", help="print JSON instead of text")
    voices.add_argument("--recorded", metavar="NAME",
                        help="list a recorded voice's takes (what is missing with --script)")
    voices.add_argument("--script", metavar="S", help="with --recorded: the script to check")
    voices.add_argument("--voices-dir", metavar="DIR", help="folder of recorded voices")
    voices.set_defaults(handler=run_voices)

    say = subparsers.add_parser("say", help="speak text aloud, or write it to a WAV file")
    say.add_argument("text", help="what to say")
    say.add_argument("--voice", default="", help="voice id or name (see `voice-imrs voices`)")
    say.add_argument("--rate", type=rate_wpm, default=125, metavar="WPM",
                     help="words per minute (90 to 220)")
    say.add_argument("--pitch", type=whole_in(0, 100), default=50, metavar="P",
                     help="0-100, 50 is normal")
    say.add_argument("--volume", type=volume, default=0.8, metavar="V", help="0-1")
    say.add_argument("--tts", default="auto", metavar="NAME",
                     help="synthesizer: " + ", ".join(TTS_CHOICES) + " (default auto)")
    say.add_argument("--device", default=None, metavar="DEV",
                     help="output device: index, name, default, or pulse:SINK")
    say.add_argument("--out", default=None, metavar="FILE.wav",
                     help="write a WAV file instead of playing")
    say.set_defaults(handler=run_say)


def _device_test_options(devices: argparse.ArgumentParser) -> None:
    """``devices --test`` (the console's routing check, voice_imrs/console/device_test.py)."""
    devices.add_argument("--test", action="store_true",
                         help="play a tone on each chosen output and report the input level")
    devices.add_argument("--output", metavar="DEV", help="with --test: the output to try")
    devices.add_argument("--cue-output", metavar="DEV",
                         help="with --test: the therapist's cue output to try as well")
    devices.add_argument("--input", metavar="DEV", help="with --test: the input to measure")


def run_devices(args: argparse.Namespace) -> int:
    if args.test:
        from voice_imrs.console.device_test import run_device_test

        return run_device_test(args)
    from voice_imrs.audio.devices import list_devices
    from voice_imrs.audio.pulse import default_pulse_device, pulse_devices

    if args.check:
        found = list_devices()
        usable = any(d.input_channels for d in found) and any(d.output_channels for d in found)
        return 0 if usable else 5

    devices = list_devices()
    # PortAudio shows a PulseAudio server as one device, "pulse": its sinks and sources
    # come from pactl, each with the name that --input/--output take.
    pulse = pulse_devices() if any(d.name == "pulse" for d in devices) else []
    defaults = {kind: default_pulse_device(kind) for kind in ("input", "output")} if pulse \
        else {}
    if args.json:
        entries: list[dict[str, object]] = [
            {**dataclasses.asdict(d), "pass_as": d.name} for d in devices]
        entries += [{"name": f"pulse:{p.name}", "description": p.description,
                     "kind": p.kind, "monitor": p.monitor, "pass_as": p.name,
                     "default": defaults.get(p.kind) == p.name} for p in pulse]
        print(json.dumps(entries, indent=2))
        return 0
    if not devices:
        print("No sound devices found. Try `voice-imrs demo`, or start a virtual device "
              "with scripts/virtual-audio.sh start.")
        return 0
    for kind in ("input", "output"):
        found = [d for d in devices if d.channels(kind) > 0]
        print(f"{kind.capitalize()} devices ({len(found)}):")
        for d in found:
            default = ", default" if (d.default_input if kind == "input"
                                      else d.default_output) else ""
            print(f"  {d.index}: {d.name} ({d.channels(kind)} channels, "
                  f"{d.default_rate:.0f} Hz{default})")
        served = [p for p in pulse if p.kind == kind]
        if served:
            print(f"PulseAudio {kind}s ({len(served)}), pass the name as "
                  f"--{kind} NAME:")
            for p in served:
                default = ", default" if defaults.get(kind) == p.name else ""
                monitor = ", hears what the sink plays" if p.monitor else ""
                print(f"  {p.name} ({p.description}{monitor}{default})")
    print("Choose with --input and --output (or --device for say): an index, a name, "
          "a PulseAudio name, or pulse:NAME.")
    return 0


def run_voices(args: argparse.Namespace) -> int:
    if getattr(args, "recorded", None):
        from voice_imrs.render.takes import list_recorded

        print(list_recorded(args.recorded, args.script, args.voices_dir))
        return 0
    from voice_imrs.tts.registry import make_synthesizer

    synth = make_synthesizer(args.tts)
    voices = synth.voices()
    if args.json:
        print(json.dumps([dataclasses.asdict(v) for v in voices], indent=2))
        return 0
    print(f"{len(voices)} voices ({getattr(synth, 'name', args.tts)}):")
    for voice in voices:
        languages = ", ".join(voice.languages)
        print(f"  {voice.id}: {voice.name}" + (f" [{languages}]" if languages else ""))
    variants = getattr(synth, "variants", None)
    if callable(variants):
        print("Variants can follow a voice after +, for example en-gb+f3: "
              + ", ".join(variants()) + ".")
    return 0


def run_say(args: argparse.Namespace) -> int:
    from voice_imrs.audio.output import SoundDeviceSink, WavFileSink
    from voice_imrs.ports import AudioSink
    from voice_imrs.tts import speak
    from voice_imrs.tts.registry import make_synthesizer

    settings = VoiceSettings(voice=args.voice, rate_wpm=args.rate, pitch=args.pitch,
                             volume=min(max(args.volume, 0.0), 1.0))
    synth = make_synthesizer(args.tts)
    if settings.voice:
        _check_voice(synth, settings.voice)
    sink: AudioSink
    if args.out:
        sink = WavFileSink(args.out, synth.sample_rate)
    else:
        sink = SoundDeviceSink(args.device, sample_rate=synth.sample_rate)
    stop = threading.Event()
    previous = signal.getsignal(signal.SIGINT)

    def on_interrupt(_signum: int, _frame: FrameType | None) -> None:
        stop.set()  # speak() silences the sink within one block

    signal.signal(signal.SIGINT, on_interrupt)
    try:
        finished = speak(args.text, synth, sink, settings, stop)
    finally:
        signal.signal(signal.SIGINT, previous)
        sink.close()
    if not finished:
        print("voice-imrs: stopped.", file=sys.stderr)
        return 130
    if args.out:
        print(f"Wrote {args.out}")
    return 0


def _check_voice(synth: object, voice: str) -> None:
    """Raise the synthesizer's unknown-voice error before a sound device is opened."""
    check = (getattr(synth, "check_voice", None) or getattr(synth, "espeak_voice_name", None)
             or getattr(synth, "voice_id", None))
    if callable(check):
        check(voice)
