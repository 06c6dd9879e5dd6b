"""A simulated session with its console, on a thread, for the console's tests."""

from __future__ import annotations

import contextlib
import io
import re
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import requests

from voice_imrs.console.session import ConsoleOptions, ConsoleSession
from voice_imrs.core.profile import Profile
from voice_imrs.script_files import load_script
from voice_imrs.session.simulate import SimulationResult, simulate
from voice_imrs.session.simulated_client import load_scenario

DATA = Path(__file__).resolve().parent / "data" / "console"
#: Questions wait two minutes before a reprompt: no silence detour while a test clicks.
QUIET_PROFILE = Profile(silence_s=120.0)


class _Lines(io.StringIO):
    """Standard error of the console: kept, so the test can read the printed address."""


@dataclass
class RunningConsole:
    """A session running in real time with its console; ``url`` once it serves."""

    url: str = ""
    base: str = ""
    token: str = ""
    result: SimulationResult | None = None
    error: BaseException | None = None
    printed: str = ""
    thread: threading.Thread | None = None
    session: ConsoleSession | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}

    def state(self) -> dict[str, Any]:
        response = requests.get(self.base + "/api/state", headers=self.headers, timeout=10)
        response.raise_for_status()
        return response.json()

    def control(self, action: str, **fields: Any) -> requests.Response:
        return requests.post(self.base + "/api/control", headers=self.headers,
                             json={"action": action, **fields}, timeout=10)

    def wait_for(self, check: Any, timeout: float = 30.0, what: str = "") -> Any:
        """Poll until ``check(state)`` is truthy (bounded); return that state."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            state = self.state()
            if check(state):
                return state
            time.sleep(0.2)
        raise AssertionError(f"timed out waiting for {what or check}")

    def stop(self) -> SimulationResult:
        """End the session through its grounding and wait for the thread (bounded)."""
        assert self.thread is not None
        if self.thread.is_alive() and self.url:
            with contextlib.suppress(requests.RequestException):  # already closing
                self.control("end")
        self.thread.join(timeout=90)
        assert not self.thread.is_alive(), "the simulated session did not end"
        if self.error is not None:
            raise self.error
        assert self.result is not None
        return self.result


def _wait_for_prefetch(deadline: float) -> None:
    """The session's prompt prefetcher starts with its first prompt: wait for it, so that
    the module's tests do not count it as a thread they left running."""
    while time.monotonic() < deadline:
        if any(t.name.startswith("prompt-prefetch") for t in threading.enumerate()):
            return
        time.sleep(0.05)


def start_console(script: str = "short_session.toml", client: str = "quiet_client.toml",
                  notes: bool = False, **options: Any) -> RunningConsole:
    """Start a real-time simulated session with its console; return once it serves."""
    running = RunningConsole()
    stream = _Lines()
    running.session = ConsoleSession(ConsoleOptions(open_browser=False, stream=stream,
                                                    notes=notes, **options))

    def run() -> None:
        try:
            running.result = simulate(load_script(DATA / script), load_scenario(DATA / client),
                                      QUIET_PROFILE, realtime=True, tts="espeak",
                                      console=running.session)
        except BaseException as error:  # reported by stop()
            running.error = error

    running.thread = threading.Thread(target=run, name="console-session")
    running.thread.start()
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and running.thread.is_alive():
        match = re.search(r"^console: (http://127\.0\.0\.1:(\d+)/\?token=(\S+))$",
                          stream.getvalue(), re.MULTILINE)
        if match:
            running.printed = stream.getvalue()
            running.url, running.token = match.group(1), match.group(3)
            running.base = f"http://127.0.0.1:{match.group(2)}"
            _wait_for_prefetch(deadline)
            return running
        time.sleep(0.05)
    running.stop()
    raise AssertionError("the console never printed its address")
