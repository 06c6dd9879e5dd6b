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
    from voice_imrs.audio.devices import choose_device, list_devices

    pulse_index = next(d.index for d in list_devices() if d.name == "pulse")
    assert choose_device(None, "output").index is None
    assert choose_device("default", "input").index is None
    assert choose_device(pulse_index, "output").index == pulse_index
    assert choose_device(str(pulse_index), "input").index == pulse_index
    assert choose_device("pulse", "output").index == pulse_index
    assert choose_device("PULSE", "output").index == pulse_index  # exact, any case
    assert choose_device("puls", "output").index == pulse_index   # unique substring


def test_pulse_form_names_the_sink_or_source(pulse: str) -> None:
    from voice_imrs.audio.devices import DeviceChoice, choose_device

    before = dict(os.environ)
    source = choose_device("pulse:speaker.monitor", "input")
    assert source.index is not None and source.pulse_name == "speaker.monitor"
    assert choose_device("pulse:mic_feed", "output") == DeviceChoice(source.index, "mic_feed")
    assert dict(os.environ) == before  # nothing is set until a stream opens


def test_a_pulse_choice_holds_for_its_own_stream_only(pulse: str) -> None:
    # Left set after an open, PULSE_SINK / PULSE_SOURCE sent every later stream of the
    # process to the same place: after a 48 kHz test the default microphone heard nothing.
    from voice_imrs.audio.input import SoundDeviceSource
    from voice_imrs.audio.output import SoundDeviceSink

    before = dict(os.environ)
    with SoundDeviceSink("pulse:speaker48", 22050) as chosen, SoundDeviceSink(None, 22050):
        source = SoundDeviceSource("pulse:speaker.monitor")
        try:
            assert dict(os.environ) == before
            assert chosen.device_name == "pulse:speaker48"
            sinks = _sink_of_each_playback()
            assert sorted(sinks) == ["speaker", "speaker48"], sinks
        finally:
            source.close()
    assert dict(os.environ) == before


def _sink_of_each_playback() -> list[str]:
    """The sink name of every playback stream on the server but the keepers' none."""
    names = {line.split()[0]: line.split()[1] for line in subprocess.run(
        ["pactl", "list", "short", "sinks"], capture_output=True, text=True, timeout=10,
        check=True).stdout.splitlines()}
    playbacks = subprocess.run(["pactl", "list", "short", "sink-inputs"], capture_output=True,
                               text=True, timeout=10, check=True).stdout.splitlines()
    return [names[line.split()[1]] for line in playbacks]


def test_unknown_device_lists_the_choices(pulse: str) -> None:
    from voice_imrs.audio.devices import choose_device

    with pytest.raises(DeviceError) as caught:
        choose_device("no such card", "output")
    message = str(caught.value)
    assert "no such card" in message and "pulse" in message and "default" in message
    assert "\n" not in message
    with pytest.raises(DeviceError, match="Unknown sound input device '99'"):
        choose_device(99, "input")
    with pytest.raises(DeviceError, match="several devices"):
        choose_device("e", "output")  # in both "pulse" and "default"


def test_no_devices_at_all_suggests_demo() -> None:
    # A sound server that does not exist: PortAudio then offers no device at all.
    code = textwrap.dedent("""
        from voice_imrs.audio.devices import choose_device, list_devices
        from voice_imrs.errors import DeviceError
        assert list_devices() == []
        try:
            choose_device(None, "output").index
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


def test_bare_pulseaudio_names_are_accepted(pulse: str) -> None:
    from voice_imrs.audio.devices import DeviceChoice, choose_device, list_devices

    pulse_index = next(d.index for d in list_devices() if d.name == "pulse")
    assert choose_device("speaker48", "output") == DeviceChoice(pulse_index, "speaker48")
    assert choose_device("speaker.monitor", "input") == DeviceChoice(pulse_index,
                                                                     "speaker.monitor")
    with pytest.raises(DeviceError) as caught:
        choose_device("nothing like it", "output")
    assert "speaker48" in str(caught.value)  # the PulseAudio names are offered


def test_devices_lists_pulseaudio_names_to_pass(pulse: str) -> None:
    listed = subprocess.run([sys.executable, "-m", "voice_imrs", "devices"], cwd=ROOT,
                            env={**os.environ, "PYTHONPATH": str(ROOT)},
                            capture_output=True, text=True, timeout=60, check=True).stdout
    inputs, outputs = listed.split("Output devices")
    assert "speaker.monitor" in inputs and "mic (mic, default)" in inputs
    assert "speaker (speaker, default)" in outputs and "speaker48" in outputs
    assert "--output NAME" in outputs
