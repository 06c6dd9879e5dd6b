"""The quiet ends of a session runner for tests: a sink that keeps pace with the session
(no sound device), a microphone side that hears nothing, and silent microphone blocks."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import numpy as np

from voice_imrs.ports import BLOCK


class PacedSink:
    """An AudioSink that takes each block as it comes, like a file (not real time);
    subclasses say what they keep of it in ``write``."""

    realtime = False
    queued_s = 0.0

    def __init__(self, rate: int) -> None:
        self._rate = rate

    @property
    def sample_rate(self) -> int:
        return self._rate

    def write(self, block: np.ndarray) -> None:
        """Nothing kept."""

    def abort(self) -> None:
        """Nothing queued."""

    def drain(self) -> None:
        """Nothing buffered."""

    def check_alive(self) -> None:
        """Never goes away."""

    def close(self) -> None:
        """Nothing held."""


class NobodySpeaks:
    """The microphone side: hears nothing."""

    hearing_speech = False

    def feed(self, block: np.ndarray, expect: object) -> list:
        return []

    def reset(self) -> None:
        """Nothing in progress."""


async def silence(seconds: float) -> AsyncIterator[np.ndarray]:
    """``seconds`` of silent 20 ms microphone blocks, letting the loop run between them."""
    for _ in range(int(seconds * 50)):
        yield np.zeros(BLOCK, np.int16)
        await asyncio.sleep(0)
