"""The typed seams between the core and the adapters.

Audio travels as mono ``numpy.int16`` arrays. Microphone audio for recognizers is 16 kHz
(``ASR_RATE``); synthesized speech keeps its synthesizer's rate and the sink resamples.
Adapters implement these protocols; the session runner and the CLI depend only on them.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol, runtime_checkable

import numpy as np
import numpy.typing as npt

if TYPE_CHECKING:
    from voice_imrs.asr.vad import SpeechDetector
    from voice_imrs.core.intents import Expectation

PCM = npt.NDArray[np.int16]
ASR_RATE = 16_000
#: The microphone's block: 20 ms at ``ASR_RATE``, the session's tick and the unit every
#: detector, canceller and recognizer is fed in.
BLOCK = ASR_RATE // 50
BLOCK_S = BLOCK / ASR_RATE
#: Output is written in blocks this long so that an abort bites within one block.
OUTPUT_BLOCK_S = 0.010


@dataclass(frozen=True)
class VoiceSettings:
    """How prompts are spoken.

    voice: a synthesizer voice name or id ("en-us", "en-gb+f3"); "" for the default.
    rate_wpm: words per minute.
    pitch: 0..100, 50 is the voice's normal pitch.
    volume: 0..1 gain applied to the output.
    """

    voice: str = ""
    rate_wpm: int = 125
    pitch: int = 50
    volume: float = 0.8


@dataclass(frozen=True)
class VoiceInfo:
    """One voice a synthesizer offers: ``id`` to pass back, ``name`` and ``languages`` to show."""

    id: str
    name: str
    languages: tuple[str, ...] = ()


@runtime_checkable
class Synthesizer(Protocol):
    """Text to PCM, streamed in chunks so that playback can start and stop early."""

    @property
    def sample_rate(self) -> int: ...

    def voices(self) -> list[VoiceInfo]: ...

    def synthesize(self, text: str, settings: VoiceSettings) -> Iterator[PCM]:
        """Yield the speech for ``text``; closing the iterator early abandons synthesis."""
        ...


@runtime_checkable
class AudioSink(Protocol):
    """Where output audio goes: a sound device, a WAV file, or nowhere.

    realtime: True when a sound card's clock paces the output (``write`` waits while its
    small queue is full); False for a file or nowhere, whose clock is the session's own.
    """

    @property
    def realtime(self) -> bool: ...

    @property
    def sample_rate(self) -> int: ...

    @property
    def queued_s(self) -> float:
        """Seconds written but not yet handed to the device (0 when not real-time)."""
        ...

    def check_alive(self) -> None:
        """Raise DeviceLostError when the output has stopped taking audio."""
        ...

    def write(self, block: PCM) -> None:
        """Queue a block; a real-time sink blocks while its small buffer is full."""
        ...

    def abort(self) -> None:
        """Drop everything queued and go silent now (barge-in)."""
        ...

    def drain(self) -> None:
        """Return once everything written has been heard."""
        ...

    def close(self) -> None: ...


@runtime_checkable
class AudioSource(Protocol):
    """Where input audio comes from: a sound device, a WAV file, a simulated client."""

    @property
    def sample_rate(self) -> int: ...

    def read(self) -> PCM | None:
        """The next block (about 20 ms), or None at the end of the input."""
        ...

    def close(self) -> None: ...


@dataclass(frozen=True)
class Hypothesis:
    """Words a recognizer heard.

    text: the words, lower case ("" when a partial result is empty).
    final: True at the end of an utterance, False for a partial result.
    confidence: 0..1 where the recognizer can tell, else None.
    rejected: a final result the recognizer judged to be none of the allowed answers
        (``text`` is then what it heard, for the log, never an answer).
    """

    text: str
    final: bool
    confidence: float | None = None
    rejected: bool = False


@runtime_checkable
class Recognizer(Protocol):
    """Offline speech recognition over 16 kHz mono PCM, fed in small blocks."""

    name: str

    def accept(self, block: PCM) -> list[Hypothesis]:
        """Feed audio; return what is newly heard (partials as soon as they change)."""
        ...

    def finish(self) -> list[Hypothesis]:
        """End of input: return the final result of the utterance in progress."""
        ...

    def reset(self) -> None:
        """Forget the utterance in progress (after an intent was acted on)."""
        ...

    def expect(self, expectation: Expectation) -> None:
        """What the current step listens for (a recognizer that cannot narrow ignores it)."""
        ...

    @property
    def detector(self) -> SpeechDetector | None:
        """The voice-activity detector ``accept`` feeds, or None: the listener shares it,
        so that one detector runs per block.
        """
        ...
