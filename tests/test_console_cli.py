"""The console from the command line: ``simulate --console-port`` and a port in use."""

from __future__ import annotations

import asyncio
import os
import re
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests

from voice_imrs.console.server import ConsolePortError, ConsoleServer
from voice_imrs.console.state import ConsoleState

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "tests" / "data" / "console"


def test_simulate_serves_the_console_and_ends_through_grounding(tmp_path: Path) -> None:
    env = {**os.environ, "PYTHONPATH": str(ROOT), "VOICE_IMRS_CONFIG_DIR": str(tmp_path),
           "VOICE_IMRS_DATA_DIR": str(tmp_path / "data")}
    log = tmp_path / "events.jsonl"
    child = subprocess.Popen(
        [sys.executable, "-m", "voice_imrs", "simulate", str(DATA / "short_session.toml"),
         "--client", str(DATA / "quiet_client.toml"), "--console-port", "0", "--tts", "espeak",
         "--log", str(log)],
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, env=env)
    try:
        assert child.stderr is not None
        line = child.stderr.readline()  # the first line it prints
        match = re.fullmatch(r"console: (http://127\.0\.0\.1:(\d+))/\?token=(\S+)\n", line)
        assert match, line
        base, token = match.group(1), match.group(3)
        headers = {"Authorization": f"Bearer {token}"}
        deadline = time.monotonic() + 30
        while requests.get(base + "/api/state", headers=headers,
                           timeout=10).json()["step"] is None:
            assert time.monotonic() < deadline
            time.sleep(0.1)
        assert requests.post(base + "/api/control", headers=headers, json={"action": "end"},
                             timeout=10).status_code == 202
        rest = child.communicate(timeout=60)[1]
    finally:
        if child.poll() is None:
            child.kill()
            child.wait(timeout=10)
    assert child.returncode == 0
    assert "console:" not in rest and "simulate: session ended (stopped)" in rest
    logged = log.read_text()
    assert '"event": "control"' in logged and '"grounding_close"' in logged


def test_a_port_in_use_is_one_clear_error() -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        server = ConsoleServer(ConsoleState(), lambda control: None, port=port)
        with pytest.raises(ConsolePortError, match=f"port {port}"):
            asyncio.run(server.start())


def test_a_bad_port_is_refused_by_the_command_line(tmp_path: Path) -> None:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    done = subprocess.run([sys.executable, "-m", "voice_imrs", "console", "--console-port",
                           "70000"], capture_output=True, text=True, timeout=60, env=env)
    assert done.returncode == 2 and "70000 is not a port" in done.stderr
