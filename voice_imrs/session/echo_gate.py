"""Keep the assistant from hearing itself: a gate that mutes microphone audio that is
only the echo of what the speaker just played.

Prompts say "you can say stop at any time"; through loudspeakers the microphone hears that
"stop". Every 10 ms the gate takes the spectral shape of the microphone and of the recent
output (log energies in 12 bands from 150 Hz to 4.5 kHz) and correlates the last 0.6 s of
the microphone with the output over a range of lags. Each frame's overall level and each
band's mean are taken out first, so the loudness of the echo and the colour of the room do
not matter, only what is said: an echo repeats the output's sounds in the same order,
while a person speaking over the prompt says other sounds. When the shapes match, the
block is echo and the recognizer gets silence in its place. Only the frames in which the
microphone hears something are compared: quiet frames would match anything.

Comparing loudness envelopes alone, as an earlier version did, is not enough: any two
stretches of speech rise and fall at the pace of syllables, and it muted parts of one
word in three that a user said over a prompt (``docs/BENCHMARKS.md``, echo gate).
"""

from __future__ import annotations

import itertools
from collections import deque
from functools import lru_cache

import numpy as np

from voice_imrs.ports import ASR_RATE, PCM

#: Band edges in Hz: 12 bands, evenly spaced in log frequency, where speech sounds differ.
BAND_EDGES_HZ = tuple(int(edge) for edge in np.geomspace(150, 4500, 13))
#: log10 of a 10 ms frame's mean square + 1 below which a frame counts as quiet
#: (about -45 dBFS): nothing to gate.
QUIET_LEVEL = 2.5
#: Sound in fewer frames of the window than this is too little to call it echo: the
#: first 80 ms of a word pass, which no recognizer takes for the whole word.
MIN_HEARD_FRAMES = 8


@lru_cache(maxsize=8)
def _band_sums(frame: int, rate: int) -> np.ndarray:
    """(FFT bins, bands) of 0/1: a frame's power spectrum times this gives its band energies."""
    bin_hz = rate / frame
    sums = np.zeros((frame // 2 + 1, len(BAND_EDGES_HZ) - 1), np.float32)
    for band, (low, high) in enumerate(itertools.pairwise(BAND_EDGES_HZ)):
        sums[int(low / bin_hz):int(high / bin_hz), band] = 1.0
    return sums


def _frames(samples: PCM, rate: int) -> np.ndarray:
    """Per 10 ms frame: [overall level, then the band log energies less their mean across
    the bands (the frame's loudness taken out: only the spectral shape is left)], float32.
    """
    frame = rate // 100
    usable = len(samples) // frame * frame
    if usable == 0:
        return np.zeros((0, len(BAND_EDGES_HZ)), np.float32)
    frames = samples[:usable].astype(np.float32).reshape(-1, frame)
    level = np.log10(np.mean(frames * frames, axis=1) + 1.0)
    power = np.abs(np.fft.rfft(frames, axis=1)) ** 2 / frame
    shape = np.log10(power @ _band_sums(frame, rate) + 1.0)
    shape -= shape.mean(axis=1, keepdims=True)
    return np.column_stack([level, shape]).astype(np.float32)


def _shape(frames: np.ndarray, heard: np.ndarray) -> np.ndarray:
    """The frames' spectral shapes with each band's mean (the room's colour) removed, over
    the frames the microphone heard something in (``heard``); zero elsewhere.

    frames: (..., time, 1 + bands), as ``_frames`` makes them; heard: (time,) booleans.
    """
    bands = frames[..., 1:]
    weights = heard.astype(np.float32)[:, None]
    mean = (bands * weights).sum(axis=-2, keepdims=True) / max(1.0, float(weights.sum()))
    return (bands - mean) * weights


class EchoGate:
    """Decides, block by block, whether microphone audio is just our own output's echo.

    window_s: how much history the decision looks at.
    max_lag_s: the largest output-to-microphone delay expected: the output queue (0.12 s),
        the device's latency (0.1 s) and the capture's; 0.30 s measured on the virtual
        device, so 0.5 s leaves room for a slower card.
    threshold: spectral-shape correlation above which a block counts as echo.
    """

    def __init__(self, window_s: float = 0.6, max_lag_s: float = 0.5,
                 threshold: float = 0.55) -> None:
        self.window = int(window_s * 100)
        self.max_lag = int(max_lag_s * 100)
        self.threshold = threshold
        width = len(BAND_EDGES_HZ)
        history = self.window + self.max_lag
        self._out: deque[np.ndarray] = deque([np.zeros(width, np.float32)] * history,
                                             maxlen=history)
        self._mic: deque[np.ndarray] = deque([np.zeros(width, np.float32)] * self.window,
                                             maxlen=self.window)
        self.gated_blocks = 0

    def played(self, block: PCM, rate: int = ASR_RATE) -> None:
        """Tell the gate what was just sent to the speaker, at the speaker's rate.

        10 ms frames at any rate give the same 100 Hz bins, so no resampling is needed.
        """
        self._out.extend(_frames(block, rate))

    def filter(self, mic_block: PCM) -> PCM:
        """The microphone block, or silence of the same length when it is only echo."""
        self._mic.extend(_frames(mic_block, ASR_RATE))
        if self.is_echo():
            self.gated_blocks += 1
            return np.zeros_like(mic_block)
        return mic_block

    def is_echo(self) -> bool:
        mic = np.stack(self._mic)
        heard = mic[:, 0] >= QUIET_LEVEL
        if heard.sum() < MIN_HEARD_FRAMES:  # (nearly) quiet microphone: nothing to gate
            return False
        out = np.stack(self._out)
        if out[:, 0].max() < QUIET_LEVEL:  # we played nothing audible lately
            return False
        # Only the frames with sound count: quiet frames would match anything.
        mic_shape = _shape(mic, heard)
        mic_norm = float(np.linalg.norm(mic_shape)) or 1.0
        # Every lag at once: (lags, time, bands), the most recent output first.
        windows = np.lib.stride_tricks.sliding_window_view(out, self.window, axis=0)
        refs = _shape(windows.transpose(0, 2, 1)[::-1], heard)
        products = np.einsum("ltb,tb->l", refs, mic_shape)
        norms = np.sqrt(np.einsum("ltb,ltb->l", refs, refs)) * mic_norm
        correlation = products / np.maximum(norms, 1e-9)
        return float(correlation.max()) >= self.threshold


#: Sessions run the echo canceller only when this is "1" in the environment: measured in
#: ``bench echo-gate``, it hears stops said over the voice through a room, but while it is
#: still learning a room its residue slips past the gate and a prompt's own "stop" stopped
#: 6-7 of 12 sessions (the gate alone: 0-1 of 12). See docs/BENCHMARKS.md.
ECHO_CANCEL_ENV = "VOICE_IMRS_ECHO_CANCEL"


def default_echo_path() -> CancellingGate:
    """The echo path of a session: the gate, with the canceller in front when enabled."""
    import os

    if os.environ.get(ECHO_CANCEL_ENV) == "1":
        return CancellingGate()
    return CancellingGate(canceller=False)


class CancellingGate:
    """The echo canceller first, then the gate as the second line, behind one interface.

    The canceller takes the echo out of the microphone so that a client speaking over the
    voice is heard (double talk); what echo it leaves is what the gate mutes. Without the
    canceller's library (``libspeexdsp1``) this is the gate alone.
    """

    def __init__(self, gate: EchoGate | None = None, canceller: object | None = None) -> None:
        from voice_imrs.audio.echo_canceller import EchoCanceller, available

        self.gate = gate or EchoGate()
        # canceller: None for SpeexDSP's when it is installed, False for none at all.
        self.canceller = canceller if canceller not in (None, False) else (
            EchoCanceller() if canceller is None and available() else None)
        self._tap: deque[PCM] | None = None
        self._tap_rate = ASR_RATE

    def attach(self, sink: object) -> None:
        """Take the canceller's reference from ``sink``'s device callback when it has one.

        What the runner writes reaches the speaker 40-100 ms later, and later still when
        the session works off a backlog of microphone blocks; what the device callback
        hands over is sample-locked to the microphone (both run on the device clock), so
        the delay the canceller must learn stays put.
        """
        if self.canceller is None or not hasattr(sink, "tap"):
            return
        if self._tap is not None and getattr(sink, "tap", None) is self._tap:
            return  # the same device (perhaps wrapped again): keep the lockstep
        self._tap = deque(maxlen=400)  # 4 s of 10 ms blocks: a backlog never loses it
        self._tap_rate = int(getattr(sink, "device_rate", ASR_RATE))
        sink.tap = self._tap

    @property
    def gated_blocks(self) -> int:
        return self.gate.gated_blocks

    def played(self, block: PCM, rate: int = ASR_RATE) -> None:
        if self.canceller is not None and self._tap is None:
            self.canceller.played(block, rate)  # type: ignore[attr-defined]
        self.gate.played(block, rate)

    def filter(self, mic_block: PCM) -> PCM:
        if self.canceller is None:
            return self.gate.filter(mic_block)
        if self._tap is not None:
            while self._tap:
                self.canceller.played(self._tap.popleft(), self._tap_rate)  # type: ignore[attr-defined]
        clean = self.canceller.process(mic_block)  # type: ignore[attr-defined]
        return self.gate.filter(clean)
