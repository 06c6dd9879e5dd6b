"""Where speech goes: a sound device (that can be silenced within one block), a WAV file,
or nowhere.

``SoundDeviceSink`` owns a sounddevice OutputStream whose callback pulls 10 ms blocks
from a small queue and plays zeros when it is empty. The queue is kept short (about
160 ms, enough for the runner's 120 ms ahead): ``write`` holds its caller while it is
full, so ``abort`` has little to drop and the very next callback is silent. What
PortAudio and the sound server already hold (``OUTPUT_LATENCY_S``) still plays;
nothing here can reach into that.

Every wait is bounded: when the callbacks stop coming for ``STALL_S`` (the sound server
died, the sink was removed), ``write``, ``wait_drained`` and ``check_alive`` raise
``DeviceLostError`` instead of waiting for ever. Resampling to the device's rate happens
in ``write`` (the caller's thread, never the callback) with a resampler that carries its
filter state from block to block, so block edges leave no seam.
"""

from __future__ import annotations

import collections
import threading
import time
from pathlib import Path
from typing import Any

import numpy as np

from voice_imrs.audio.devices import (
    STALL_S,
    DeviceLostError,
    choose_device,
    describe_device,
    import_sounddevice,
    opening,
)
from voice_imrs.audio.resampler import StreamResampler
from voice_imrs.audio.wav import write_wav
from voice_imrs.errors import DeviceError
from voice_imrs.ports import OUTPUT_BLOCK_S, PCM

#: Samples at or below this (after volume) count as silence for ``last_audible_time``.
SILENCE_LEVEL = 0
#: The stream counts as running after this many callbacks (the first ones prime it).
_FLOWING_CALLBACKS = 5
_START_TIMEOUT_S = 3.0
#: What the device may hold ahead of the callback. PortAudio's "low" (20 ms over PulseAudio's
#: ALSA plugin) underflowed hundreds of times a clip on two busy cores, and the plugin's
#: recovery now and then lost a whole short clip (5 of 20 plays of "seven" never reached the
#: sink's monitor); at 0.1 s (90 ms granted) 0 of 20 were lost, with no underflow at all.
OUTPUT_LATENCY_S = 0.1
#: How long closing a stream may take before it is abandoned (a dead sound server can
#: leave PortAudio's abort waiting on a socket that never answers).
_CLOSE_TIMEOUT_S = 1.0


def close_stream(stream: Any, timeout: float = _CLOSE_TIMEOUT_S) -> bool:
    """Abort and close a PortAudio stream, giving up after ``timeout``; True if it closed."""
    done = threading.Event()

    def _close() -> None:
        try:
            stream.abort()
            stream.close()
        except Exception:  # a failing device changes nothing now
            pass
        done.set()

    threading.Thread(target=_close, name="close-stream", daemon=True).start()
    return done.wait(timeout)


class SoundDeviceSink:
    """ports.AudioSink on a sound device.

    device: index, name, "default"/None, or "pulse:SINK" (see audio.devices).
    sample_rate: the rate of the PCM given to ``write``; the stream opens at that rate
        when the device allows it, else at the device's rate, and blocks are resampled.
    block_s: the callback block length; an abort bites within one block.
    max_queued_s: ``write`` holds its caller while more than this is queued.
    device_rate: open the stream at this rate whatever ``sample_rate`` is (as a device
        that accepts only 48 kHz forces); None lets the device decide.
    """

    realtime = True

    def __init__(self, device: str | int | None = None, sample_rate: int = 22050,
                 block_s: float = OUTPUT_BLOCK_S, max_queued_s: float = 0.160,
                 device_rate: int | None = None) -> None:
        sd = import_sounddevice()
        choice = choose_device(device, "output")
        index = choice.index
        self.device_name = describe_device(sd, choice, device, "output")
        self._sample_rate = int(sample_rate)
        self.device_rate = (int(device_rate) if device_rate
                            else self._pick_rate(sd, index, self._sample_rate))
        self._resampler = (StreamResampler(self._sample_rate, self.device_rate)
                           if self.device_rate != self._sample_rate else None)
        self.block_frames = max(1, round(self.device_rate * block_s))
        self._max_queued = max(self.block_frames, round(self.device_rate * max_queued_s))
        self._blocks: collections.deque[PCM] = collections.deque()
        self._offset = 0        # samples of _blocks[0] already played
        self._queued = 0        # samples waiting in _blocks
        self._generation = 0    # bumped by abort(): writes in progress drop the rest
        self._volume = 1.0
        self._closed = False
        self._changed = threading.Condition(threading.Lock())
        self.last_audible_time: float | None = None
        self.last_handoff_time: float | None = None
        self.underflows = 0
        #: When set, every block the device is given (silence included) is appended here,
        #: in the callback: the echo canceller's reference, sample-locked to the device.
        self.tap: collections.deque[PCM] | None = None
        self._callbacks = 0
        self._last_callback = time.monotonic()
        self._flowing = threading.Event()
        try:
            with opening(choice, "output"):
                self._stream = sd.OutputStream(
                    device=index, samplerate=self.device_rate, channels=1, dtype="int16",
                    blocksize=self.block_frames, latency=OUTPUT_LATENCY_S,
                    callback=self._callback)
                self._stream.start()
        except sd.PortAudioError as error:
            raise DeviceError(f"The sound output device {device or 'default'!r} could not "
                              f"be opened ({error}).",
                              hint="Check it with `voice-imrs devices`.") from None
        # PortAudio over PulseAudio's ALSA plugin calls back once, then stalls 0.5-2 s
        # before steady 10 ms callbacks (measured on the virtual device). Waiting here
        # keeps that stall out of the first prompt; on real hardware this takes ~50 ms.
        self.start_s = time.monotonic()
        self._flowing.wait(timeout=_START_TIMEOUT_S)
        self.start_s = time.monotonic() - self.start_s
        self._last_callback = max(self._last_callback, time.monotonic())
        #: Seconds the device and sound server hold after a block was handed over.
        self.output_latency = float(self._stream.latency)

    @staticmethod
    def _pick_rate(sd: Any, index: int | None, wanted: int) -> int:
        try:
            sd.check_output_settings(device=index, samplerate=wanted, channels=1,
                                     dtype="int16")
            return wanted
        except sd.PortAudioError:
            pass
        try:
            return int(sd.query_devices(index, "output")["default_samplerate"])
        except (sd.PortAudioError, ValueError) as error:
            raise DeviceError(f"The sound output device cannot be used ({error}).",
                              hint="Check it with `voice-imrs devices`.") from None

    @property
    def sample_rate(self) -> int:
        return self._sample_rate

    @property
    def volume(self) -> float:
        """Gain 0..1 applied in the callback, so a change is heard within one block."""
        return self._volume

    @volume.setter
    def volume(self, value: float) -> None:
        self._volume = min(max(float(value), 0.0), 1.0)

    @property
    def queued_s(self) -> float:
        """Seconds of audio waiting to be handed to the device."""
        return self._queued / self.device_rate

    def _callback(self, outdata: np.ndarray, frames: int, _time: Any, status: Any) -> None:
        out = outdata[:, 0]
        filled = 0
        self._callbacks += 1
        self._last_callback = time.monotonic()
        if self._callbacks == _FLOWING_CALLBACKS:
            self._flowing.set()
        with self._changed:
            if status.output_underflow:
                self.underflows += 1
            while filled < frames and self._blocks:
                head = self._blocks[0]
                take = min(len(head) - self._offset, frames - filled)
                out[filled:filled + take] = head[self._offset:self._offset + take]
                filled += take
                self._offset += take
                if self._offset >= len(head):
                    self._blocks.popleft()
                    self._offset = 0
            self._queued -= filled
            self._changed.notify_all()
        out[filled:] = 0
        if filled:
            volume = self._volume
            if volume < 1.0:
                out[:filled] = (out[:filled] * volume).astype(np.int16)
            now = time.monotonic()
            self.last_handoff_time = now
            if np.abs(out[:filled]).max() > SILENCE_LEVEL:
                self.last_audible_time = now
        tap = self.tap
        if tap is not None:
            tap.append(out.copy())  # a copy only: resampling waits for the reader

    def write(self, block: PCM) -> None:
        """Queue audio at ``sample_rate``; holds the caller while more than ~160 ms is queued.

        Returns early, dropping the rest, when ``abort`` or ``close`` is called meanwhile.
        Raises DeviceLostError when the device takes nothing for ``STALL_S``.
        """
        audio = np.asarray(block, dtype=np.int16)
        if self._resampler is not None:
            audio = self._resampler.process(audio)
        with self._changed:
            generation = self._generation
        for start in range(0, len(audio), self.block_frames):
            piece = audio[start:start + self.block_frames].copy()
            with self._changed:
                while (self._queued > self._max_queued and generation == self._generation
                       and not self._closed):
                    self._changed.wait(timeout=0.1)
                    self._raise_if_stalled()
                if generation != self._generation or self._closed:
                    return
                self._blocks.append(piece)
                self._queued += len(piece)

    def abort(self) -> None:
        """Drop everything queued: the next callback plays zeros (barge-in)."""
        with self._changed:
            self._blocks.clear()
            self._offset = 0
            self._queued = 0
            self._generation += 1
            if self._resampler is not None:
                self._resampler.reset()
            self._changed.notify_all()

    @property
    def stalled_s(self) -> float:
        """Seconds since the device last asked for audio (0 once closed)."""
        if self._closed:
            return 0.0
        return max(0.0, time.monotonic() - self._last_callback)

    def check_alive(self) -> None:
        """Raise DeviceLostError when the device has asked for nothing for ``STALL_S``."""
        with self._changed:
            self._raise_if_stalled()

    def _raise_if_stalled(self) -> None:
        stalled = self.stalled_s
        if stalled > STALL_S:
            raise DeviceLostError("output", stalled)

    def drain(self) -> None:
        """Wait until everything queued has been heard (an ``abort`` ends the wait)."""
        self.wait_drained(None)

    def wait_drained(self, timeout: float | None) -> bool:
        """Wait until everything queued was handed to the device and has had time to
        play out; True when done, False on timeout. An ``abort`` ends the wait; a device
        that stops asking for audio raises DeviceLostError after ``STALL_S``.
        """
        deadline = None if timeout is None else time.monotonic() + timeout
        with self._changed:
            generation = self._generation
            while self._queued > 0 and generation == self._generation and not self._closed:
                left = 0.1 if deadline is None else min(0.1, deadline - time.monotonic())
                if left <= 0:
                    return False
                self._changed.wait(timeout=left)
                self._raise_if_stalled()
            if generation != self._generation or self._closed:
                return True
            handoff = self.last_handoff_time
        if handoff is not None:
            heard_at = handoff + self.output_latency
            wait = heard_at - time.monotonic()
            if deadline is not None and heard_at > deadline:
                time.sleep(max(0.0, deadline - time.monotonic()))
                return False
            if wait > 0:
                time.sleep(wait)
        return True

    def close(self) -> None:
        """Stop the stream at once (what is queued is dropped)."""
        with self._changed:
            if self._closed:
                return
            self._closed = True
            self._blocks.clear()
            self._queued = 0
            self._changed.notify_all()
        close_stream(self._stream)

    def __enter__(self) -> SoundDeviceSink:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()


class WavFileSink:
    """ports.AudioSink collecting audio and writing a WAV file on ``close``.

    A file has no playback buffer: ``abort`` drops nothing already written, it only
    marks the point where the voice was cut off.
    """

    realtime = False
    queued_s = 0.0

    def __init__(self, path: str | Path, sample_rate: int = 22050) -> None:
        self.path = Path(path)
        self._sample_rate = int(sample_rate)
        self._blocks: list[PCM] = []
        self.volume = 1.0
        self.aborts = 0
        self._closed = False
        parent = self.path.parent
        if not parent.is_dir():
            raise DeviceError(f"Cannot write {str(self.path)!r}: folder {str(parent)!r} "
                              "does not exist.", hint="Create it or choose another path.")

    @property
    def sample_rate(self) -> int:
        return self._sample_rate

    def write(self, block: PCM) -> None:
        audio = np.asarray(block, dtype=np.int16)
        if self.volume < 1.0:
            audio = (audio * max(self.volume, 0.0)).astype(np.int16)
        self._blocks.append(audio.copy())

    def abort(self) -> None:
        self.aborts += 1

    def drain(self) -> None:
        """Nothing is buffered."""

    def wait_drained(self, timeout: float | None) -> bool:
        return True

    def check_alive(self) -> None:
        """A file or nowhere never goes away."""

    @property
    def samples(self) -> PCM:
        """Everything written so far."""
        return np.concatenate(self._blocks) if self._blocks else np.zeros(0, np.int16)

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        try:
            write_wav(self.path, self.samples, self._sample_rate)
        except OSError as error:
            raise DeviceError(f"Cannot write {str(self.path)!r} ({error.strerror}).",
                              hint="Choose another path.") from None

    def __enter__(self) -> WavFileSink:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()


class NullSink:
    """ports.AudioSink that discards audio (counting it), for runs without sound."""

    realtime = False
    queued_s = 0.0

    def __init__(self, sample_rate: int = 22050) -> None:
        self._sample_rate = int(sample_rate)
        self.volume = 1.0
        self.frames_written = 0

    @property
    def sample_rate(self) -> int:
        return self._sample_rate

    def write(self, block: PCM) -> None:
        self.frames_written += len(block)

    def abort(self) -> None:
        """Nothing is queued, so nothing to drop."""

    def drain(self) -> None:
        """Nothing is buffered."""

    def wait_drained(self, timeout: float | None) -> bool:
        return True

    def check_alive(self) -> None:
        """A file or nowhere never goes away."""

    def close(self) -> None:
        """Nothing to release."""
