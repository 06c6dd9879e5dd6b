"""Speaking one prompt: synthesize, write to a sink, go silent at once when asked to stop."""

from __future__ import annotations

import threading
from typing import Protocol, runtime_checkable

from voice_imrs.audio.wav import resample
from voice_imrs.ports import AudioSink, Synthesizer, VoiceSettings

#: How often a stop request is looked at while the tail of a prompt plays out.
_STOP_POLL_S = 0.010


@runtime_checkable
class _DrainsWithTimeout(Protocol):
    def wait_drained(self, timeout: float | None) -> bool: ...


def speak(text: str, synth: Synthesizer, sink: AudioSink, settings: VoiceSettings,
          stop_event: threading.Event | None = None) -> bool:
    """Play ``text`` on ``sink``; True when it played to the end, False if stopped early.

    Setting ``stop_event`` from another thread abandons synthesis and silences the sink
    within one output block. A KeyboardInterrupt (Ctrl-C) silences it too, then propagates.
    """
    if hasattr(sink, "volume"):
        sink.volume = settings.volume
    chunks = synth.synthesize(text, settings)
    finished = False
    try:
        piece = max(1, int(sink.sample_rate * _STOP_POLL_S))
        for chunk in chunks:
            # Resampled whole (no seams every few ms), written in small pieces: the sink
            # holds us only while its short queue is full, so a stop is seen within ~10 ms.
            audio = resample(chunk, synth.sample_rate, sink.sample_rate)
            for start in range(0, len(audio), piece):
                if _stopped(stop_event):
                    return False
                sink.write(audio[start:start + piece])
        while not _drained(sink):
            if _stopped(stop_event):
                return False
        finished = True
        return True
    finally:
        if not finished:
            sink.abort()  # silence first: abandoning synthesis may wait for a sentence
        close = getattr(chunks, "close", None)
        if close is not None:
            close()  # abandons synthesis of the rest


def _stopped(stop_event: threading.Event | None) -> bool:
    return stop_event is not None and stop_event.is_set()


def _drained(sink: AudioSink) -> bool:
    if isinstance(sink, _DrainsWithTimeout):
        return sink.wait_drained(_STOP_POLL_S)
    sink.drain()
    return True
