"""``voice-imrs bench recognition``: per-intent rates on real recordings, ours next to the peer.

Every clip goes through the same path a session uses: padded with quiet room noise, fed
in 20 ms blocks to an ``IntentListener`` around the chosen recognizer. Passes per clip:
- listening while nothing is asked (the voice is speaking): does a stop fire? This gives
  stop recall (clips whose transcript says "stop") and the false-stop rate (all others:
  other words, numbers, yes/no, sentences, noise), and speech detection;
- a rating asked (clips of one digit zero..nine): the first answer and its confidence;
- a yes/no question asked (clips of "yes" or "no"): the first answer;
- a rating or yes/no question asked (clips of any other word or sentence): is an answer
  taken anyway? This gives ``oov_accepted``, where the right outcome is no answer;
- a custom stop word (single-word clips other than "stop"): set to the clip's own word it
  must fire, set to another word it must not (``custom_stop_recall`` / ``custom_false_stop``);
- a six-way choice of single words, the clip's word among five others (``choice6_acc``).
The peer (``bench.peer``) reads the same clips: keyword spotting for stop, free text read
by the same intent interpreter for answers, any text at all for speech detection.

By default only held-out speakers (``bench.speakers``) are used: figures on voices the
keyword model was trained on would flatter it.
"""

from __future__ import annotations

import csv
import json
import time
import zlib
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from benchmarks.speakers import is_held_out
from voice_imrs.core.intents import (
    DEFAULT_STOP_WORDS,
    NOTHING,
    RATING,
    YES_NO,
    Expectation,
    interpret,
)
from voice_imrs.errors import VoiceImrsError
from voice_imrs.ports import ASR_RATE, PCM, Recognizer

DEFAULT_MANIFEST = Path(__file__).resolve().parents[1] / "tests/data/speech/dev/manifest.csv"
DIGITS = ("zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine")
BLOCK = ASR_RATE // 50  # 20 ms, as a sound device delivers
LEAD_S = 0.5   # quiet before the clip: the VAD needs a little room to settle
TAIL_S = 1.0   # quiet after it: long enough for any end-of-utterance decision
NOISE_RMS = 3.0  # int16 units: a very quiet room, so no stretch is exactly digital zero


@dataclass(frozen=True)
class Clip:
    """One manifest row as the benchmark needs it."""

    path: Path
    transcript: str
    speaker: str
    category: str

    @property
    def words(self) -> list[str]:
        return self.transcript.split()

    @property
    def has_stop(self) -> bool:
        return "stop" in self.words

    @property
    def digit(self) -> int | None:
        if self.category == "single_word" and self.transcript in DIGITS:
            return DIGITS.index(self.transcript)
        return None

    @property
    def yes_no(self) -> str | None:
        return self.transcript if self.transcript in ("yes", "no") else None


SPLITS = ("heldout", "all", "training")


def _in_split(split: str, speaker: str, file: str) -> bool:
    return split == "all" or (is_held_out(speaker, file) == (split == "heldout"))


def load_clips(manifest: str | Path, split: str = "heldout") -> list[Clip]:
    """Clips of ``manifest``: held-out speakers, every clip ("all"), or the training
    speakers ("training", for choosing thresholds without looking at held-out voices).
    """
    path = Path(manifest)
    if not path.is_file():
        raise VoiceImrsError(f"Manifest {str(path)!r} does not exist.",
                             hint="Give a manifest.csv with file,transcript,speaker,category "
                                  "columns, for example tests/data/speech/dev/manifest.csv.")
    if split not in SPLITS:
        raise VoiceImrsError(f"Unknown split {split!r}.",
                             hint=f"Choose one of {', '.join(SPLITS)}.")
    with path.open(newline="") as handle:
        rows = list(csv.DictReader(handle))
    missing = {"file", "transcript", "speaker", "category"} - set(rows[0] if rows else {})
    if missing:
        raise VoiceImrsError(f"Manifest {str(path)!r} lacks the column(s) "
                             f"{', '.join(sorted(missing))}.",
                             hint="Use the layout of tests/data/speech/dev/manifest.csv.")
    return [Clip(path.parent / r["file"], r["transcript"].strip().lower(), r["speaker"],
                 r["category"])
            for r in rows if _in_split(split, r["speaker"], r["file"])]


def padded(clip: Clip, band: str = "full") -> PCM:
    """The clip between quiet stretches of faint noise (seeded by the file name).

    band: "full", the recording as it is (16 kHz); "narrow", through an 8 kHz channel, as
    a Bluetooth headset's hands-free microphone or a phone line delivers speech (nothing
    above 4 kHz, where much of "s" and "t" lives).
    """
    from voice_imrs.audio.wav import read_wav_at, resample

    audio = read_wav_at(clip.path, ASR_RATE)
    if band == "narrow":
        audio = resample(resample(audio, ASR_RATE, 8000), 8000, ASR_RATE)
    rng = np.random.default_rng(zlib.crc32(clip.path.name.encode()))
    quiet = np.concatenate([np.zeros(int(LEAD_S * ASR_RATE)), audio.astype(np.float64),
                            np.zeros(int(TAIL_S * ASR_RATE))])
    quiet += rng.normal(0.0, NOISE_RMS, len(quiet))
    return np.clip(quiet, -32768, 32767).astype(np.int16)


@dataclass
class Outcome:
    """What one recognizer made of one clip in one pass."""

    kinds: list[str] = field(default_factory=list)
    values: list[Any] = field(default_factory=list)
    confidence: float | None = None
    t_stop: float | None = None
    speech: bool = False


#: A rating or a yes/no asked at once: an unknown word must give neither.
ANSWER_ASKED = Expectation(frozenset({"rating", "yes", "no"}))
#: Real single words that are not the default stop word, usable as custom stop words and
#: choice options (Speech Commands and digit recordings have no "enough").
CHOICE_WORDS = (*DIGITS, "yes", "no", "go", "on", "off", "up", "down", "left", "right")


def choice_expectation(options: Iterable[str]) -> Expectation:
    """A choice question whose options are single words, each its own value."""
    return Expectation(frozenset({"choice"}), tuple((w, (w,)) for w in options))


def six_options(clip: Clip) -> list[str]:
    """The clip's word and five others, fixed per file (seeded by its name)."""
    others = [w for w in CHOICE_WORDS if w != clip.transcript]
    rng = np.random.default_rng(zlib.crc32(clip.path.name.encode()) + 1)
    options = [clip.transcript, *rng.choice(others, 5, replace=False).tolist()]
    rng.shuffle(options)
    return options


def other_word(clip: Clip) -> str:
    """A custom stop word the clip does not say, fixed per file."""
    others = [w for w in CHOICE_WORDS if w != clip.transcript]
    return others[zlib.crc32(clip.path.name.encode()) % len(others)]


def listen_to(recognizer: Recognizer, audio: PCM, expect: Expectation,
              stop_words: tuple[str, ...] = DEFAULT_STOP_WORDS) -> Outcome:
    """Feed ``audio`` through an IntentListener; the intents heard, in order."""
    from voice_imrs.asr.listener import IntentListener

    listener = IntentListener(recognizer, stop_words, vad=True)
    outcome = Outcome()
    heard = []
    for start in range(0, len(audio), BLOCK):
        heard.extend(listener.feed(audio[start:start + BLOCK], expect))
    heard.extend(listener.finish(expect))
    for item in heard:
        if item.intent.kind == "speech":
            outcome.speech = True
            continue
        outcome.kinds.append(item.intent.kind)
        outcome.values.append(item.intent.value)
        if outcome.confidence is None:
            outcome.confidence = item.intent.confidence
        if item.intent.kind == "stop" and outcome.t_stop is None:
            outcome.t_stop = item.t
    # A recognizer that judges speech itself (the keyword classifier) overrides the
    # listener's plain voice-activity detector.
    judged = getattr(recognizer, "speech_heard", None)
    if judged is not None:
        outcome.speech = bool(judged) or "stop" in outcome.kinds
    return outcome


def word_end_s(audio: PCM) -> float:
    """Where the last loud 10 ms frame ends (within 30 dB of the clip's peak frame)."""
    frames = len(audio) // 160
    energy = np.sqrt(np.mean(audio[:frames * 160].astype(np.float64).reshape(frames, 160) ** 2,
                             axis=1)) + 1e-3
    loud = np.flatnonzero(20 * np.log10(energy / energy.max()) > -30)
    return float((loud[-1] + 1) * 160 / ASR_RATE) if len(loud) else 0.0


@dataclass
class Tally:
    """Counts behind the rates of one system (ours or the peer)."""

    stop_hits: int = 0
    stop_n: int = 0
    false_stops: int = 0
    negatives_n: int = 0
    rating_hits: int = 0
    rating_n: int = 0
    yesno_hits: int = 0
    yesno_n: int = 0
    speech_hits: int = 0
    speech_n: int = 0
    noise_hits: int = 0
    noise_n: int = 0
    rating_low_conf: int = 0
    rating_wrong_sure: int = 0
    oov_accepted: int = 0
    oov_n: int = 0
    custom_hits: int = 0
    custom_n: int = 0
    custom_false: int = 0
    custom_neg_n: int = 0
    choice_hits: int = 0
    choice_n: int = 0
    latencies_ms: list[float] = field(default_factory=list)
    confusion: dict[str, Counter[str]] = field(default_factory=lambda: defaultdict(Counter))
    false_stop_files: list[str] = field(default_factory=list)
    missed_stop_files: list[str] = field(default_factory=list)

    def rates(self) -> dict[str, Any]:
        def rate(hits: int, n: int) -> float | None:
            return round(hits / n, 4) if n else None

        return {
            "stop_recall": rate(self.stop_hits, self.stop_n),
            "false_stop": rate(self.false_stops, self.negatives_n),
            "rating_acc": rate(self.rating_hits, self.rating_n),
            "yesno_acc": rate(self.yesno_hits, self.yesno_n),
            "speech_detect": rate(self.speech_hits, self.speech_n),
            "noise_false_speech": rate(self.noise_hits, self.noise_n),
            "oov_accepted": rate(self.oov_accepted, self.oov_n),
            "custom_stop_recall": rate(self.custom_hits, self.custom_n),
            "custom_false_stop": rate(self.custom_false, self.custom_neg_n),
            "choice6_acc": rate(self.choice_hits, self.choice_n),
            "n": {"stop": self.stop_n, "no_stop": self.negatives_n, "rating": self.rating_n,
                  "yesno": self.yesno_n, "speech": self.speech_n, "noise": self.noise_n,
                  "oov": self.oov_n, "custom_stop": self.custom_n,
                  "custom_no_stop": self.custom_neg_n, "choice6": self.choice_n},
        }


def _first_answer(kinds: list[str], values: list[Any], wanted: Iterable[str]) -> str:
    wanted = set(wanted)
    for kind, value in zip(kinds, values, strict=True):
        if kind in wanted:
            return f"{kind}:{value}" if kind == "rating" else kind
        if kind not in ("speech",):
            return kind
    return "nothing"


Maker = Callable[[tuple[str, ...]], Recognizer]  # stop words -> a fresh recognizer


def score_ours(clips: list[Clip], make: Maker,
               confirm_below: float | None, band: str = "full", extra: bool = True) -> Tally:
    """Run every pass of every clip through fresh recognizers from ``make``.

    extra: also the unknown-word, custom-stop-word and six-way-choice passes.
    """
    tally = Tally()
    for clip in clips:
        audio = padded(clip, band)
        idle = listen_to(make(DEFAULT_STOP_WORDS), audio, NOTHING)
        fired = "stop" in idle.kinds
        _count_stop_and_speech(tally, clip, fired, idle.speech)
        if fired and clip.has_stop and idle.t_stop is not None:
            tally.latencies_ms.append(1000 * (idle.t_stop - word_end_s(audio)))
        truth = clip.transcript if clip.category == "single_word" else clip.category
        heard = "stop" if fired else (idle.kinds[0] if idle.kinds else "nothing")
        if (digit := clip.digit) is not None:
            answer = listen_to(make(DEFAULT_STOP_WORDS), audio, RATING)
            said = _first_answer(answer.kinds, answer.values, ("rating",))
            tally.rating_n += 1
            right = said == f"rating:{digit}"
            tally.rating_hits += right
            if confirm_below is not None and answer.confidence is not None:
                sure = answer.confidence >= confirm_below
                tally.rating_low_conf += not sure
                tally.rating_wrong_sure += sure and not right
            heard = said
        elif (yn := clip.yes_no) is not None:
            answer = listen_to(make(DEFAULT_STOP_WORDS), audio, YES_NO)
            said = _first_answer(answer.kinds, answer.values, ("yes", "no"))
            tally.yesno_n += 1
            tally.yesno_hits += said == yn
            heard = said
        elif extra and not clip.has_stop and clip.category != "noise":
            answer = listen_to(make(DEFAULT_STOP_WORDS), audio, ANSWER_ASKED)
            tally.oov_n += 1
            tally.oov_accepted += any(k in ("rating", "yes", "no") for k in answer.kinds)
        if extra and clip.category == "single_word" and clip.transcript in CHOICE_WORDS:
            _score_custom_and_choice(tally, clip, audio, make)
        tally.confusion[truth][heard] += 1
    return tally


def _score_custom_and_choice(tally: Tally, clip: Clip, audio: PCM, make: Maker) -> None:
    own = (clip.transcript,)
    tally.custom_n += 1
    tally.custom_hits += "stop" in listen_to(make(own), audio, NOTHING, own).kinds
    other = (other_word(clip),)
    tally.custom_neg_n += 1
    tally.custom_false += "stop" in listen_to(make(other), audio, NOTHING, other).kinds
    answer = listen_to(make(DEFAULT_STOP_WORDS), audio, choice_expectation(six_options(clip)))
    tally.choice_n += 1
    tally.choice_hits += _first_answer(answer.kinds, answer.values, ("choice",)) == "choice" \
        and answer.values[answer.kinds.index("choice")] == clip.transcript


def score_peer(clips: list[Clip], band: str = "full", peer_name: str = "sphinx") -> Tally:
    """A peer on the same padded clips: one transcript per clip, read by our text rules.

    peer_name: "sphinx" (SpeechRecognition over PocketSphinx, with keyword spotting for
    stop) or "whisper" (faster-whisper's own ``transcribe()`` on the same model file).
    """
    from benchmarks.peer import FasterWhisperPeer, SpeechRecognitionPeer

    sphinx = SpeechRecognitionPeer() if peer_name == "sphinx" else None
    whisper = FasterWhisperPeer() if peer_name == "whisper" else None
    tally = Tally()
    for clip in clips:
        audio = padded(clip, band)
        started = time.perf_counter()
        if sphinx is not None:
            spotted = sphinx.keywords(audio)
            text = sphinx.text(audio)
            fired = "stop" in spotted.split()
        else:
            assert whisper is not None
            spotted, text = "", whisper.text(audio)
            fired = _reads(text, NOTHING) == "stop"
        # The peer hears a clip only once it has all of it: its decision comes this long
        # after the clip's end, at best (a live peer also waits for its end of phrase).
        tally.latencies_ms.append(1000 * (time.perf_counter() - started))
        _count_stop_and_speech(tally, clip, fired, bool(text or spotted))
        truth = clip.transcript if clip.category == "single_word" else clip.category
        heard = "stop" if fired else (text or "nothing")
        if (digit := clip.digit) is not None:
            intent = interpret(text, RATING)
            tally.rating_n += 1
            tally.rating_hits += intent is not None and intent.kind == "rating" and \
                intent.value == digit
            heard = f"rating:{intent.value}" if intent and intent.kind == "rating" else heard
        elif (yn := clip.yes_no) is not None:
            intent = interpret(text, YES_NO)
            tally.yesno_n += 1
            tally.yesno_hits += intent is not None and intent.kind == yn
            heard = intent.kind if intent else "nothing"
        elif not clip.has_stop and clip.category != "noise":
            tally.oov_n += 1
            tally.oov_accepted += _reads(text, ANSWER_ASKED) in ("rating", "yes", "no")
        if clip.category == "single_word" and clip.transcript in CHOICE_WORDS:
            tally.custom_n += 1
            tally.custom_hits += _reads(text, NOTHING, (clip.transcript,)) == "stop"
            tally.custom_neg_n += 1
            tally.custom_false += _reads(text, NOTHING, (other_word(clip),)) == "stop"
            intent = interpret(text, choice_expectation(six_options(clip)))
            tally.choice_n += 1
            tally.choice_hits += intent is not None and intent.kind == "choice" and \
                intent.value == clip.transcript
        tally.confusion[truth][heard] += 1
    return tally


def _reads(text: str, expect: Expectation,
           stop_words: tuple[str, ...] = DEFAULT_STOP_WORDS) -> str:
    intent = interpret(text, expect, stop_words)
    return intent.kind if intent is not None else "nothing"


def _count_stop_and_speech(tally: Tally, clip: Clip, fired: bool, speech: bool) -> None:
    if clip.has_stop:
        tally.stop_n += 1
        tally.stop_hits += fired
        if not fired:
            tally.missed_stop_files.append(clip.path.name)
    else:
        tally.negatives_n += 1
        tally.false_stops += fired
        if fired:
            tally.false_stop_files.append(clip.path.name)
    if clip.category == "noise":
        tally.noise_n += 1
        tally.noise_hits += speech
    else:
        tally.speech_n += 1
        tally.speech_hits += speech


def recognizer_factory(name: str, stop_policy: str | None = None
                       ) -> tuple[Maker, float | None]:
    """A maker of fresh recognizers called ``name``, and its confirm-below confidence.

    stop_policy: for "whisper", which lane's stop counts (``asr.two_lane.STOP_POLICIES``).
    """
    from voice_imrs.asr.registry import RECOGNIZERS, make_recognizer

    if name not in RECOGNIZERS:
        from voice_imrs.errors import UnknownChoiceError

        raise UnknownChoiceError("recognizer", name, sorted(RECOGNIZERS))
    if name == "whisper":
        from voice_imrs.asr.two_lane import STOP_POLICY, TwoLaneRecognizer
        from voice_imrs.core.safety import SafetyPolicy

        # A rating below the engine's own confirm_below is confirmed before it is used.
        policy = stop_policy or STOP_POLICY
        return ((lambda stops: TwoLaneRecognizer(None, stops, stop_policy=policy)),
                SafetyPolicy().confirm_below)
    if name == "keyword":
        from voice_imrs.asr.keyword_net import CONFIRM_BELOW

        return (lambda stops: make_recognizer(name, stop_words=stops)), CONFIRM_BELOW
    return (lambda stops: make_recognizer(name, stop_words=stops)), None


def stop_policies(clips: list[Clip], band: str = "full") -> dict[str, dict[str, Any]]:
    """Stop recall and false stops of the default recognizer per lane policy.

    Each lane alone is run on every clip (nothing asked, default stop words); "either" is
    their union, exact because a lane fires or not independently of the other until a
    stop is acted on. This is how ``asr.two_lane.STOP_POLICY`` was chosen (on the
    training split: the held-out speakers only report).
    """
    from voice_imrs.asr.two_lane import TwoLaneRecognizer

    fired: dict[str, list[bool]] = {"fast": [], "answer": []}
    for clip in clips:
        audio = padded(clip, band)
        for lane, results in fired.items():
            outcome = listen_to(TwoLaneRecognizer(stop_policy=lane), audio, NOTHING)
            results.append("stop" in outcome.kinds)
    truth = [clip.has_stop for clip in clips]
    positives, negatives = sum(truth), len(truth) - sum(truth)
    figures: dict[str, dict[str, Any]] = {}
    for policy in ("fast", "answer", "either"):
        heard = ([f or a for f, a in zip(fired["fast"], fired["answer"], strict=True)]
                 if policy == "either" else fired[policy])
        hits = sum(h and t for h, t in zip(heard, truth, strict=True))
        false = sum(h and not t for h, t in zip(heard, truth, strict=True))
        figures[policy] = {"stop_recall": round(hits / positives, 4) if positives else None,
                           "false_stop": round(false / negatives, 4) if negatives else None}
    return figures


def confusion_lines(tally: Tally) -> list[str]:
    lines = []
    for truth in sorted(tally.confusion):
        row = tally.confusion[truth]
        cells = ", ".join(f"{heard} {count}" for heard, count in row.most_common())
        lines.append(f"  {truth:>10} -> {cells}")
    return lines


PEERS = ("whisper", "sphinx")


def run(manifest: str | Path = DEFAULT_MANIFEST, recognizer: str = "whisper",
        split: str = "heldout", peer: bool | Iterable[str] = True,
        out: Callable[[str], None] = print, band: str = "full",
        stop_policy: str | None = None) -> dict[str, Any]:
    """Measure, print human-readable lines, and return the summary (printed last as JSON)."""
    clips = load_clips(manifest, split)
    if not clips:
        raise VoiceImrsError(f"No clips to measure in {str(manifest)!r} (split {split}).",
                             hint="Use --split all for a manifest of other speakers.")
    make, confirm_below = recognizer_factory(recognizer, stop_policy)
    out(f"recognition benchmark: {len(clips)} clips from {manifest} (split {split}, "
        f"band {band})")
    started = time.perf_counter()
    ours = score_ours(clips, make, confirm_below, band)
    out(f"{recognizer}: {time.perf_counter() - started:.1f} s")
    summary: dict[str, Any] = {"recognizer": recognizer, "split": split, "band": band,
                               **ours.rates()}
    if stop_policy:
        summary["stop_policy"] = stop_policy
    if ours.latencies_ms:
        summary["stop_decided_after_word_end_ms_p50"] = round(
            float(np.median(ours.latencies_ms)))
    if confirm_below is not None and ours.rating_n:
        summary["rating_confirmed_share"] = round(ours.rating_low_conf / ours.rating_n, 4)
        summary["rating_wrong_unconfirmed"] = round(ours.rating_wrong_sure / ours.rating_n, 4)
    _print_tally(recognizer, ours, out)
    if recognizer == "whisper":
        summary["stop_by_policy"] = stop_policies(clips, band)
        out(f"[{recognizer}] stop by lane policy: {json.dumps(summary['stop_by_policy'])}")
    peers = list(PEERS if peer is True else () if peer is False else peer)
    for name in peers:
        started = time.perf_counter()
        theirs = score_peer(clips, band, name)
        label = {"sphinx": "SpeechRecognition recognize_sphinx",
                 "whisper": "faster-whisper transcribe()"}[name]
        out(f"peer {name} ({label}): {time.perf_counter() - started:.1f} s")
        _print_tally(f"peer {name}", theirs, out)
        # "peer" stays the SpeechRecognition one, as before, for tools reading the JSON.
        key = "peer" if name == "sphinx" else "peer_whisper"
        summary[key] = {**theirs.rates(), "decided_after_clip_end_ms_p50": round(
            float(np.median(theirs.latencies_ms))) if theirs.latencies_ms else None}
    out(json.dumps(summary))
    return summary


def _print_tally(name: str, tally: Tally, out: Callable[[str], None]) -> None:
    r = tally.rates()
    n = r["n"]

    def pct(value: float | None) -> str:
        return "n/a" if value is None else f"{100 * value:.1f}%"

    out(f"[{name}] stop recall {pct(r['stop_recall'])} of {n['stop']}, "
        f"false stops {pct(r['false_stop'])} of {n['no_stop']}, "
        f"rating {pct(r['rating_acc'])} of {n['rating']}, "
        f"yes/no {pct(r['yesno_acc'])} of {n['yesno']}, "
        f"speech detected {pct(r['speech_detect'])} of {n['speech']}, "
        f"noise called speech {pct(r['noise_false_speech'])} of {n['noise']}")
    out(f"[{name}] unknown words taken as an answer {pct(r['oov_accepted'])} of {n['oov']}, "
        f"custom stop word {pct(r['custom_stop_recall'])} of {n['custom_stop']} "
        f"(false {pct(r['custom_false_stop'])} of {n['custom_no_stop']}), "
        f"six-way choice {pct(r['choice6_acc'])} of {n['choice6']}")
    if tally.missed_stop_files:
        out(f"[{name}] missed stops: {', '.join(tally.missed_stop_files[:12])}")
    if tally.false_stop_files:
        out(f"[{name}] false stops: {', '.join(tally.false_stop_files[:12])}")
    out(f"[{name}] confusion (truth -> heard):")
    for line in confusion_lines(tally):
        out(line)
