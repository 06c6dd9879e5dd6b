"""The answer lane: what one finished utterance meant, judged by Whisper against the step.

Whisper decodes the utterance freely (greedy, no timestamps) and, in the same call, gives
the probability of every token at the first decoding step. Two readings follow:
- the TEXT, read by the project's own intent rules (``core.intents.interpret``) against
  what the step allows, so "I think a seven" and "7" are both seven, and "not sure" is
  never yes;
- the FIRST-STEP distribution over the allowed answers' first tokens (" seven", " 7",
  " Seven" ...), which says how sure Whisper was that the utterance begins with one of
  them. What it leaves over is the "none of these" share.
A text that the rules accept is the answer, with the first-step share of that answer as
its confidence when Whisper put any there (otherwise the text's own mean token
probability). A text the rules do not accept falls back to the first-step reading only
when one answer holds at least ``ACCEPT_FIRST_STEP`` of the whole distribution; anything
else is rejected, and the caller reports it as "unknown" so the engine says what it can
accept. Decoding is never forced into the vocabulary: that turned "up" into "stop" and
nearly every unknown word into a vocabulary word (``../shared/NOTES-models.md``).

The encoder sees ``INPUT_S`` seconds rather than Whisper's usual 30 s: an utterance here
is a word or a short sentence, and on training speakers' clips 10 s of input scored like
30 s at a fifth of the CPU (0.23 s against 1.1 s per utterance on one core); 5 s and
shorter inputs began to garble words ("stop" as "stog", "install").
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import numpy as np
import numpy.typing as npt

from voice_imrs.asr.whisper_model import WhisperModel
from voice_imrs.core.intents import (
    COMMAND_PHRASES,
    NO_PHRASES,
    NUMBER_WORDS,
    READY_PHRASES,
    YES_PHRASES,
    Expectation,
    interpret,
    normalize,
    parse_rating,
)
from voice_imrs.ports import ASR_RATE, PCM

INPUT_S = 10
INPUT_FRAMES = INPUT_S * 100  # Whisper's mel hop is 10 ms
LEAD_SAMPLES = ASR_RATE // 10  # 0.1 s of quiet before the speech, as Whisper was trained
MAX_SPEECH_SAMPLES = INPUT_S * ASR_RATE - 2 * LEAD_SAMPLES
#: Token budget of the free decoding: an answer is a few words; more only costs time.
MAX_TOKENS = 12
#: A text the rules cannot read is still taken as the first-step answer when that answer
#: alone holds this share of Whisper's first-token distribution. Chosen on the training
#: speakers' clips (``bench recognition --split training``).
ACCEPT_FIRST_STEP = 0.5
#: Above this no-speech probability with a weak text, the utterance is noise: no answer
#: and no reprompt (a cough or a breath should not make the session ask again).
NO_SPEECH = 0.6
WEAK_TEXT_LOGPROB = -1.0

Floats = npt.NDArray[np.float32]
Meaning = tuple[str, int | str | None]  # (intent kind, value)
DIGITS = {str(n): n for n in range(11)}


@dataclass(frozen=True)
class Verdict:
    """What the answer lane made of an utterance.

    text: words for the intent rules: an allowed phrase when accepted, else the transcript.
    transcript: what Whisper wrote ("" for noise).
    confidence: 0..1, Whisper's share for the answer taken (or the best one, if rejected).
    rejected: speech that is none of the allowed answers.
    noise: not speech at all (nothing to report).
    """

    text: str
    transcript: str
    confidence: float
    rejected: bool
    noise: bool = False


def candidates(expect: Expectation, stop_words: Iterable[str]) -> dict[Meaning, list[str]]:
    """Every allowed meaning with the phrases that say it (stop and commands always)."""
    found: dict[Meaning, list[str]] = {("stop", None): [normalize(w) for w in stop_words
                                                         if normalize(w)]}
    for kind, phrases in COMMAND_PHRASES.items():
        found[(kind, None)] = [normalize(p) for p in phrases]
    if "rating" in expect.kinds:
        for word, number in NUMBER_WORDS.items():
            if word in ("to", "too", "for", "nothing", "oh"):
                continue  # homophones and "oh" are read from the text only
            found.setdefault(("rating", number), []).append(word)
        for digits, number in DIGITS.items():
            found[("rating", number)].append(digits)
    if "yes" in expect.kinds:
        found[("yes", None)] = [normalize(p) for p in YES_PHRASES]
    if "no" in expect.kinds:
        found[("no", None)] = [normalize(p) for p in NO_PHRASES]
    if "ready" in expect.kinds:
        found[("ready", None)] = [normalize(p) for p in READY_PHRASES]
    if "choice" in expect.kinds:
        for value, phrases in expect.choices:
            found[("choice", value)] = [normalize(p) for p in phrases if normalize(p)]
    return found


def _first_token_ids(tokenizer: Any, phrase: str) -> set[int]:
    ids: set[int] = set()
    for variant in (f" {phrase}", f" {phrase.capitalize()}", phrase, phrase.capitalize(),
                    f" {phrase.upper()}"):
        encoded = tokenizer.encode(variant, add_special_tokens=False).ids
        if encoded:
            ids.add(encoded[0])
    return ids


ORDINALS = {"first": 1, "second": 2, "third": 3, "fourth": 4, "fifth": 5, "sixth": 6,
            "last": -1}


_NUMBER_NAMES = {n: w for w, n in NUMBER_WORDS.items() if w not in ("oh", "nought",
                                                                    "nothing", "to", "too",
                                                                    "for")}


def _digits_as_words(said: str) -> str:
    return " ".join(_NUMBER_NAMES.get(int(w), w) if w.isdigit() else w for w in said.split())


def _option_by_number(said: str, expect: Expectation) -> str | None:
    """A choice picked by its place ("two", "number 2", "the second"): its first phrase.

    Only reached when no option's own words were said, so an option whose phrase is a
    number ("two helpers" by "two") keeps its word.
    """
    options = [phrases[0] for _, phrases in expect.choices if phrases]
    words = said.split()
    place = next((ORDINALS[w] for w in words if w in ORDINALS), None)
    if place is None:
        place = parse_rating(said)
    if place is None or not options:
        return None
    if place == -1:
        place = len(options)
    return options[place - 1] if 1 <= place <= len(options) else None


class AnswerLane:
    """Judges finished utterances with a loaded ``WhisperModel``."""

    def __init__(self, model: WhisperModel) -> None:
        from faster_whisper.feature_extractor import FeatureExtractor

        self.model = model
        self._features = FeatureExtractor(feature_size=model.model.n_mels)
        tok = model.tokenizer
        self._sot = [tok.token_to_id("<|startoftranscript|>")]
        if not model.english_only:
            self._sot += [tok.token_to_id("<|en|>"), tok.token_to_id("<|transcribe|>")]
        self._prompt = [*self._sot, tok.token_to_id("<|notimestamps|>")]
        self._eot = tok.token_to_id("<|endoftext|>")

    @lru_cache(maxsize=64)  # noqa: B019 - a handful of (expectation, stop words) per run
    def _token_groups(self, expect: Expectation, stop_words: tuple[str, ...]
                      ) -> dict[Meaning, npt.NDArray[np.int64]]:
        """First-token ids of each meaning; ids two meanings share count for neither.

        Only one-word phrases count here: the first token of "i need to stop" is " I",
        which begins countless sentences that are no stop at all, so phrases of several
        words are left to the text.
        """
        ids: dict[Meaning, set[int]] = {}
        for meaning, phrases in candidates(expect, stop_words).items():
            ids[meaning] = set()
            for phrase in phrases:
                if " " not in phrase:
                    ids[meaning] |= _first_token_ids(self.model.tokenizer, phrase)
        owners: dict[int, set[Meaning]] = {}
        for meaning, group in ids.items():
            for token in group:
                owners.setdefault(token, set()).add(meaning)
        return {meaning: np.array(sorted(t for t in group if len(owners[t]) == 1), np.int64)
                for meaning, group in ids.items()}

    def _mel(self, speech: PCM) -> Floats:
        audio = np.asarray(speech, np.float32)[-MAX_SPEECH_SAMPLES:] / 32768.0
        padded = np.zeros(INPUT_FRAMES * 160, np.float32)
        padded[LEAD_SAMPLES:LEAD_SAMPLES + len(audio)] = audio
        return np.ascontiguousarray(self._features(padded)[:, :INPUT_FRAMES])

    def decode(self, speech: PCM) -> tuple[str, float, float, Floats]:
        """Transcript, its mean token log-probability, the no-speech probability, and the
        first-step token probabilities.
        """
        import ctranslate2

        features = ctranslate2.StorageView.from_array(self._mel(speech)[None])
        result = self.model.model.generate(
            features, [self._prompt], beam_size=1, max_length=len(self._prompt) + MAX_TOKENS,
            return_scores=True, return_logits_vocab=True, return_no_speech_prob=True)[0]
        tokens = [t for t in result.sequences_ids[0] if t < self._eot]
        text = self.model.tokenizer.decode(tokens).strip()
        first = np.asarray(result.logits[0][0], np.float64)
        first = np.exp(first - first.max())
        probs = (first / first.sum()).astype(np.float32)
        return text, float(result.scores[0]), float(result.no_speech_prob), probs

    def judge(self, speech: PCM, expect: Expectation, stop_words: tuple[str, ...]) -> Verdict:
        """Accept one allowed answer, or reject the utterance (see the module docstring)."""
        transcript, logprob, no_speech, probs = self.decode(speech)
        said = normalize(transcript)
        if not said or (no_speech >= NO_SPEECH and logprob < WEAK_TEXT_LOGPROB):
            return Verdict("", transcript, 0.0, rejected=False, noise=True)
        groups = self._token_groups(expect, stop_words)
        shares = {m: float(probs[ids].sum()) if len(ids) else 0.0 for m, ids in groups.items()}
        if said in ("oh", "o"):
            # Whisper writes a zero as "0" or "zero"; a lone "Oh" is an interjection (a
            # held-out "four" came out so), which the text rules would read as zero.
            return Verdict(said, transcript, 0.0, rejected=True)
        text_intent = interpret(said, expect, stop_words)
        if "choice" in expect.kinds and (text_intent is None or text_intent.kind == "unknown"):
            # Whisper writes numbers as digits: an option called "seven" said as "7".
            said_words = _digits_as_words(said)
            text_intent = interpret(said_words, expect, stop_words)
            if text_intent is not None and text_intent.kind != "unknown":
                said = said_words  # the listener reads this text again
        if text_intent is not None and text_intent.kind != "unknown":
            meaning: Meaning = (text_intent.kind, text_intent.value)
            share = shares.get(meaning, 0.0)
            confidence = share if share > 0.0 else float(np.exp(logprob))
            return Verdict(said, transcript, round(min(1.0, confidence), 3), rejected=False)
        if "choice" in expect.kinds and (option := _option_by_number(said, expect)):
            return Verdict(option, transcript, round(float(np.exp(logprob)), 3),
                           rejected=False)
        best = max(shares, key=lambda m: shares[m])
        if shares[best] >= ACCEPT_FIRST_STEP:
            phrase = candidates(expect, stop_words)[best][0]
            return Verdict(phrase, transcript, round(shares[best], 3), rejected=False)
        return Verdict(said, transcript, round(shares[best], 3), rejected=True)
