"""The console's HTTP surface on a real simulated session: security, state, controls."""

from __future__ import annotations

import http.client
import json
import socket
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
from console_driver import RunningConsole, start_console


@pytest.fixture(scope="module")
def console() -> Iterator[RunningConsole]:
    running = start_console(notes=True)
    yield running
    running.stop()


def raw(console: RunningConsole, method: str, path: str, headers: dict[str, str],
        body: str | None = None) -> tuple[int, str]:
    """A request with exactly these headers (requests would fill in Host itself)."""
    port = int(console.base.rsplit(":", 1)[1])
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        connection.putrequest(method, path, skip_host=True, skip_accept_encoding=True)
        for name, value in headers.items():
            connection.putheader(name, value)
        if body is not None:
            connection.putheader("Content-Type", "application/json")
            connection.putheader("Content-Length", str(len(body.encode())))
        connection.endheaders(body.encode() if body is not None else None)
        response = connection.getresponse()
        return response.status, response.read().decode()
    finally:
        connection.close()


def controls_in(console: RunningConsole) -> list[dict]:
    return [e for e in console.state()["events"] if e["event"] == "control"]


def test_prints_one_line_with_loopback_address_and_token(console: RunningConsole) -> None:
    lines = [line for line in console.printed.splitlines() if line.startswith("console:")]
    assert lines == [f"console: {console.url}"]
    assert len(console.token) >= 32


def test_the_page_needs_its_token(console: RunningConsole) -> None:
    assert requests.get(console.url, timeout=10).status_code == 200
    assert requests.get(console.base + "/", timeout=10).status_code == 403
    assert requests.get(console.base + "/?token=wrong", timeout=10).status_code == 403


def test_every_api_path_needs_the_bearer_token(console: RunningConsole) -> None:
    host = console.base.removeprefix("http://")
    for path in ("/api/state", "/api/events", "/?token=", "/anything"):
        for headers in ({}, {"Authorization": "Bearer wrong"},
                        {"Authorization": console.token},  # no scheme
                        ):
            status, _ = raw(console, "GET", path, {"Host": host, **headers})
            assert status == 403, (path, headers)
    # The token in the query does not open the API: only the page takes it from there.
    status, _ = raw(console, "GET", f"/api/state?token={console.token}", {"Host": host})
    assert status == 403


def test_refused_controls_change_nothing(console: RunningConsole) -> None:
    host = console.base.removeprefix("http://")
    before = controls_in(console)
    body = json.dumps({"action": "end"})
    refused = [
        {"Host": host},
        {"Host": host, "Authorization": "Bearer " + console.token[:-1] + "x"},
        {"Host": f"evil.example:{host.split(':')[1]}", **console.headers},  # DNS rebinding
        {"Host": "127.0.0.1", **console.headers},  # not our port
        {"Host": host, "Origin": "http://evil.example", **console.headers},
        {"Host": host, "Origin": "null", **console.headers},
    ]
    for headers in refused:
        status, _ = raw(console, "POST", "/api/control", headers, body)
        assert status == 403, headers
        status, _ = raw(console, "GET", "/api/state", headers)
        assert status == 403, headers
    state = console.state()
    assert controls_in(console) == before
    assert state["ended"] is None and state["step"] != "grounding_close"


def test_listens_on_loopback_only(console: RunningConsole) -> None:
    port = int(console.base.rsplit(":", 1)[1])
    listening = []
    for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
        local, state = line.split()[1], line.split()[3]
        address, hex_port = local.split(":")
        if int(hex_port, 16) == port and state == "0A":  # LISTEN
            listening.append(address)
    assert listening == ["0100007F"]  # 127.0.0.1, and nothing else (nor IPv6)
    assert f":{port:04X} " not in Path("/proc/net/tcp6").read_text().upper()
    for address in {info[4][0] for info in socket.getaddrinfo(socket.gethostname(), None,
                                                               socket.AF_INET)}:
        if address.startswith("127."):
            continue
        with pytest.raises(OSError), socket.create_connection((address, port), timeout=2):
            pass


def test_security_headers_and_a_page_that_loads_nothing(console: RunningConsole) -> None:
    response = requests.get(console.url, timeout=10)
    csp = response.headers["Content-Security-Policy"]
    assert "default-src 'none'" in csp and "connect-src 'self'" in csp
    assert "unsafe-inline" not in csp and "http" not in csp
    assert response.headers["Referrer-Policy"] == "no-referrer"
    page = response.text
    assert "src=" not in page and "<link rel=\"stylesheet\"" not in page
    assert "https://" not in page and "http://" not in page.replace(
        "http://www.w3.org/2000/svg", "")


def test_state_has_the_documented_fields(console: RunningConsole) -> None:
    console.wait_for(lambda s: s["step"], what="a step")
    state = console.state()
    for key in ("step", "phase", "text", "ratings", "events", "next", "outline",
                "started_at", "phase_started_at"):
        assert key in state
    assert state["phase"] == "Console practice"
    assert all({"t", "event", "step", "clock"} <= set(e) for e in state["events"])
    assert [s["id"] for s in state["outline"]][:2] == ["welcome", "rating_start"]


def test_a_console_rating_is_logged_with_its_clock_time(console: RunningConsole) -> None:
    assert console.control("rating", value=3).status_code == 202
    state = console.wait_for(lambda s: s["ratings"], what="the rating")
    rating = state["ratings"][-1]
    assert rating["value"] == 3 and set(rating) >= {"t", "value", "clock"}
    assert any(e["event"] == "control" and e["action"] == "rating" and e["value"] == 3
               for e in state["events"])


def test_bad_control_bodies_are_refused_plainly(console: RunningConsole) -> None:
    for body, status in (({"action": "fly"}, 400), ({"action": "rating", "value": 11}, 400),
                         ({"action": "rating", "value": "7"}, 400), ({"action": "jump"}, 400),
                         ({"nothing": 1}, 400)):
        response = console.control(**body) if "action" in body else requests.post(
            console.base + "/api/control", headers=console.headers, json=body, timeout=10)
        assert response.status_code == status, body
        assert response.json()["ok"] is False and response.json()["error"]


def test_a_note_is_kept_when_notes_are_on(console: RunningConsole) -> None:
    assert console.control("note", text="Calm at the start.").status_code == 200
    assert console.state()["notes"] == "Calm at the start."


def test_the_event_stream_pushes_a_state_then_events(console: RunningConsole) -> None:
    with requests.get(console.base + "/api/events", headers=console.headers, stream=True,
                      timeout=10) as response:
        assert response.headers["Content-Type"].startswith("text/event-stream")
        lines = response.iter_lines(decode_unicode=True)
        first = next(line for line in lines if line.startswith("data: "))
        assert json.loads(first[6:])["type"] == "state"
        console.control("hot_spot")
        pushed = next(line for line in lines if line.startswith("data: ")
                      and '"hot_spot"' in line)
        assert json.loads(pushed[6:])["type"] == "event"


def test_a_typed_line_is_said_and_logged_without_its_text(console: RunningConsole) -> None:
    line = "You are doing really well."
    assert console.control("say", text=line).status_code == 202
    state = console.wait_for(lambda s: any(e["event"] == "control" and e["action"] == "say"
                                           for e in s["events"]), what="the said line")
    said = [e for e in state["events"] if e["event"] == "control" and e["action"] == "say"]
    assert "text" not in said[-1] and "refused" not in said[-1]
    assert any(e["event"] == "paused" and e.get("by") == "console" for e in state["events"])
    assert line not in json.dumps(state)  # the profile keeps no transcripts
    console.control("resume")
