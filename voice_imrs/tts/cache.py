"""Rendered prompts, kept and prepared ahead so the next prompt starts without a gap.

A session knows what it will say next: while one prompt plays, ``prefetch`` renders the
next on ONE background worker thread. ``render`` then finds it ready (or waits for that
render instead of starting a second one). Prompts are cached by (text, voice, rate,
pitch); volume is left out on purpose: it is applied at the output, so "louder" acts at
once and does not invalidate the cache.

``stream`` is for a session that must start speaking before a prompt is fully rendered
(the neural voice renders a long prompt in a second or more, one sentence at a time): it
hands back a ``PromptStream`` at once that fills as sentences come, from the cache, from
a prefetch already under way, or from a new render on a short-lived thread.
"""

from __future__ import annotations

import contextlib
import dataclasses
import threading
from collections import OrderedDict
from concurrent.futures import CancelledError, Future, ThreadPoolExecutor

import numpy as np

from voice_imrs.ports import PCM, Synthesizer, VoiceSettings

_Key = tuple[str, VoiceSettings]


class _Abandoned(Exception):
    """A render stopped because its stream was cancelled."""


class PromptStream:
    """A prompt's audio as it is rendered: chunks arrive in order, then ``done``."""

    def __init__(self) -> None:
        self._chunks: list[PCM] = []
        self._lock = threading.Condition()
        self._done = threading.Event()
        self._cancelled = threading.Event()
        self.error: BaseException | None = None

    @classmethod
    def complete(cls, audio: PCM) -> PromptStream:
        """A stream that already holds the whole prompt."""
        stream = cls()
        stream.add(audio)
        stream.finish()
        return stream

    def add(self, chunk: PCM) -> None:
        with self._lock:
            self._chunks.append(chunk)
            self._lock.notify_all()

    def finish(self, error: BaseException | None = None) -> None:
        with self._lock:
            self.error = error
            self._done.set()
            self._lock.notify_all()

    def cancel(self) -> None:
        """Nobody will play the rest: stop rendering it (after the chunk in progress)."""
        self._cancelled.set()

    @property
    def cancelled(self) -> bool:
        return self._cancelled.is_set()

    @property
    def done(self) -> bool:
        """True once every chunk is in (or the render failed: see ``error``)."""
        return self._done.is_set()

    def chunks_from(self, index: int) -> list[PCM]:
        """The chunks from position ``index`` on, as far as they are rendered."""
        with self._lock:
            return self._chunks[index:]

    def pending_from(self, index: int) -> tuple[list[PCM], bool]:
        """The chunks from ``index`` on, and whether they are the last (read together, so
        a chunk added just before ``finish`` is never left out of a finished prompt).
        """
        with self._lock:
            return self._chunks[index:], self._done.is_set()

    def wait_beyond(self, count: int, timeout: float) -> bool:
        """Wait until there are more than ``count`` chunks, or the end; False on timeout."""
        with self._lock:
            return self._lock.wait_for(lambda: len(self._chunks) > count or self.done,
                                       timeout)

    def audio(self) -> PCM:
        """Everything rendered so far, as one array."""
        with self._lock:
            chunks = list(self._chunks)
        return np.concatenate(chunks) if chunks else np.zeros(0, np.int16)


class PromptCache:
    """Whole prompts as PCM at ``sample_rate``, least recently used dropped past ``max_items``."""

    def __init__(self, synth: Synthesizer, max_items: int = 64) -> None:
        self.synth = synth
        self.max_items = max(1, max_items)
        self._items: OrderedDict[_Key, PCM] = OrderedDict()
        self._pending: dict[_Key, Future[PCM]] = {}
        self._streams: dict[_Key, PromptStream] = {}  # renders under way, chunk by chunk
        self._lock = threading.Lock()
        self._worker: ThreadPoolExecutor | None = None
        self._closed = False
        self.hits = 0
        self.misses = 0

    @property
    def sample_rate(self) -> int:
        return self.synth.sample_rate

    @staticmethod
    def _key(text: str, settings: VoiceSettings) -> _Key:
        return text, dataclasses.replace(settings, volume=1.0)

    def cached(self, text: str, settings: VoiceSettings) -> bool:
        """Whether the prompt is rendered and ready."""
        with self._lock:
            return self._key(text, settings) in self._items

    def render(self, text: str, settings: VoiceSettings) -> PCM:
        """The whole prompt (read-only array); rendered now unless cached or being prefetched."""
        key = self._key(text, settings)
        with self._lock:
            if key in self._items:
                self._items.move_to_end(key)
                self.hits += 1
                return self._items[key]
            pending = self._pending.get(key)
        if pending is not None:
            try:
                audio = pending.result()  # raises what the background render raised
            except (CancelledError, _Abandoned):
                pass  # closed before it ran, or its stream was stopped: render it here
            else:
                self.hits += 1
                return audio
        self.misses += 1
        return self._render_and_store(key, text, settings, PromptStream())

    def stream(self, text: str, settings: VoiceSettings) -> PromptStream:
        """The prompt as it renders; returns at once."""
        key = self._key(text, settings)
        with self._lock:
            if key in self._items:
                self._items.move_to_end(key)
                self.hits += 1
                return PromptStream.complete(self._items[key])
            under_way = self._streams.get(key)
            if under_way is not None:
                self.hits += 1
                return under_way
            self.misses += 1
            stream = PromptStream()
            self._streams[key] = stream
        # A daemon thread: a session that ends mid-render must not wait for the sentence.
        threading.Thread(target=self._render_into, args=(key, text, settings, stream),
                         name="prompt-stream", daemon=True).start()
        return stream

    def _render_into(self, key: _Key, text: str, settings: VoiceSettings,
                     stream: PromptStream) -> None:
        # A failure is recorded in the stream, and raised by whoever plays it.
        with contextlib.suppress(Exception):
            self._render_and_store(key, text, settings, stream)

    def prefetch(self, text: str, settings: VoiceSettings) -> None:
        """Start rendering the prompt in the background; returns at once."""
        key = self._key(text, settings)
        with self._lock:
            if self._closed or key in self._items or key in self._pending \
                    or key in self._streams:
                return
            if self._worker is None:
                self._worker = ThreadPoolExecutor(max_workers=1,
                                                  thread_name_prefix="prompt-prefetch")
            stream = PromptStream()
            future = self._worker.submit(self._prefetched, key, text, settings, stream)
            self._pending[key] = future
            self._streams[key] = stream

    def _prefetched(self, key: _Key, text: str, settings: VoiceSettings,
                    stream: PromptStream) -> PCM:
        try:
            return self._render_and_store(key, text, settings, stream)
        finally:
            with self._lock:
                self._pending.pop(key, None)

    def _render_and_store(self, key: _Key, text: str, settings: VoiceSettings,
                          stream: PromptStream) -> PCM:
        """Render into ``stream`` chunk by chunk, cache the whole prompt (read-only), and
        only then retire the stream, so that a prompt is always found one way or the other.
        """
        chunks = self.synth.synthesize(text, settings)
        try:
            for chunk in chunks:
                if stream.cancelled:
                    # A stopped prompt: its rest would only delay what is said next.
                    raise _Abandoned
                stream.add(chunk.astype(np.int16, copy=False))
            audio = stream.audio()
            audio.setflags(write=False)  # shared by every caller: nobody may change it
            self._store(key, audio)
        except BaseException as error:
            stream.finish(error)
            raise
        finally:
            close = getattr(chunks, "close", None)
            if close is not None:
                close()
            with self._lock:
                if self._streams.get(key) is stream:
                    del self._streams[key]
        stream.finish()
        return audio

    def _store(self, key: _Key, audio: PCM) -> PCM:
        with self._lock:
            self._items[key] = audio
            self._items.move_to_end(key)
            while len(self._items) > self.max_items:
                self._items.popitem(last=False)
        return audio

    def close(self) -> None:
        """Stop the background worker; a render in progress stops at its next sentence."""
        with self._lock:
            self._closed = True
            worker, self._worker = self._worker, None
            self._pending.clear()
            # A long prompt takes the neural voice many seconds: an ending session (a lost
            # device must exit within 5 s) does not wait for what nobody will hear.
            for stream in self._streams.values():
                stream.cancel()
        if worker is not None:
            worker.shutdown(wait=True, cancel_futures=True)
        with self._lock:
            for key, stream in list(self._streams.items()):
                if not stream.done:  # a prefetch cancelled before it ran
                    stream.finish(RuntimeError("the prompt cache was closed"))
                    del self._streams[key]

    def __enter__(self) -> PromptCache:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()
