"""Rendered prompts, kept and prepared ahead so the next prompt starts without a gap.

A session knows what it will say next: while one prompt plays, ``prefetch`` renders the
next on ONE background worker thread. ``render`` then finds it ready (or waits for that
render instead of starting a second one). Prompts are cached by (text, voice, rate,
pitch); volume is left out on purpose: it is applied at the output, so "louder" acts at
once and does not invalidate the cache.
"""

from __future__ import annotations

import dataclasses
import threading
from collections import OrderedDict
from concurrent.futures import CancelledError, Future, ThreadPoolExecutor

import numpy as np

from voice_imrs.ports import PCM, Synthesizer, VoiceSettings

_Key = tuple[str, VoiceSettings]


class PromptCache:
    """Whole prompts as PCM at ``sample_rate``, least recently used dropped past ``max_items``."""

    def __init__(self, synth: Synthesizer, max_items: int = 64) -> None:
        self.synth = synth
        self.max_items = max(1, max_items)
        self._items: OrderedDict[_Key, PCM] = OrderedDict()
        self._pending: dict[_Key, Future[PCM]] = {}
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
            except CancelledError:
                pass  # closed before it ran: render it here
            else:
                self.hits += 1
                return audio
        self.misses += 1
        return self._store(key, self._synthesize(text, settings))

    def prefetch(self, text: str, settings: VoiceSettings) -> None:
        """Start rendering the prompt in the background; returns at once."""
        key = self._key(text, settings)
        with self._lock:
            if self._closed or key in self._items or key in self._pending:
                return
            if self._worker is None:
                self._worker = ThreadPoolExecutor(max_workers=1,
                                                  thread_name_prefix="prompt-prefetch")
            future = self._worker.submit(self._prefetched, key, text, settings)
            self._pending[key] = future

    def _prefetched(self, key: _Key, text: str, settings: VoiceSettings) -> PCM:
        try:
            return self._store(key, self._synthesize(text, settings))
        finally:
            with self._lock:
                self._pending.pop(key, None)

    def _synthesize(self, text: str, settings: VoiceSettings) -> PCM:
        chunks = list(self.synth.synthesize(text, settings))
        audio = np.concatenate(chunks) if chunks else np.zeros(0, np.int16)
        audio = audio.astype(np.int16, copy=False)
        audio.setflags(write=False)  # shared by every caller: nobody may change it
        return audio

    def _store(self, key: _Key, audio: PCM) -> PCM:
        with self._lock:
            self._items[key] = audio
            self._items.move_to_end(key)
            while len(self._items) > self.max_items:
                self._items.popitem(last=False)
        return audio

    def close(self) -> None:
        """Stop the background worker (a render in progress finishes first)."""
        with self._lock:
            self._closed = True
            worker, self._worker = self._worker, None
            self._pending.clear()
        if worker is not None:
            worker.shutdown(wait=True, cancel_futures=True)

    def __enter__(self) -> PromptCache:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()
