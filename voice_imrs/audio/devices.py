"""Finding sound devices: list what PortAudio offers and turn a user's choice into an index.

A device is chosen by index, by exact or unique-substring name, by ``None``/"default", or
as ``pulse:NAME`` (a PulseAudio sink or source, such as ``pulse:speaker.monitor``). A bare
PulseAudio name (``speaker``, ``speaker.monitor``) works too, when no PortAudio device
has that name: ``voice-imrs devices`` lists both kinds with the name to pass. The
PulseAudio form works through PortAudio's "pulse" device: PulseAudio's ALSA plugin reads
PULSE_SINK / PULSE_SOURCE once, when a stream opens, so ``opening`` sets the variable for
that moment only (left set, every later stream of the process went to the same place).

sounddevice is imported inside the functions: it raises OSError at import when PortAudio
is missing, and it enumerates devices at import, which must happen after a (virtual)
sound server is up.
"""

from __future__ import annotations

import contextlib
import os
import sys
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from types import ModuleType
from typing import Any, Literal

from voice_imrs.errors import DeviceError

Kind = Literal["input", "output"]

#: A device that delivers or takes no audio for longer than this is lost (unplugged, the
#: sound server died, its sink or source was removed). PortAudio never says so itself: its
#: callbacks simply stop coming.
STALL_S = 2.0

_NO_DEVICE_HINT = ("Try `voice-imrs demo` (no sound device needed), or start a virtual "
                   "device with scripts/virtual-audio.sh start.")


@dataclass(frozen=True)
class DeviceInfo:
    """One PortAudio device.

    index: what sounddevice takes as ``device=``.
    name: the device name PortAudio reports ("pulse", "default", "HDA Intel: ...").
    input_channels / output_channels: how many channels it can record / play (0 = none).
    default_input / default_output: whether it is the system default for that direction.
    default_rate: its preferred sample rate in Hz.
    """

    index: int
    name: str
    input_channels: int
    output_channels: int
    default_input: bool = False
    default_output: bool = False
    default_rate: float = 0.0

    def channels(self, kind: Kind) -> int:
        return self.input_channels if kind == "input" else self.output_channels


@dataclass(frozen=True)
class DeviceChoice:
    """Where a stream opens: a PortAudio ``index`` (None: the system default) and, behind
    PortAudio's "pulse" device, the PulseAudio sink or source ``pulse_name``.
    """

    index: int | None
    pulse_name: str | None = None


#: The variables are the whole process's: two streams opening at once must take turns.
_OPENING = threading.Lock()


@contextlib.contextmanager
def opening(choice: DeviceChoice, kind: Kind) -> Iterator[None]:
    """Open (and start) a stream on ``choice`` inside this block.

    PulseAudio's ALSA plugin reads PULSE_SINK / PULSE_SOURCE when it connects, at open;
    its later reconnects (after an underrun) keep what it read. So the variable names the
    chosen sink or source only while the block runs, and is as it was afterwards.
    """
    with _OPENING:
        if choice.pulse_name is None:
            yield
            return
        variable = "PULSE_SOURCE" if kind == "input" else "PULSE_SINK"
        old = os.environ.get(variable)
        os.environ[variable] = choice.pulse_name
        try:
            yield
        finally:
            if old is None:
                os.environ.pop(variable, None)
            else:
                os.environ[variable] = old


class DeviceLostError(DeviceError):
    """A sound device stopped delivering or accepting audio in the middle of its use."""

    def __init__(self, kind: Kind, seconds: float) -> None:
        self.kind = kind
        super().__init__(f"The sound {kind} device stopped working (no audio for "
                         f"{seconds:.1f} s).",
                         hint="Check the headset or speakers and the sound server "
                              "(`voice-imrs devices`), then start again.")


def import_sounddevice() -> ModuleType:
    """sounddevice, or a DeviceError naming the missing PortAudio library.

    PortAudio and ALSA print to fd 2 from here on: that noise is kept off the terminal
    (``native_noise``) in a real run (not where a test harness holds sys.stderr).
    """
    if sys.stderr is sys.__stderr__:
        from voice_imrs.audio.native_noise import quiet_native_output

        quiet_native_output()
    try:
        import sounddevice
    except OSError as error:
        raise DeviceError(
            f"The PortAudio library could not be loaded ({error}).",
            hint="Install it (Debian/Ubuntu: sudo apt install libportaudio2), "
                 "or try `voice-imrs demo` which needs no sound device.",
        ) from None
    return sounddevice


def list_devices() -> list[DeviceInfo]:
    """Every device PortAudio sees, in index order (empty when there is none)."""
    sd = import_sounddevice()
    try:
        raw: Any = sd.query_devices()
        default_in, default_out = _defaults(sd)
    except sd.PortAudioError:
        return []
    return [
        DeviceInfo(
            index=int(entry["index"]),
            name=str(entry["name"]),
            input_channels=int(entry["max_input_channels"]),
            output_channels=int(entry["max_output_channels"]),
            default_input=int(entry["index"]) == default_in,
            default_output=int(entry["index"]) == default_out,
            default_rate=float(entry["default_samplerate"]),
        )
        for entry in raw
    ]


def _defaults(sd: ModuleType) -> tuple[int, int]:
    pair = sd.default.device
    return int(pair[0]), int(pair[1])


def choose_device(spec: str | int | None, kind: Kind) -> DeviceChoice:
    """Where a stream for ``spec`` opens (``index`` None: the system default); open it
    inside ``opening(choice, kind)``.

    Raises DeviceError when there is no device of this kind at all, or when ``spec``
    names no device (the message lists the available ones).
    """
    devices = [d for d in list_devices() if d.channels(kind) > 0]
    if not devices:
        raise DeviceError(f"No sound {kind} device was found.", hint=_NO_DEVICE_HINT)
    if spec is None or (isinstance(spec, str) and spec.strip().lower() in ("", "default")):
        return DeviceChoice(None)
    if isinstance(spec, str) and spec.startswith("pulse:"):
        return _resolve_pulse(spec[len("pulse:"):], kind, devices)
    if isinstance(spec, int) or spec.strip().isdigit():
        index = int(spec)
        for device in devices:
            if device.index == index:
                return DeviceChoice(index)
        raise _unknown(str(spec), kind, devices)
    return _by_name(spec.strip(), kind, devices)


def _by_name(name: str, kind: Kind, devices: list[DeviceInfo]) -> DeviceChoice:
    exact = [d for d in devices if d.name.lower() == name.lower()]
    if len(exact) == 1:
        return DeviceChoice(exact[0].index)
    pulse = _pulse_names(kind) if any(d.name == "pulse" for d in devices) else []
    if name in pulse:
        return _resolve_pulse(name, kind, devices)
    partial = [d for d in devices if name.lower() in d.name.lower()]
    if len(partial) == 1:
        return DeviceChoice(partial[0].index)
    if len(partial) > 1:
        matches = "; ".join(f"{d.index}: {d.name}" for d in partial)
        raise DeviceError(f"Sound {kind} device {name!r} matches several devices ({matches}).",
                          hint="Give more of the name, or the index.")
    pulse_partial = [p for p in pulse if name.lower() in p.lower()]
    if len(pulse_partial) == 1:
        return _resolve_pulse(pulse_partial[0], kind, devices)
    raise _unknown(name, kind, devices, pulse)


def _pulse_names(kind: Kind) -> list[str]:
    from voice_imrs.audio.pulse import pulse_devices

    return [p.name for p in pulse_devices() if p.kind == kind]


def _resolve_pulse(name: str, kind: Kind, devices: list[DeviceInfo]) -> DeviceChoice:
    if not name:
        raise DeviceError(f"Sound {kind} device 'pulse:' needs a PulseAudio name.",
                          hint="For example pulse:speaker.monitor (see `pactl list short "
                               + ("sources" if kind == "input" else "sinks") + "`).")
    for device in devices:
        if device.name == "pulse":
            return DeviceChoice(device.index, name)
    raise DeviceError(f"Sound {kind} device 'pulse:{name}' needs PulseAudio, "
                      "but PortAudio offers no 'pulse' device.",
                      hint="Start PulseAudio, or choose one of: "
                           + _listing(devices) + ".")


def describe_device(sd: ModuleType, choice: DeviceChoice, spec: str | int | None,
                    kind: Kind) -> str:
    """The name of the device a stream opened on, as a user would pass it back.

    PortAudio's "pulse" and "default" devices say nothing about where the sound goes, so
    for them the PulseAudio sink or source is named too (``pulse:NAME``) when known.
    """
    index = choice.index
    try:
        which = index if index is not None else _defaults(sd)[0 if kind == "input" else 1]
        name = str(sd.query_devices(which)["name"])
    except Exception:  # a name for a message only
        name = str(spec or "default")
    if name in ("pulse", "default"):
        pulse = choice.pulse_name or os.environ.get(
            "PULSE_SOURCE" if kind == "input" else "PULSE_SINK")
        if not pulse:
            from voice_imrs.audio.pulse import default_pulse_device

            pulse = default_pulse_device(kind)
        if pulse:
            return f"pulse:{pulse}"
    return name


def _listing(devices: list[DeviceInfo]) -> str:
    return ", ".join(f"{d.index}: {d.name}" for d in devices)


def _unknown(spec: str, kind: Kind, devices: list[DeviceInfo],
             pulse: list[str] | None = None) -> DeviceError:
    named = f"; or PulseAudio's {', '.join(pulse)}" if pulse else ""
    return DeviceError(f"Unknown sound {kind} device {spec!r}.",
                       hint=f"Choose one of: {_listing(devices)} (index or name), "
                            f"default, or pulse:NAME{named} (see `voice-imrs devices`).")
