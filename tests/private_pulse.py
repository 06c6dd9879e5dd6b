"""A PulseAudio server of a test's own, in its own folder, that the test may kill.

The shared virtual device (``scripts/virtual-audio.sh``, the ``pulse`` fixture) must stay
up for every other test, so tests that take the sound server away start this one instead:
a null sink ``speaker`` and a silent source ``mic`` (``module-null-source``), and nothing
else, so that unloading the sink leaves PulseAudio nowhere to move a stream to.
"""

from __future__ import annotations

import os
import signal
import subprocess
import time
from pathlib import Path

MODULES = """
load-module module-null-sink sink_name=speaker sink_properties=device.description=speaker
load-module module-null-source source_name=mic rate=16000 channels=1
set-default-sink speaker
set-default-source mic
"""


class PrivatePulse:
    """``start()`` a server in ``folder``; ``kill()``, ``unload(name)``, ``stop()`` it."""

    def __init__(self, folder: Path, modules: str = MODULES) -> None:
        self.folder = folder
        self.run_dir = folder / "run"
        self.socket = self.run_dir / "pulse" / "native"
        self.server = f"unix:{self.socket}"
        self.modules = modules
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def env(self) -> dict[str, str]:
        """The environment a client of this server needs."""
        env = {**os.environ, "PULSE_SERVER": self.server}
        for variable in ("PULSE_SINK", "PULSE_SOURCE"):
            env.pop(variable, None)
        return env

    def start(self) -> PrivatePulse:
        (self.run_dir / "pulse").mkdir(parents=True, exist_ok=True)
        (self.folder / "home").mkdir(exist_ok=True)
        self.run_dir.chmod(0o700)
        config = self.folder / "default.pa"
        config.write_text("load-module module-native-protocol-unix auth-anonymous=1 "
                          f"socket={self.socket}\n" + self.modules, encoding="utf-8")
        env = {**os.environ, "XDG_RUNTIME_DIR": str(self.run_dir),
               "HOME": str(self.folder / "home")}
        env.pop("PULSE_SERVER", None)
        # Not daemonized: the test owns the process and kills exactly it.
        self.process = subprocess.Popen(
            ["pulseaudio", "-n", "--daemonize=no", "--exit-idle-time=-1",
             "--use-pid-file=no", "--log-target=file:" + str(self.folder / "pulse.log"),
             "-F", str(config)],
            env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            if self.pactl("info").returncode == 0:
                return self
            time.sleep(0.05)
        self.stop()
        raise AssertionError(f"private PulseAudio did not start; see {self.folder}/pulse.log")

    def pactl(self, *args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(["pactl", *args], env=self.env, capture_output=True,
                              text=True, timeout=10, check=False)

    def module_of(self, name: str) -> str:
        """The index of the module that made sink or source ``name``."""
        for line in self.pactl("list", "short", "modules").stdout.splitlines():
            if f"_name={name}" in line:
                return line.split()[0]
        raise AssertionError(f"no module made {name!r}")

    def unload(self, name: str) -> None:
        """Remove the sink or source ``name`` (as unplugging a headset does)."""
        result = self.pactl("unload-module", self.module_of(name))
        assert result.returncode == 0, result.stderr

    def kill(self) -> None:
        """The server dies at once (SIGKILL): no goodbye to its clients."""
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait(timeout=10)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.kill()
