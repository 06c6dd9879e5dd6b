"""An acoustic echo canceller: SpeexDSP's, through ctypes, on Debian's ``libspeexdsp1``.

Through loudspeakers the microphone hears the prompt back, late and coloured by the room.
We know exactly what we played, so an adaptive filter (SpeexDSP's multidelay block
frequency-domain filter) learns the path from the played signal to the microphone and
subtracts its estimate; SpeexDSP's preprocessor then suppresses what echo is left. What
remains is what the client said, even while the voice plays ("double talk"). The echo
gate (``session/echo_gate.py``) stays behind it as the second line.

The reference (the played signal) is handed over as it is written to the speaker, at the
speaker's rate, and resampled to 16 kHz with a streaming resampler; a FIFO lines it up
with the microphone blocks. The filter covers ``tail_s`` of delay plus room. Sound
servers, Bluetooth and the virtual device add more delay than that (about 540 ms on the
virtual loopback of ``bench barge-in --loudspeaker``), so a delay estimator (the
cross-correlation of reference and microphone, once a second while the voice plays) holds
the reference back by all but ``DELAY_MARGIN_S`` of the measured delay.

The cleaned signal is used only while the estimator hears the speaker in the microphone
(``hears_echo``): with headphones there is no echo to take out, and an adaptive filter
that learns from a client's own voice subtracts a copy of the prompt that the echo gate
then takes for echo (3.3 % of the blocks of words said over a prompt were muted, against
1.2 % with the gate alone). The filter keeps adapting all the same.

Why SpeexDSP: measured in ``bench echo-gate`` (docs/BENCHMARKS.md), it needs nothing but
a Debian library that PulseAudio already pulls in, and costs well under 1 % of a core;
WebRTC's canceller needs a 5-6 minute build from source.
"""

from __future__ import annotations

import ctypes
import ctypes.util
from collections import deque
from functools import cache

import numpy as np

from voice_imrs.audio.resampler import StreamResampler
from voice_imrs.errors import DeviceError
from voice_imrs.ports import ASR_RATE, BLOCK, PCM

#: SpeexDSP's control codes (speex_echo.h, speex_preprocess.h).
_ECHO_SET_SAMPLING_RATE = 24
_PREPROCESS_SET_DENOISE = 0
_PREPROCESS_SET_AGC = 2
_PREPROCESS_SET_DEREVERB = 8
_PREPROCESS_SET_NOISE_SUPPRESS = 18
_PREPROCESS_SET_ECHO_SUPPRESS = 20
_PREPROCESS_SET_ECHO_SUPPRESS_ACTIVE = 22
_PREPROCESS_SET_ECHO_STATE = 24
#: 20 ms frames at 16 kHz: one SpeexDSP call per microphone block (10 ms frames cost
#: twice the per-call overhead for the same cancellation).
FRAME = BLOCK
#: At most this much reference waits for its microphone block; older audio is dropped
#: (the two sides drifted apart; the filter re-learns the delay).
MAX_REFERENCE_S = 2.0
#: The delay estimator looks this far back, for delays up to ``MAX_DELAY_S``.
_HISTORY_S = 3.0
MAX_DELAY_S = 1.2
#: The reference is held back by the measured delay less this: the filter keeps room for
#: the delay to move a little and for the start of the room's response.
DELAY_MARGIN_S = 0.06
#: A delay estimate counts when the correlation peak stands this many standard deviations
#: above the rest (uncorrelated signals give 4-5 over 4,800 lags) ...
_COHERENT = 8.0
#: ... and two estimates in a row agree within this.
_AGREE_S = 0.02
#: The estimator runs every this many frames (1 s).
_ESTIMATE_EVERY = 50
_DECIMATE = 4  # the estimator works at 4 kHz: enough for a delay to 1 ms, and cheap
#: The microphone counts as hearing the speaker for this long after the estimator last
#: found the speaker in it (in frames: 10 s).
_ECHO_HEARD_FRAMES = 500


@cache
def _library() -> ctypes.CDLL:
    name = ctypes.util.find_library("speexdsp") or "libspeexdsp.so.1"
    try:
        lib = ctypes.CDLL(name)
    except OSError as error:
        raise DeviceError(f"The echo canceller's library could not be loaded ({error}).",
                          hint="Install it (Debian/Ubuntu: sudo apt install libspeexdsp1), "
                               "or use headphones and set echo_cancel = false.") from None
    lib.speex_echo_state_init.restype = ctypes.c_void_p
    lib.speex_echo_state_init.argtypes = [ctypes.c_int, ctypes.c_int]
    lib.speex_echo_state_destroy.argtypes = [ctypes.c_void_p]
    lib.speex_echo_ctl.argtypes = [ctypes.c_void_p, ctypes.c_int, ctypes.c_void_p]
    short_p = ctypes.POINTER(ctypes.c_int16)
    lib.speex_echo_cancellation.argtypes = [ctypes.c_void_p, short_p, short_p, short_p]
    lib.speex_preprocess_state_init.restype = ctypes.c_void_p
    lib.speex_preprocess_state_init.argtypes = [ctypes.c_int, ctypes.c_int]
    lib.speex_preprocess_state_destroy.argtypes = [ctypes.c_void_p]
    lib.speex_preprocess_ctl.argtypes = [ctypes.c_void_p, ctypes.c_int, ctypes.c_void_p]
    lib.speex_preprocess_run.argtypes = [ctypes.c_void_p, short_p]
    return lib


def available() -> bool:
    """Whether SpeexDSP can be loaded on this machine."""
    try:
        _library()
    except DeviceError:
        return False
    return True


class EchoCanceller:
    """Removes the echo of what we played from the microphone, 10 ms frame by frame.

    tail_s: the longest delay plus room reverberation the filter covers.
    suppress_db: how far the preprocessor pushes residual echo down (negative dB) while
      only the voice plays; None leaves the preprocessor out.
    suppress_active_db: the same while the client speaks too.
    """

    def __init__(self, tail_s: float = 0.4, suppress_db: int | None = -40,
                 suppress_active_db: int = -15, noise_db: int = 0) -> None:
        self._lib = _library()
        self._echo = self._lib.speex_echo_state_init(FRAME, int(tail_s * ASR_RATE))
        self._pre = self._lib.speex_preprocess_state_init(FRAME, ASR_RATE)
        if not self._echo or not self._pre:
            raise DeviceError("The echo canceller could not be started.",
                              hint="Use headphones, or check libspeexdsp1.")
        self._ctl(self._lib.speex_echo_ctl, self._echo, _ECHO_SET_SAMPLING_RATE, ASR_RATE)
        self._suppress = suppress_db is not None
        suppress_db = -40 if suppress_db is None else suppress_db
        # SpeexDSP applies its residual-echo gain only with its denoiser on; the noise
        # suppression itself is set to ``noise_db`` (0: none), so the client's voice, which
        # the recognizers were measured on, is changed as little as possible.
        for code, value in ((_PREPROCESS_SET_DENOISE, 1), (_PREPROCESS_SET_AGC, 0),
                            (_PREPROCESS_SET_NOISE_SUPPRESS, noise_db),
                            (_PREPROCESS_SET_DEREVERB, 0),
                            (_PREPROCESS_SET_ECHO_SUPPRESS, suppress_db),
                            (_PREPROCESS_SET_ECHO_SUPPRESS_ACTIVE, suppress_active_db)):
            self._ctl(self._lib.speex_preprocess_ctl, self._pre, code, value)
        self._lib.speex_preprocess_ctl(self._pre, _PREPROCESS_SET_ECHO_STATE,
                                       ctypes.c_void_p(self._echo))
        self._reference: deque[np.ndarray] = deque()
        self._queued = 0
        self._resamplers: dict[int, StreamResampler] = {}
        self._mic_rest = np.zeros(0, np.int16)
        self.frames = 0
        #: Samples by which the reference is held back (the delay estimator sets it).
        self.delay = 0
        history = int(_HISTORY_S * ASR_RATE / _DECIMATE)
        self._far_history: deque[np.ndarray] = deque(maxlen=history // (FRAME // _DECIMATE))
        self._near_history: deque[np.ndarray] = deque(maxlen=history // (FRAME // _DECIMATE))
        self._last_estimate: int | None = None
        self._echo_heard_at: int | None = None

    @staticmethod
    def _ctl(function: object, state: int, code: int, value: int) -> None:
        number = ctypes.c_int(value)
        function(state, code, ctypes.byref(number))  # type: ignore[operator]

    def played(self, block: PCM, rate: int) -> None:
        """What was just sent to the speaker, at the speaker's rate."""
        audio = np.asarray(block, np.int16)
        if rate != ASR_RATE:
            resampler = self._resamplers.get(rate)
            if resampler is None:
                resampler = self._resamplers[rate] = StreamResampler(rate, ASR_RATE)
            audio = resampler.process(audio)
        if len(audio):
            self._reference.append(audio)
            self._queued += len(audio)
        while self._queued > MAX_REFERENCE_S * ASR_RATE:
            self._queued -= len(self._reference.popleft())

    def _take_reference(self, n: int) -> np.ndarray:
        """The next ``n`` reference samples (silence where nothing was played)."""
        out = np.zeros(n, np.int16)
        filled = 0
        while filled < n and self._reference:
            head = self._reference[0]
            take = min(n - filled, len(head))
            out[filled:filled + take] = head[:take]
            filled += take
            if take == len(head):
                self._reference.popleft()
            else:
                self._reference[0] = head[take:]
            self._queued -= take
        return out

    def process(self, mic_block: PCM) -> PCM:
        """The microphone block with the echo taken out (same length)."""
        mic = np.concatenate([self._mic_rest, np.asarray(mic_block, np.int16)])
        whole = len(mic) // FRAME * FRAME
        self._mic_rest = mic[whole:]
        out = np.empty(whole, np.int16)
        short_p = ctypes.POINTER(ctypes.c_int16)
        for start in range(0, whole, FRAME):
            near = np.ascontiguousarray(mic[start:start + FRAME])
            far = self._take_reference(FRAME)
            clean = np.empty(FRAME, np.int16)
            self._remember(near, far)
            self._lib.speex_echo_cancellation(
                self._echo, near.ctypes.data_as(short_p), far.ctypes.data_as(short_p),
                clean.ctypes.data_as(short_p))
            if self._suppress:
                self._lib.speex_preprocess_run(self._pre, clean.ctypes.data_as(short_p))
            out[start:start + FRAME] = clean if self.hears_echo else near
            self.frames += 1
        if len(out) < len(mic_block):  # a block that is not whole frames: keep its length
            out = np.concatenate([np.zeros(len(mic_block) - len(out), np.int16), out])
        return out[-len(mic_block):] if len(mic_block) else out[:0]

    @property
    def hears_echo(self) -> bool:
        """Whether the microphone has lately been found to hear the speaker."""
        return (self._echo_heard_at is not None
                and self.frames - self._echo_heard_at < _ECHO_HEARD_FRAMES)

    def _remember(self, near: np.ndarray, far: np.ndarray) -> None:
        """Keep a decimated history of both sides; now and then re-estimate the delay."""
        self._far_history.append(far[::_DECIMATE].astype(np.float32))
        self._near_history.append(near[::_DECIMATE].astype(np.float32))
        if self.frames % _ESTIMATE_EVERY == _ESTIMATE_EVERY - 1:
            self._estimate_delay()

    def _estimate_delay(self) -> None:
        if len(self._far_history) < self._far_history.maxlen:  # type: ignore[operator]
            return
        far = np.concatenate(self._far_history)
        near = np.concatenate(self._near_history)
        if np.std(far) < 100 or np.std(near) < 30:  # nothing played or nothing heard
            return
        rate = ASR_RATE // _DECIMATE
        longest = int(MAX_DELAY_S * rate)
        far = far - far.mean()
        near = near - near.mean()
        size = 1 << int(np.ceil(np.log2(len(far) + longest)))
        spectrum = np.fft.rfft(near, size) * np.conj(np.fft.rfft(far, size))
        # Phase transform: every frequency weighs the same, so the peak is sharp.
        correlation = np.fft.irfft(spectrum / np.maximum(np.abs(spectrum), 1e-9), size)
        lags = correlation[:longest]
        lag = int(np.argmax(lags))
        # How far the peak stands out of the correlation's spread (about 3-4 for noise).
        strength = float(lags[lag] / (np.std(lags) + 1e-12))
        if strength < _COHERENT or lag >= longest - rate // 50:  # weak, or at the edge
            self._last_estimate = None
            return
        self._echo_heard_at = self.frames
        measured = lag * _DECIMATE  # residual delay, in samples at 16 kHz, beyond self.delay
        previous, self._last_estimate = self._last_estimate, measured
        if previous is None or abs(previous - measured) > _AGREE_S * ASR_RATE:
            return
        target = max(0, self.delay + measured - int(DELAY_MARGIN_S * ASR_RATE))
        if abs(target - self.delay) > _AGREE_S * ASR_RATE:
            self._shift_reference(target - self.delay)
            self._last_estimate = None

    def _shift_reference(self, samples: int) -> None:
        """Hold the reference back by ``samples`` more (or fewer, when negative)."""
        if samples > 0:
            self._reference.appendleft(np.zeros(samples, np.int16))
            self._queued += samples
        else:
            self._take_reference(-samples)
        self.delay += samples
        self._far_history.clear()
        self._near_history.clear()

    def close(self) -> None:
        if self._echo:
            self._lib.speex_echo_state_destroy(self._echo)
            self._echo = None
        if self._pre:
            self._lib.speex_preprocess_state_destroy(self._pre)
            self._pre = None

    def __del__(self) -> None:
        self.close()
