"""A scripted client for ``voice-imrs simulate``: answers from recordings, text or silence.

Scenario file (TOML), paths relative to the file:

    [[reply]]            # consumed in order, each time the session listens for an answer
    audio = "seven.wav"  # recorded speech through the real recognizer, or
    text = "seven"       # typed, or
    silence_s = 12       # no answer for that long

    [[barge_in]]         # mixed into the microphone while a step speaks
    step = "safe_place_intro"
    after_s = 1.5
    audio = "stop.wav"

The client is also the session's microphone: it yields 20 ms blocks of its own timeline
(silence with the scheduled clips mixed in) as fast as they are asked for. Its clock is
the session's clock, so nothing waits on the wall.
"""

from __future__ import annotations

import asyncio
import math
import sys
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import tomllib

from voice_imrs.audio.wav import read_wav_at
from voice_imrs.core.intents import Expectation
from voice_imrs.errors import AudioFormatError, FileLimitError, ScriptError
from voice_imrs.file_limits import SCENARIO_LIMIT, WAV_LIMIT, check_regular, read_text_limited
from voice_imrs.ports import ASR_RATE, BLOCK, PCM

#: A person needs a moment after a question before answering.
REACTION_S = 0.6


@dataclass(frozen=True)
class Reply:
    """One answer: ``audio`` samples, ``text``, or ``silence_s`` of nothing."""

    audio: PCM | None = None
    text: str | None = None
    silence_s: float = 0.0
    label: str = ""


@dataclass(frozen=True)
class BargeIn:
    """Speech mixed into the microphone ``after_s`` seconds after ``step`` starts speaking."""

    step: str
    after_s: float
    audio: PCM
    label: str = ""


@dataclass
class Scenario:
    """The replies and barge-ins of a simulated client."""

    replies: list[Reply] = field(default_factory=list)
    barge_ins: list[BargeIn] = field(default_factory=list)


_REPLY_KEYS = ("audio", "text", "silence_s")
_BARGE_KEYS = ("step", "after_s", "audio")
#: A reply's silence or a barge-in's delay: the bounds of a script's own durations.
MAX_SCENARIO_S = 3600.0
MAX_TEXT = 1000


def _seconds(value: object, where: str, key: str, file: str) -> float:
    if (isinstance(value, bool) or not isinstance(value, (int, float))
            or not math.isfinite(value) or not 0 <= value <= MAX_SCENARIO_S):
        raise ScriptError(f"{where}: {key} must be a number of seconds from 0 to "
                          f"{MAX_SCENARIO_S:g}, not {value!r}.", file=file)
    return float(value)


def _text(value: object, where: str, key: str, file: str) -> str:
    if not isinstance(value, str) or not value.strip() or len(value) > MAX_TEXT:
        raise ScriptError(f"{where}: {key} must be text of 1 to {MAX_TEXT} characters, "
                          f"not {value!r}.", file=file)
    return value


def _audio(base: Path, value: object, where: str, file: str) -> PCM:
    name = _text(value, where, "audio", file)
    path = base / name
    try:
        check_regular(path, "recording", WAV_LIMIT)
    except FileNotFoundError:
        raise ScriptError(f"{where}: the recording {name!r} does not exist.", file=file,
                          hint="Paths are relative to the scenario file.") from None
    except FileLimitError as error:
        raise ScriptError(f"{where}: {error.message}", file=file, hint=error.hint) from None
    try:
        return read_wav_at(path, ASR_RATE)
    except AudioFormatError as error:
        raise ScriptError(f"{where}: {error.message}", file=file, hint=error.hint) from None
    except (ValueError, ZeroDivisionError, OverflowError, MemoryError) as error:
        # A header that lies (a rate of 0, a length that does not match the data).
        raise ScriptError(f"{where}: the recording {name!r} is not a usable WAV file "
                          f"({type(error).__name__}).", file=file,
                          hint="Export it again as 16-bit PCM WAV.") from None


def _tables(data: dict, key: str, file: str) -> list[dict]:
    entries = data.get(key, [])
    if not isinstance(entries, list) or not all(isinstance(e, dict) for e in entries):
        raise ScriptError(f"{key} must be a list of [[{key}]] tables.", file=file)
    return entries


def load_scenario(path: str | Path) -> Scenario:
    """Read a scenario TOML file; errors name the file and the entry."""
    path = Path(path)
    file = str(path)
    try:
        data = tomllib.loads(read_text_limited(path, "scenario", SCENARIO_LIMIT))
    except FileNotFoundError:
        raise ScriptError("scenario file not found", file=file,
                          hint="Check the --client path.") from None
    except FileLimitError as error:
        raise ScriptError(error.message.split(": ", 1)[-1], file=file,
                          hint=error.hint) from None
    except (OSError, UnicodeDecodeError) as error:
        raise ScriptError(f"the scenario cannot be read ({error})", file=file) from None
    except tomllib.TOMLDecodeError as error:
        raise ScriptError(f"not valid TOML ({error})", file=file) from None
    unknown = sorted(set(data) - {"reply", "barge_in"})
    if unknown:
        raise ScriptError(f"unknown key {unknown[0]!r}.", file=file,
                          hint="A scenario has [[reply]] and [[barge_in]] tables only.")
    base = path.parent
    scenario = Scenario()
    for number, entry in enumerate(_tables(data, "reply", file), 1):
        where = f"reply {number}"
        given = [key for key in _REPLY_KEYS if key in entry]
        if len(given) != 1 or set(entry) - set(_REPLY_KEYS):
            raise ScriptError(f"{where} needs exactly one of audio, text or silence_s",
                              file=file)
        if "audio" in entry:
            scenario.replies.append(Reply(audio=_audio(base, entry["audio"], where, file),
                                          label=str(entry["audio"])))
        elif "text" in entry:
            text = _text(entry["text"], where, "text", file)
            scenario.replies.append(Reply(text=text, label=text))
        else:
            seconds = _seconds(entry["silence_s"], where, "silence_s", file)
            scenario.replies.append(Reply(silence_s=seconds, label=f"silence {seconds:g}s"))
    for number, entry in enumerate(_tables(data, "barge_in", file), 1):
        where = f"barge_in {number}"
        missing = {"step", "audio"} - set(entry)
        if missing:
            raise ScriptError(f"barge_in {number} lacks {', '.join(sorted(missing))}",
                              file=file)
        if set(entry) - set(_BARGE_KEYS):
            raise ScriptError(f"{where} has an unknown key; its keys are "
                              f"{', '.join(_BARGE_KEYS)}", file=file)
        scenario.barge_ins.append(BargeIn(
            _text(entry["step"], where, "step", file),
            _seconds(entry.get("after_s", 0.0), where, "after_s", file),
            _audio(base, entry["audio"], where, file), str(entry["audio"])))
    return scenario


class SimulatedClient:
    """The microphone and keyboard of a scripted client, on the session's clock."""

    def __init__(self, scenario: Scenario, typed: asyncio.Queue[str],
                 max_session_s: float = 4 * 3600.0, realtime: bool = False,
                 fallback: Callable[[Expectation], Reply | None] | None = None) -> None:
        self.replies = list(scenario.replies)
        self.fallback = fallback
        self.barge_ins = list(scenario.barge_ins)
        self.typed = typed
        self.max_session_s = max_session_s
        self.realtime = realtime
        self.t = 0.0
        self._busy_until = 0.0
        self._clips: list[tuple[int, PCM]] = []  # (start sample, audio)
        self._texts: list[tuple[float, str]] = []
        self._sample = 0

    def on_listen(self, t: float, expect: Expectation) -> None:
        """The session began listening for an answer: give the next reply.

        When the scenario's replies are used up, ``fallback`` (if any) answers by rule.
        """
        if t < self._busy_until:
            return
        if self.replies:
            reply = self.replies.pop(0)
        elif self.fallback is None or (chosen := self.fallback(expect)) is None:
            return
        else:
            reply = chosen
        at = t + REACTION_S
        if reply.audio is not None:
            self._clips.append((int(at * ASR_RATE), reply.audio))
            self._busy_until = at + len(reply.audio) / ASR_RATE
        elif reply.text is not None:
            self._texts.append((at, reply.text))
            self._busy_until = at
        else:
            self._busy_until = t + reply.silence_s

    def on_say(self, step: str | None, t: float) -> None:
        """A step began speaking: schedule the barge-ins meant for it (once each)."""
        for barge in [b for b in self.barge_ins if b.step == step]:
            self.barge_ins.remove(barge)
            self._clips.append((int((t + barge.after_s) * ASR_RATE), barge.audio))

    def _block(self) -> PCM:
        start, end = self._sample, self._sample + BLOCK
        out = np.zeros(BLOCK, np.int32)
        for clip_start, audio in self._clips:
            lo, hi = max(start, clip_start), min(end, clip_start + len(audio))
            if lo < hi:
                out[lo - start:hi - start] += audio[lo - clip_start:hi - clip_start]
        self._clips = [(s, a) for s, a in self._clips if s + len(a) > end]
        self._sample = end
        self.t = end / ASR_RATE
        return np.clip(out, -32768, 32767).astype(np.int16)

    async def blocks(self) -> AsyncIterator[PCM]:
        """20 ms microphone blocks until the session ends (or the time limit)."""
        while self.t < self.max_session_s:
            for due in [x for x in self._texts if x[0] <= self.t]:
                self._texts.remove(due)
                self.typed.put_nowait(due[1])
            yield self._block()
            if self.realtime:
                await asyncio.sleep(BLOCK / ASR_RATE)
            elif self._sample % (BLOCK * 50) == 0:
                await asyncio.sleep(0)  # let signal handlers in now and then
        print("simulate: the session hit its time limit", file=sys.stderr)
