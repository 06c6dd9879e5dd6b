"""Finding sound devices: list what PortAudio offers and turn a user's choice into an index.

A device is chosen by index, by exact or unique-substring name, by ``None``/"default", or
as ``pulse:NAME`` (a PulseAudio sink or source, such as ``pulse:speaker.monitor``). The
PulseAudio form works through PortAudio's "pulse" device: PulseAudio reads PULSE_SINK /
PULSE_SOURCE when a stream opens, so we set that variable and return the "pulse" device.

sounddevice is imported inside the functions: it raises OSError at import when PortAudio
is missing, and it enumerates devices at import, which must happen after a (virtual)
sound server is up.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from types import ModuleType
from typing import Any, Literal

from voice_imrs.errors import DeviceError

Kind = Literal["input", "output"]

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


def import_sounddevice() -> ModuleType:
    """sounddevice, or a DeviceError naming the missing PortAudio library."""
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


def resolve_device(spec: str | int | None, kind: Kind) -> int | None:
    """The sounddevice index for ``spec``, or None for the system default.

    Raises DeviceError when there is no device of this kind at all, or when ``spec``
    names no device (the message lists the available ones).
    """
    devices = [d for d in list_devices() if d.channels(kind) > 0]
    if not devices:
        raise DeviceError(f"No sound {kind} device was found.", hint=_NO_DEVICE_HINT)
    if spec is None or (isinstance(spec, str) and spec.strip().lower() in ("", "default")):
        return None
    if isinstance(spec, str) and spec.startswith("pulse:"):
        return _resolve_pulse(spec[len("pulse:"):], kind, devices)
    if isinstance(spec, int) or spec.strip().isdigit():
        index = int(spec)
        for device in devices:
            if device.index == index:
                return index
        raise _unknown(str(spec), kind, devices)
    return _by_name(spec.strip(), kind, devices)


def _by_name(name: str, kind: Kind, devices: list[DeviceInfo]) -> int:
    exact = [d for d in devices if d.name.lower() == name.lower()]
    if len(exact) == 1:
        return exact[0].index
    partial = [d for d in devices if name.lower() in d.name.lower()]
    if len(partial) == 1:
        return partial[0].index
    if len(partial) > 1:
        matches = "; ".join(f"{d.index}: {d.name}" for d in partial)
        raise DeviceError(f"Sound {kind} device {name!r} matches several devices ({matches}).",
                          hint="Give more of the name, or the index.")
    raise _unknown(name, kind, devices)


def _resolve_pulse(name: str, kind: Kind, devices: list[DeviceInfo]) -> int:
    if not name:
        raise DeviceError(f"Sound {kind} device 'pulse:' needs a PulseAudio name.",
                          hint="For example pulse:speaker.monitor (see `pactl list short "
                               + ("sources" if kind == "input" else "sinks") + "`).")
    for device in devices:
        if device.name == "pulse":
            # PulseAudio's ALSA plugin reads this when the stream opens.
            os.environ["PULSE_SOURCE" if kind == "input" else "PULSE_SINK"] = name
            return device.index
    raise DeviceError(f"Sound {kind} device 'pulse:{name}' needs PulseAudio, "
                      "but PortAudio offers no 'pulse' device.",
                      hint="Start PulseAudio, or choose one of: "
                           + _listing(devices) + ".")


def _listing(devices: list[DeviceInfo]) -> str:
    return ", ".join(f"{d.index}: {d.name}" for d in devices)


def _unknown(spec: str, kind: Kind, devices: list[DeviceInfo]) -> DeviceError:
    return DeviceError(f"Unknown sound {kind} device {spec!r}.",
                       hint=f"Choose one of: {_listing(devices)} (index or name), "
                            "default, or pulse:NAME.")
