"""Device listing and resolution against the real virtual PulseAudio device."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap

import pytest
from conftest import ROOT

from voice_imrs.errors import DeviceError


def test_lists_pulse_and_default(pulse: str) -> None:
    from voice_imrs.audio.devices import list_devices

    devices = list_devices()
    names = [d.name for d in devices]
    assert "pulse" in names and "default" in names
    default = [d for d in devices if d.default_output]
    assert len(default) == 1 and default[0].output_channels > 0
    assert any(d.default_input and d.input_channels > 0 for d in devices)


def test_resolve_by_default_index_and_name(pulse: str) -> None:
    from voice_imrs.audio.devices import list_devices, resolve_device

    pulse_index = next(d.index for d in list_devices() if d.name == "pulse")
    assert resolve_device(None, "output") is None
    assert resolve_device("default", "input") is None
    assert resolve_device(pulse_index, "output") == pulse_index
    assert resolve_device(str(pulse_index), "input") == pulse_index
    assert resolve_device("pulse", "output") == pulse_index
    assert resolve_device("PULSE", "output") == pulse_index  # exact, any case
    assert resolve_device("puls", "output") == pulse_index   # unique substring


def test_pulse_form_sets_the_environment(pulse: str, monkeypatch: pytest.MonkeyPatch) -> None:
    from voice_imrs.audio.devices import resolve_device

    # setenv (not delenv) so that monkeypatch removes them again afterwards.
    monkeypatch.setenv("PULSE_SOURCE", "unset")
    monkeypatch.setenv("PULSE_SINK", "unset")
    index = resolve_device("pulse:speaker.monitor", "input")
    assert index is not None
    assert os.environ["PULSE_SOURCE"] == "speaker.monitor"
    assert resolve_device("pulse:mic_feed", "output") == index
    assert os.environ["PULSE_SINK"] == "mic_feed"


def test_unknown_device_lists_the_choices(pulse: str) -> None:
    from voice_imrs.audio.devices import resolve_device

    with pytest.raises(DeviceError) as caught:
        resolve_device("no such card", "output")
    message = str(caught.value)
    assert "no such card" in message and "pulse" in message and "default" in message
    assert "\n" not in message
    with pytest.raises(DeviceError, match="Unknown sound input device '99'"):
        resolve_device(99, "input")
    with pytest.raises(DeviceError, match="several devices"):
        resolve_device("e", "output")  # in both "pulse" and "default"


def test_no_devices_at_all_suggests_demo() -> None:
    # A sound server that does not exist: PortAudio then offers no device at all.
    code = textwrap.dedent("""
        from voice_imrs.audio.devices import list_devices, resolve_device
        from voice_imrs.errors import DeviceError
        assert list_devices() == []
        try:
            resolve_device(None, "output")
        except DeviceError as error:
            print(error)
    """)
    env = dict(os.environ, PULSE_SERVER="unix:/nonexistent/pulse")
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, timeout=60,
                         capture_output=True, text=True, check=True).stdout
    assert "No sound output device" in out and "voice-imrs demo" in out


def test_missing_portaudio_names_the_package() -> None:
    # Simulates the OSError sounddevice raises at import when libportaudio2 is absent.
    code = textwrap.dedent("""
        import builtins
        real_import = builtins.__import__
        def fake_import(name, *args, **kwargs):
            if name == "sounddevice":
                raise OSError("PortAudio library not found")
            return real_import(name, *args, **kwargs)
        builtins.__import__ = fake_import
        from voice_imrs.audio.devices import list_devices
        from voice_imrs.errors import DeviceError
        try:
            list_devices()
        except DeviceError as error:
            print(error)
    """)
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, timeout=60,
                         capture_output=True, text=True, check=True).stdout
    assert "libportaudio2" in out
