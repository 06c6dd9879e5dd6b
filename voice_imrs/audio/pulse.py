"""What the PulseAudio (or PipeWire-Pulse) server offers, asked through ``pactl``.

PortAudio sees the whole server as one device, "pulse"; the sinks and sources behind it
are named only by PulseAudio. ``pactl`` is optional: without it (or without a server)
these return nothing and the callers fall back to PortAudio's names.
"""

from __future__ import annotations

import shutil
import subprocess
from dataclasses import dataclass
from typing import Literal

Kind = Literal["input", "output"]
#: pactl answers a live server in milliseconds; a dead or hung one must not hold us up.
_PACTL_TIMEOUT_S = 2.0


@dataclass(frozen=True)
class PulseDevice:
    """One sink (output) or source (input): ``name`` is what ``pulse:NAME`` takes."""

    name: str
    description: str
    kind: Kind
    monitor: bool = False  # a sink's monitor source (hears what the sink plays)


def _pactl(*args: str) -> str | None:
    if shutil.which("pactl") is None:
        return None
    try:
        done = subprocess.run(["pactl", *args], capture_output=True, text=True,
                              timeout=_PACTL_TIMEOUT_S, check=False)
    except (OSError, subprocess.SubprocessError):
        return None
    return done.stdout if done.returncode == 0 else None


def pulse_devices() -> list[PulseDevice]:
    """Every sink and source of the running server (empty without pactl or a server)."""
    found: list[PulseDevice] = []
    for kind, what in (("output", "sinks"), ("input", "sources")):
        listing = _pactl("list", what)
        if listing is None:
            continue
        found.extend(_parse(listing, kind))  # type: ignore[arg-type]
    return found


def _parse(listing: str, kind: Kind) -> list[PulseDevice]:
    devices: list[PulseDevice] = []
    name = description = ""
    for raw in [*listing.splitlines(), "Sink #end"]:
        line = raw.strip()
        if line.startswith(("Sink #", "Source #")):
            if name:
                devices.append(PulseDevice(name, description or name, kind,
                                           monitor=name.endswith(".monitor")))
            name = description = ""
        elif line.startswith("Name:"):
            name = line.split(":", 1)[1].strip()
        elif line.startswith("Description:"):
            description = line.split(":", 1)[1].strip()
    return devices


def default_pulse_device(kind: Kind) -> str | None:
    """The server's default sink (output) or source (input), or None."""
    answer = _pactl("get-default-sink" if kind == "output" else "get-default-source")
    return answer.strip() or None if answer else None
