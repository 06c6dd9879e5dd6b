"""A small purpose-built keyword classifier for the session's closed vocabulary.

A convolutional network over one second of log-mel features (``asr.features``) says which
of a few dozen classes the second holds: "stop", the numbers zero..ten and "oh", yes, no,
the commands, "other" speech, or "noise". It was trained by
``scripts/train_keyword_model.py`` on dev recordings of training speakers and espeak-ng
voices; its weights ship in ``voice_imrs/data/keyword_model.npz`` and run here in numpy
alone (no PyTorch at run time).

``KeywordNetRecognizer`` streams: voice-activity detection (``asr.vad``) finds speech; while
speech goes on, the last second is classified every ``hop_s``; "stop" is reported as a
partial result as soon as one window is sure enough (so barge-in does not wait for the
speaker to pause), and every other word as the final result when the utterance ends,
with the classifier's probability as its confidence.
"""

from __future__ import annotations

from collections import deque
from functools import lru_cache
from pathlib import Path

import numpy as np
import numpy.typing as npt

from voice_imrs.asr.features import WINDOW_SAMPLES, log_mel
from voice_imrs.asr.vad import SpeechDetector
from voice_imrs.core.intents import NOTHING, NUMBER_NAMES, Expectation
from voice_imrs.errors import ModelError
from voice_imrs.ports import ASR_RATE, PCM, Hypothesis

Floats = npt.NDArray[np.float32]

NUMBERS = NUMBER_NAMES
COMMANDS = ("pause", "wait", "resume", "repeat", "slower", "faster", "louder", "softer",
            "eyes open")
CLASSES: tuple[str, ...] = ("noise", "other", "stop", *NUMBERS, "yes", "no", "ready",
                            "continue", *COMMANDS)
ANSWERS = frozenset({*NUMBERS, "yes", "no", "ready", "continue"})
#: Phrases the training data says, and the class each one is.
CLASS_OF_PHRASE: dict[str, str] = {c: c for c in CLASSES if c not in ("noise", "other")}
CLASS_OF_PHRASE.update({"i need a break": "stop", "i need to stop": "stop", "yeah": "yes",
                        "yep": "yes", "nope": "no"})

MODEL_PATH = Path(__file__).resolve().parents[1] / "data" / "keyword_model.npz"

#: Two successive windows whose mean "stop" probability reaches this fire a stop at once
#: (partial result). Chosen on the TRAINING speakers' clips (held-out voices are only
#: measured): thresholds 0.4-0.7 tied there, and the lowest of the tied values is kept
#: because a missed stop is the worse error. Judging final words on two averaged
#: neighbouring windows rather than single ones cut false stops on training-speaker clips
#: from 2.3% to 0.6% at no loss of recall.
STOP_THRESHOLD = 0.5
#: A final command word needs at least this probability; below it, no word.
WORD_THRESHOLD = 0.4
#: An answer (number, yes/no, ready) needs less: answers count only when the step asked
#: for one, and one below ``CONFIRM_BELOW`` is confirmed by the engine before it is used,
#: so a doubtful answer costs a question rather than a wrong branch.
ANSWER_THRESHOLD = 0.2
#: Answers below this confidence should be confirmed by the engine ("I heard eight...").
CONFIRM_BELOW = 0.8


class KeywordModel:
    """The trained network(s), run with numpy: ``probabilities(windows)``.

    The file holds one network (keys ``conv0_w`` ...) or an ensemble of networks trained
    with different seeds (keys ``net0_conv0_w`` ...), whose probabilities are averaged:
    with few training speakers, averaging independently trained networks generalizes to
    new voices better than either one.
    """

    def __init__(self, path: str | Path = MODEL_PATH) -> None:
        try:
            with np.load(path) as data:
                weights = {k: data[k] for k in data.files}
        except (OSError, ValueError) as error:
            raise ModelError(f"The keyword model {str(path)!r} could not be read ({error}).",
                             hint="Reinstall voice_imrs, or retrain it with "
                                  "scripts/train_keyword_model.py") from None
        if "classes" not in weights:
            raise ModelError(f"The keyword model {str(path)!r} lacks its class list.",
                             hint="Retrain it with scripts/train_keyword_model.py")
        self.classes = tuple(str(c) for c in weights.pop("classes"))
        if self.classes != CLASSES:
            raise ModelError(f"The keyword model {str(path)!r} has classes {self.classes}, "
                             "not the ones this version expects.",
                             hint="Retrain it with scripts/train_keyword_model.py")
        self.cmn = bool(weights.pop("cmn", np.array(0)))
        prefixes = sorted({k.split("_", 1)[0] + "_" for k in weights if k.startswith("net")})
        self._nets = [{k[len(p):]: v for k, v in weights.items() if k.startswith(p)}
                      for p in prefixes] or [weights]

    def _log_mel(self, audio: npt.ArrayLike) -> Floats:
        feats = log_mel(audio)
        if self.cmn:
            # Each band relative to its mean over the second: microphones and rooms
            # differ mostly by a fixed spectral tilt, which this removes.
            feats = feats - feats.mean(axis=0, keepdims=True)
        return feats

    @staticmethod
    def _logits(net: dict[str, Floats], feats: Floats) -> Floats:
        x = ((feats - net["mean"]) / net["std"]).astype(np.float32)[:, None, :, :]
        convs = sum(1 for k in net if k.startswith("conv") and k.endswith("_w"))
        for k in range(convs):
            x = _relu(_conv3x3(x, net[f"conv{k}_w"], net[f"conv{k}_b"]))
            if k < convs - 1:
                x = _maxpool2(x)
        pooled = x.mean(axis=(2, 3))
        return (pooled @ net["fc_w"].T + net["fc_b"]).astype(np.float32)

    def probabilities(self, windows: list[npt.ArrayLike]) -> Floats:
        """Softmax over the classes for each one-second window of audio (ensemble mean)."""
        feats = np.stack([self._log_mel(w) for w in windows])
        probs = [_softmax(self._logits(net, feats)) for net in self._nets]
        return np.mean(probs, axis=0).astype(np.float32)


def _conv3x3(x: Floats, w: Floats, b: Floats) -> Floats:
    """'Same' 3x3 convolution as one matrix product over im2col patches."""
    n, c, h, width = x.shape
    padded = np.pad(x, ((0, 0), (0, 0), (1, 1), (1, 1)))
    patches = np.lib.stride_tricks.sliding_window_view(padded, (3, 3), axis=(2, 3))
    cols = patches.transpose(0, 2, 3, 1, 4, 5).reshape(n * h * width, c * 9)
    out = cols @ w.reshape(w.shape[0], -1).T + b
    return out.reshape(n, h, width, -1).transpose(0, 3, 1, 2)


def _relu(x: Floats) -> Floats:
    return np.maximum(x, 0.0)


def _maxpool2(x: Floats) -> Floats:
    n, c, h, w = x.shape
    x = x[:, :, :h // 2 * 2, :w // 2 * 2]
    return x.reshape(n, c, h // 2, 2, w // 2, 2).max(axis=(3, 5))


def _softmax(z: Floats) -> Floats:
    z = z - z.max(axis=1, keepdims=True)
    e = np.exp(z)
    return (e / e.sum(axis=1, keepdims=True)).astype(np.float32)


_BLAS_THREAD_SETTERS = ("scipy_openblas_set_num_threads64_", "openblas_set_num_threads64_",
                       "openblas_set_num_threads")


@lru_cache(maxsize=1)
def single_thread_blas() -> bool:
    """Ask numpy's OpenBLAS for one thread; True when it could be told.

    The matrix products here are small; OpenBLAS still spreads them over every core and
    its threads spin while they wait, which doubled the CPU cost of listening (measured:
    12 ms of CPU per window with two threads, 4.6 ms with one, at equal wall time). A
    real-time listener should not do that, so the whole process uses one BLAS thread
    once this recognizer is built. Setting OPENBLAS_NUM_THREADS=1 before numpy is
    imported does the same; on builds without OpenBLAS this does nothing.
    """
    import ctypes
    import glob
    import os

    libs_dir = os.path.join(os.path.dirname(os.path.dirname(np.__file__)), "numpy.libs")
    for library in glob.glob(os.path.join(libs_dir, "*openblas*")):
        try:
            handle = ctypes.CDLL(library)
        except OSError:
            continue
        for name in _BLAS_THREAD_SETTERS:
            setter = getattr(handle, name, None)
            if setter is not None:
                setter(1)
                return True
    return False


@lru_cache(maxsize=2)
def load_model(path: str = str(MODEL_PATH)) -> KeywordModel:
    """The model, loaded once per process (it is read-only)."""
    return KeywordModel(path)


def allowed_classes(expect: Expectation) -> frozenset[str]:
    """The classes that may be reported when the step expects ``expect``.

    Stop and the commands always; numbers only when a rating was asked, yes/no when a
    yes/no question was, ready/continue when a "ready" is awaited, and for a spoken choice
    the words its options can be picked by ("one", "two" in a menu). Leaving out what
    cannot count sharpens the choice among what can (a closed set per question).
    """
    allowed = {"noise", "other", "stop", *COMMANDS}
    if "rating" in expect.kinds:
        allowed.update(NUMBERS)
    if "choice" in expect.kinds:
        allowed.update(CLASS_OF_PHRASE[phrase] for _, phrases in expect.choices
                       for phrase in phrases if phrase in CLASS_OF_PHRASE)
    if "yes" in expect.kinds:
        allowed.add("yes")
    if "no" in expect.kinds:
        allowed.add("no")
    if "ready" in expect.kinds:
        allowed.update({"ready", "continue"})
    return frozenset(allowed)


@lru_cache(maxsize=64)
def _class_mask(expectation: Expectation) -> Floats:
    """1 for the classes that may be reported under ``expectation``, else 0.

    Module-level rather than a cached method, which would keep every recognizer ever
    made (and its voice-activity model) alive through the cache.
    """
    allowed = allowed_classes(expectation)
    return np.array([c in allowed for c in CLASSES], np.float32)


class KeywordNetRecognizer:
    """``ports.Recognizer`` on the keyword classifier.

    model_path: the .npz weights (the shipped model by default).
    stop_threshold: "stop" probability (mean of the last ``stop_windows`` windows) that
        fires a stop at once, as a partial result.
    word_threshold: probability a final command word needs.
    answer_threshold: probability a final answer needs (when one was asked).
    hop_s: how often the last second is classified while speech goes on.
    hangover_s: silence that ends an utterance.
    smooth_windows: final words are judged on probabilities averaged over this many
        neighbouring windows.
    speech_windows: consecutive windows that must sound like speech, not noise, before
        ``speech_heard`` is set.
    shared_vad: a detector someone else feeds every block before ``accept`` (its
        ``last_events`` are read here); by default this recognizer runs its own.

    ``speech_heard`` turns True once a window during voice activity is classified as
    speech rather than noise (the "any speech" barge-in signal); ``reset()`` clears it.
    """

    name = "keyword"

    def __init__(self, model_path: str | Path = MODEL_PATH, *,
                 stop_threshold: float = STOP_THRESHOLD, word_threshold: float = WORD_THRESHOLD,
                 answer_threshold: float = ANSWER_THRESHOLD,
                 hop_s: float = 0.1, hangover_s: float = 0.3,
                 stop_windows: int = 2, smooth_windows: int = 2,
                 speech_windows: int = 4, shared_vad: SpeechDetector | None = None) -> None:
        self.model = load_model(str(model_path))
        single_thread_blas()
        self.stop_threshold = stop_threshold
        self.word_threshold = word_threshold
        self.answer_threshold = answer_threshold
        self.hop = int(hop_s * ASR_RATE)
        self.stop_windows = stop_windows
        self.smooth_windows = smooth_windows
        self.speech_windows = speech_windows
        # With ``shared_vad`` another component feeds that detector each block (one VAD
        # per block for both lanes of the default recognizer) and this one reads its events.
        self._owns_vad = shared_vad is None
        self._vad = shared_vad if shared_vad is not None else SpeechDetector(
            hangover_s=hangover_s)
        self._index = {c: i for i, c in enumerate(CLASSES)}
        self._mask = self._mask_for(NOTHING)
        self._audio: deque[PCM] = deque()
        self._audio_len = 0
        self._since_hop = 0
        self._windows: list[Floats] = []  # class probabilities of this utterance's windows
        self._stop_fired = False
        self._tail = 0  # windows still to classify after the utterance ended
        self._deaf = False  # after reset() inside an utterance: ignore the rest of it
        self._speech_run = 0
        self.speech_heard = False

    @property
    def detector(self) -> SpeechDetector:
        """The detector ``accept`` feeds (or the shared one it reads)."""
        return self._vad

    def expect(self, expectation: Expectation) -> None:
        """Report only what counts for ``expectation`` (see ``allowed_classes``)."""
        self._mask = self._mask_for(expectation)

    @staticmethod
    def _mask_for(expectation: Expectation) -> Floats:
        return _class_mask(expectation)

    def _window(self) -> PCM:
        audio = np.concatenate(list(self._audio))[-WINDOW_SAMPLES:]
        if len(audio) < WINDOW_SAMPLES:
            audio = np.pad(audio, (WINDOW_SAMPLES - len(audio), 0))
        return audio

    def _keep(self, block: PCM) -> None:
        self._audio.append(block)
        self._audio_len += len(block)
        while self._audio_len - len(self._audio[0]) >= WINDOW_SAMPLES:
            self._audio_len -= len(self._audio.popleft())

    def _classify(self) -> Floats:
        probs = self.model.probabilities([self._window()])[0]
        speechy = probs[self._index["noise"]] < 0.5
        self._speech_run = self._speech_run + 1 if speechy else 0
        if self._speech_run >= self.speech_windows:
            self.speech_heard = True
        return probs

    def accept(self, block: PCM) -> list[Hypothesis]:
        block = np.asarray(block, np.int16)
        self._keep(block)
        out: list[Hypothesis] = []
        events = self._vad.feed(block) if self._owns_vad else self._vad.last_events
        ended = any(e.kind == "end" for e in events)
        if self._deaf:
            self._deaf = not ended and self._vad.in_speech
            return out
        active = self._vad.in_speech or ended or self._tail > 0
        if not active:
            self._since_hop = 0
            return out
        self._since_hop += len(block)
        if self._since_hop >= self.hop:
            self._since_hop = 0
            probs = self._classify()
            self._windows.append(probs)
            recent = self._windows[-self.stop_windows:]
            stop_p = float(np.mean([w[self._index["stop"]] for w in recent]))
            if len(recent) < self.stop_windows:
                stop_p = 0.0
            if not self._stop_fired and stop_p >= self.stop_threshold:
                self._stop_fired = True
                out.append(Hypothesis("stop", final=False, confidence=stop_p))
            if self._tail > 0:
                self._tail -= 1
                if self._tail == 0:
                    out.extend(self._final())
        if ended:
            # The VAD's hangover already waited past the word; one more window catches a
            # word that ended right at the hangover's start.
            self._tail = 1
        if len(self._windows) * self.hop > 8 * ASR_RATE:  # endless "speech": report anyway
            out.extend(self._final())
        return out

    def _final(self) -> list[Hypothesis]:
        windows, self._windows = self._windows, []
        fired, self._stop_fired = self._stop_fired, False
        self._tail = 0
        if not windows:
            return []
        probs = np.stack(windows)
        if self.smooth_windows > 1 and len(probs) >= self.smooth_windows:
            # Each window averaged with its neighbours: one odd window is not a word.
            kernel = np.ones(self.smooth_windows) / self.smooth_windows
            probs = np.stack([np.convolve(probs[:, c], kernel, mode="valid")
                              for c in range(probs.shape[1])], axis=1)
        # What cannot count now is dropped, not renormalized away: its share stays with
        # "not a word", so a "yes" while a rating is asked does not become a number.
        words = probs * self._mask
        words[:, [self._index["noise"], self._index["other"]]] = 0.0
        best_window, best_class = np.unravel_index(int(words.argmax()), words.shape)
        p = float(probs[best_window, best_class])
        if fired:
            return [Hypothesis("stop", final=True, confidence=p)]
        word = CLASSES[best_class]
        if p < (self.answer_threshold if word in ANSWERS else self.word_threshold):
            return [Hypothesis("", final=True, confidence=None)]
        return [Hypothesis(word, final=True, confidence=round(p, 3))]

    def finish(self) -> list[Hypothesis]:
        if not self._windows and self._vad.in_speech:
            self._windows.append(self._classify())
        out = self._final()
        return [h for h in out if h.text]

    def reset(self) -> None:
        self._windows = []
        self._tail = 0
        self._stop_fired = False
        # The rest of a word already acted on must not be heard again.
        self._deaf = self._vad.in_speech
        self._speech_run = 0
        self.speech_heard = False
