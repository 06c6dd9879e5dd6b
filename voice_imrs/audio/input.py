"""Input audio sources for recognition: a sound device, or a WAV file.

Both implement ``ports.AudioSource`` and deliver 16 kHz mono int16 blocks of 20 ms.
A device that will not open at 16 kHz is opened at its own rate and resampled on the
reader's thread (never in the device callback) by a resampler that carries its state
across blocks; a WAV file at another rate is resampled on reading. A device that delivers
nothing for ``STALL_S`` raises ``DeviceLostError`` from ``read`` instead of waiting for ever.
"""

from __future__ import annotations

import contextlib
import queue
import time
from pathlib import Path
from typing import Any

import numpy as np

from voice_imrs.audio.devices import (
    STALL_S,
    DeviceChoice,
    DeviceLostError,
    choose_device,
    describe_device,
    import_sounddevice,
    opening,
)
from voice_imrs.audio.resampler import StreamResampler
from voice_imrs.audio.wav import read_wav_at
from voice_imrs.errors import AudioFormatError, DeviceError
from voice_imrs.ports import ASR_RATE, BLOCK, BLOCK_S, PCM

#: Silence appended to a file so that endpointing (which waits for a pause) can finish.
TAIL_S = 0.5
#: At most this much unread microphone audio is kept; older blocks are dropped so a
#: stalled reader hears the present, not a backlog.
MAX_BACKLOG_S = 10.0
#: A capture stream over PulseAudio can take 0.2-2 s to deliver its first block (measured
#: by ``bench startup``); only a device silent for longer than this from the start is lost.
FIRST_BLOCK_S = 6.0


class SoundDeviceSource:
    """Microphone blocks from a sound device, via a PortAudio callback and a queue.

    device: index, name (substring), "default"/None, or "pulse:SOURCE" (see
    ``voice_imrs.audio.devices.choose_device``).
    device_rate: open the stream at this rate (as a device that records only at 48 kHz
    forces); None tries 16 kHz first, then the device's own rate.
    """

    def __init__(self, device: str | int | None = None,
                 device_rate: int | None = None) -> None:
        sd = import_sounddevice()
        choice = choose_device(device, "input")
        index = choice.index
        self.device_name = describe_device(sd, choice, device, "input")
        self._queue: queue.Queue[PCM | None] = queue.Queue()
        self._max_blocks = int(MAX_BACKLOG_S / BLOCK_S)
        self._closed = False
        self._last_block: float | None = None
        self.device_rate = int(device_rate or ASR_RATE)
        try:
            self._stream = self._open(sd, choice, self.device_rate)
        except sd.PortAudioError:
            # Some hardware only records at 44.1/48 kHz: open it there and resample.
            info: Any = sd.query_devices(index, "input")
            self.device_rate = int(info["default_samplerate"])
            try:
                self._stream = self._open(sd, choice, self.device_rate)
            except sd.PortAudioError as error:
                raise DeviceError(f"Sound input device {device or 'default'!r} could not be "
                                  f"opened ({error}).",
                                  hint="Choose another one (see `voice-imrs devices`).") from None
        self._resampler = (StreamResampler(self.device_rate, ASR_RATE)
                           if self.device_rate != ASR_RATE else None)
        self._opened = time.monotonic()

    @property
    def sample_rate(self) -> int:
        return ASR_RATE

    def _open(self, sd: Any, choice: DeviceChoice, rate: int) -> Any:
        """A started stream (its blocks only queue up until ``read`` takes them)."""
        blocksize = rate // 50
        with opening(choice, "input"):
            # "low": PortAudio's default (high) input latency held each word back by a
            # further ~40 ms here, and the barge-in p95 went from 210 ms to 390 ms.
            stream = sd.InputStream(device=choice.index, samplerate=rate, channels=1,
                                    dtype="int16", blocksize=blocksize, latency="low",
                                    callback=self._callback)
            stream.start()
        return stream

    def _callback(self, indata: np.ndarray, frames: int, time_info: Any, status: Any) -> None:
        # Runs on PortAudio's thread: copy (the buffer is reused) and hand over at once;
        # resampling waits for the reader's thread.
        block = np.array(indata[:, 0], dtype=np.int16)
        if self._queue.qsize() >= self._max_blocks:
            with contextlib.suppress(queue.Empty):
                self._queue.get_nowait()
        self._queue.put(block)

    def read(self) -> PCM | None:
        """The next block; waits for the device. None once closed.

        Raises DeviceLostError when the stream fails or delivers nothing for ``STALL_S``
        (``FIRST_BLOCK_S`` before its first block).
        """
        if self._closed:
            return None
        while True:
            try:
                block = self._queue.get(timeout=0.25)
            except queue.Empty:
                self._check_stall()
                continue
            if block is None:
                return None
            self._last_block = time.monotonic()
            return self._resampler.process(block) if self._resampler is not None else block

    def _check_stall(self) -> None:
        if self._closed:
            return
        since = self._last_block if self._last_block is not None else self._opened
        limit = STALL_S if self._last_block is not None else FIRST_BLOCK_S
        stalled = time.monotonic() - since
        if stalled > limit or not self._stream.active:
            raise DeviceLostError("input", stalled)

    def close(self) -> None:
        """Stop recording and wake a waiting reader (it gets None)."""
        if self._closed:
            return
        self._closed = True
        from voice_imrs.audio.output import close_stream

        try:
            close_stream(self._stream)
        finally:
            self._queue.put(None)


class WavFileSource:
    """Blocks from a WAV file, resampled to 16 kHz, then ``TAIL_S`` of silence.

    realtime: pace the blocks at the speed of speech (a stand-in microphone); otherwise
    deliver them as fast as they are read.
    """

    def __init__(self, path: str | Path, realtime: bool = False) -> None:
        self.path = str(path)
        samples = read_wav_at(path, ASR_RATE)
        if len(samples) == 0:
            raise AudioFormatError(f"Audio file {self.path!r} holds no audio samples.",
                                   hint="Record or export it again.")
        self.samples: PCM = np.concatenate([samples, np.zeros(int(TAIL_S * ASR_RATE), np.int16)])
        self.realtime = realtime
        self._position = 0
        self._started: float | None = None

    @property
    def sample_rate(self) -> int:
        return ASR_RATE

    @property
    def duration_s(self) -> float:
        """Length of the file's audio, without the appended silence."""
        return (len(self.samples) - int(TAIL_S * ASR_RATE)) / ASR_RATE

    def read(self) -> PCM | None:
        if self._position >= len(self.samples):
            return None
        if self.realtime:
            if self._started is None:
                self._started = time.monotonic()
            due = self._started + self._position / ASR_RATE
            delay = due - time.monotonic()
            if delay > 0:
                time.sleep(delay)
        block = self.samples[self._position:self._position + BLOCK]
        self._position += BLOCK
        return block

    def close(self) -> None:
        self._position = len(self.samples)
