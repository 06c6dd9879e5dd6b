"""Plain output for screen readers, logs and dumb terminals: nothing is redrawn in place
when ``--plain`` is given, ``NO_COLOR`` is set or ``TERM`` is ``dumb``, even at a terminal."""

from __future__ import annotations

import io

import pytest

from voice_imrs.cli.plain import PLAIN_ENV, choose_plain, plain_output
from voice_imrs.cli.render import ProgressBar


class Terminal(io.StringIO):
    """A stream that says it is a terminal."""

    def isatty(self) -> bool:
        return True


@pytest.fixture
def terminal_env(monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    for name in (PLAIN_ENV, "NO_COLOR"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("TERM", "xterm-256color")
    return monkeypatch


def _bar(stream: io.StringIO) -> str:
    bar = ProgressBar("Rendering", stream)
    for done in range(1, 21):
        bar(done, 20)
    return stream.getvalue()


def test_a_terminal_gets_one_bar_redrawn_in_place(terminal_env: pytest.MonkeyPatch) -> None:
    shown = _bar(Terminal())
    assert shown.count("\r") == 20 and "#" in shown and shown.endswith("\n")


@pytest.mark.parametrize("how", ["--plain", "NO_COLOR", "TERM=dumb", "not a terminal"])
def test_plain_output_is_a_finished_line_each_tenth(terminal_env: pytest.MonkeyPatch,
                                                     how: str) -> None:
    stream: io.StringIO = Terminal()
    if how == "--plain":
        choose_plain(True)
    elif how == "NO_COLOR":
        terminal_env.setenv("NO_COLOR", "")  # set at all, whatever its value
    elif how == "TERM=dumb":
        terminal_env.setenv("TERM", "dumb")
    else:
        stream = io.StringIO()
    assert plain_output(stream)
    lines = _bar(stream).splitlines()
    assert "\r" not in "".join(lines) and "#" not in "".join(lines)
    assert lines[0] == "Rendering: 10 percent (2 of 20 prompts)."
    assert lines[-1] == "Rendering: 100 percent (20 of 20 prompts)." and len(lines) == 10
