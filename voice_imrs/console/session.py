"""A console beside one session: its view observes the runner, its page steers it.

``ConsoleSession`` is what ``simulate`` and the live session take: ``observe`` goes among
the session's observers, ``start(runner)`` opens the page before the runner starts (and
prints its address), ``stop()`` closes it when the session is over. Everything runs on
the session's own asyncio loop: a control from the page is put into the runner's queue
directly and acted on at its next 20 ms tick.
"""

from __future__ import annotations

import asyncio
import sys
import webbrowser
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, TextIO

from voice_imrs.console.state import ConsoleState
from voice_imrs.core.events import LogEvent

if TYPE_CHECKING:
    from voice_imrs.console.server import ConsoleServer
    from voice_imrs.session.runner import SessionRunner


@dataclass
class ConsoleOptions:
    """The command line's choices for the console."""

    port: int = 0
    open_browser: bool = True
    notes: bool = False  # keep a note for this session (shown in the report)
    keep_text: bool = False  # the profile keeps transcripts: typed lines are logged
    teleprompter: bool = False  # the synthetic voice is muted from the start
    on_note: Callable[[str], None] | None = None  # where a saved note goes (the record)
    devices: dict[str, str] = field(default_factory=dict)  # "input" -> name, shown on the page
    stream: TextIO = field(default_factory=lambda: sys.stderr)


class ConsoleSession:
    """The console of one session."""

    def __init__(self, options: ConsoleOptions) -> None:
        self.options = options
        self.state = ConsoleState(notes_enabled=options.notes, on_note=options.on_note,
                                  devices=options.devices, teleprompter=options.teleprompter)
        self.server: ConsoleServer | None = None

    def observe(self, event: LogEvent) -> None:
        """A session observer."""
        self.state.observe(event)

    async def start(self, runner: SessionRunner) -> str:
        """Serve the page for ``runner``; print and return its address."""
        from voice_imrs.console.server import ConsoleServer  # aiohttp loads only here

        if self.options.teleprompter:
            runner.muted = True
        self.state.attach(runner)
        title = runner.plan.script.title or runner.plan.script.name
        self.server = ConsoleServer(self.state, runner.control, title=title,
                                    keep_text=self.options.keep_text, port=self.options.port)
        url = await self.server.start()
        print(f"console: {url}", file=self.options.stream, flush=True)
        if self.options.open_browser:
            # webbrowser may start a process and wait for it: not on the session's loop.
            asyncio.get_running_loop().run_in_executor(None, webbrowser.open, url)
        return url

    async def stop(self) -> None:
        """Close the page's streams and stop serving."""
        if self.server is None:
            return
        await self.server.stop()
        self.server = None
