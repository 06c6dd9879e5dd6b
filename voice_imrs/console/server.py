"""The console's HTTP surface (docs/CONSOLE.md), served by aiohttp on the session's loop.

    GET  /              the page (``?token=TOKEN``)
    GET  /api/state     the whole view as JSON
    GET  /api/events    Server-Sent Events: a ``state`` message, then one per change
    POST /api/control   {"action": "...", ...}: a control for the session, or a note

It binds to 127.0.0.1 only. Every request passes ``auth.refusal`` first (token, Host,
Origin), else 403 and nothing happens. The page's script and style are inline and allowed
by their hashes in a strict Content-Security-Policy, so the page can load nothing at all
from the network, not even from this server, and no request can go anywhere but here.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import hashlib
import json
from collections.abc import Callable
from importlib import resources
from typing import Any

from aiohttp import web

from voice_imrs.console import auth
from voice_imrs.console.state import ConsoleState, NotesOffError
from voice_imrs.core.controls import ACTIONS, Control
from voice_imrs.errors import VoiceImrsError

#: A comment line this often keeps idle streams open through anything that times them out.
KEEPALIVE_S = 15.0
MAX_BODY = 16 * 1024  # a control or a note; anything larger is not ours
MAX_LINE = 2000  # characters of a typed line or a note


class ConsolePortError(VoiceImrsError):
    """The console's port could not be opened."""

    exit_code = 2


def build_page(token_free_title: str) -> tuple[str, str]:
    """The page's HTML and its Content-Security-Policy (hashes of the inline parts)."""
    folder = resources.files("voice_imrs.console") / "assets"
    html = (folder / "console.html").read_text(encoding="utf-8")
    script = (folder / "console.js").read_text(encoding="utf-8")
    style = (folder / "console.css").read_text(encoding="utf-8")
    csp = "; ".join([
        "default-src 'none'",
        f"script-src '{_sha256(script)}'",
        f"style-src '{_sha256(style)}'",
        "connect-src 'self'",
        "img-src data:",
        "base-uri 'none'",
        "form-action 'none'",
        "frame-ancestors 'none'",
    ])
    title = (token_free_title.replace("&", "&amp;").replace("<", "&lt;")
             .replace(">", "&gt;"))
    page = (html.replace("{{title}}", title)
            .replace("{{style}}", style).replace("{{script}}", script))
    return page, csp


def _sha256(text: str) -> str:
    return "sha256-" + base64.b64encode(hashlib.sha256(text.encode()).digest()).decode()


class ConsoleServer:
    """Serves ``state`` and hands controls to ``control`` (the runner's, on this loop).

    keep_text: the profile keeps transcripts, so a typed line may be logged with its text.
    """

    def __init__(self, state: ConsoleState, control: Callable[[Control], None], *,
                 title: str = "voice_imrs", keep_text: bool = False, port: int = 0) -> None:
        self.state = state
        self._control = control
        self.keep_text = keep_text
        self.wanted_port = port
        self.port = 0
        self.token = auth.new_token()
        self._page, self._csp = build_page(title)
        self._runner: web.AppRunner | None = None

    @property
    def url(self) -> str:
        return f"http://{auth.LOOPBACK}:{self.port}/?token={self.token}"

    async def start(self) -> str:
        """Listen on 127.0.0.1; return the page's address with the token."""
        app = web.Application(middlewares=[self._guard], client_max_size=MAX_BODY)
        app.router.add_get("/", self._index)
        app.router.add_get("/api/state", self._get_state)
        app.router.add_get("/api/events", self._events)
        app.router.add_post("/api/control", self._post_control)
        self._runner = web.AppRunner(app, access_log=None, handle_signals=False)
        await self._runner.setup()
        site = web.TCPSite(self._runner, auth.LOOPBACK, self.wanted_port)
        try:
            await site.start()
        except OSError as error:
            await self._runner.cleanup()
            raise ConsolePortError(
                f"The console cannot listen on 127.0.0.1 port {self.wanted_port} "
                f"({error.strerror or error}).",
                hint="Choose another --console-port, or leave it out for a free one.") from None
        self.port = int(self._runner.addresses[0][1])
        return self.url

    async def stop(self) -> None:
        """End every page's stream, then stop listening."""
        self.state.close()
        if self._runner is not None:
            await asyncio.wait_for(self._runner.cleanup(), 5.0)
            self._runner = None

    # ------------------------------------------------------------ the guard

    @web.middleware
    async def _guard(self, request: web.Request, handler: Any) -> web.StreamResponse:
        refused = auth.refusal(host=request.headers.get("Host"),
                               origin=request.headers.get("Origin"), path=request.path,
                               query_token=request.query.get("token"),
                               headers=request.headers, token=self.token, port=self.port)
        if refused is not None:
            return self._secure(web.Response(status=403, text=f"forbidden: {refused}\n"))
        return self._secure(await handler(request))

    def _secure(self, response: web.StreamResponse) -> web.StreamResponse:
        headers = response.headers
        headers["Content-Security-Policy"] = self._csp
        headers["Cache-Control"] = "no-store"
        headers["Referrer-Policy"] = "no-referrer"  # the page's address holds the token
        headers["X-Content-Type-Options"] = "nosniff"
        headers["X-Frame-Options"] = "DENY"
        headers["Cross-Origin-Resource-Policy"] = "same-origin"
        return response

    # ------------------------------------------------------------ routes

    async def _index(self, request: web.Request) -> web.Response:
        return web.Response(text=self._page, content_type="text/html", charset="utf-8")

    async def _get_state(self, request: web.Request) -> web.Response:
        return web.json_response(self.state.snapshot())

    async def _events(self, request: web.Request) -> web.StreamResponse:
        response = web.StreamResponse(headers={"Content-Type": "text/event-stream",
                                               "X-Accel-Buffering": "no"})
        self._secure(response)
        await response.prepare(request)
        queue = self.state.subscribe()
        try:
            await response.write(_sse({"type": "state", "state": self.state.snapshot()}))
            while True:
                try:
                    message = await asyncio.wait_for(queue.get(), KEEPALIVE_S)
                except asyncio.TimeoutError:
                    await response.write(b": keepalive\n\n")
                    continue
                if message is None:
                    break
                await response.write(_sse(message))
        except ConnectionResetError:
            pass  # the page went away
        finally:
            self.state.unsubscribe(queue)
        with contextlib.suppress(ConnectionResetError):
            await response.write_eof()
        return response

    async def _post_control(self, request: web.Request) -> web.Response:
        try:
            body = await request.json()
        except (ValueError, UnicodeDecodeError):
            return _problem(400, "the body is not JSON")
        if not isinstance(body, dict) or not isinstance(body.get("action"), str):
            return _problem(400, 'send {"action": "..."}')
        action = body["action"]
        text = body.get("text", "")
        if not isinstance(text, str) or len(text) > MAX_LINE:
            return _problem(400, f"text must be a string of at most {MAX_LINE} characters")
        if action == "note":
            try:
                self.state.add_note(text)
            except NotesOffError as error:
                return _problem(409, str(error))
            return web.json_response({"ok": True, "action": "note"})
        if action not in ACTIONS:
            return _problem(400, f"unknown action {action!r}; choose one of: "
                                 + ", ".join(sorted(ACTIONS | {"note"})))
        value = body.get("value")
        if action == "rating" and (not isinstance(value, int) or isinstance(value, bool)
                                   or not 0 <= value <= 10):
            return _problem(400, "a rating needs a whole-number value from 0 to 10")
        step = body.get("step")
        if action == "jump" and not isinstance(step, str):
            return _problem(400, "jump needs the step id")
        self._control(Control(action, step=step if isinstance(step, str) else None,
                              value=value if isinstance(value, int) else None,
                              text=text, keep_text=self.keep_text))
        # Accepted: the session acts on it at its next 20 ms tick (the log shows how).
        return web.json_response({"ok": True, "action": action}, status=202)


def _problem(status: int, message: str) -> web.Response:
    return web.json_response({"ok": False, "error": message}, status=status)


def _sse(message: dict[str, Any]) -> bytes:
    return f"data: {json.dumps(message, ensure_ascii=False)}\n\n".encode()
