"""A script rendered to one audio track: the non-interactive version for a walk or for bed.

Nobody answers a rendered track, so the script is walked once along its calm path
(``calm_path``) and then laid out on a timeline (``render_track``):

- a rating question is spoken, followed by a gentle cue ("take a moment to notice the
  number that fits") and a pause; the walk takes the lowest-distress branch (rating 0 on a
  distress scale, 10 on a belief scale);
- a yes/no question takes "yes" (the "yes, settled" / "yes, ready" path), unless "yes"
  leads into a grounding or safety detour and "no" does not;
- a spoken choice takes the option the profile already holds for its variable (the
  helper), else the first option, and says which one the recording continues with;
- a repeat-until loop runs its body once; jumps and variables work as in a session;
- a pause and a timer keep their length; breathing keeps its cues and pacing; bells ring
  at phase changes (steps with ``bell``) and at timer intervals;
- running off the end of the script, like a session, closes through the grounding close.

Every prompt is brought to the same loudness (recorded takes and synthetic speech alike),
an optional background bed runs under the whole track, and the cue sheet gives each step's
start time. Writing the file is ``voice_imrs.render.export``'s job.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field

import numpy as np

from voice_imrs.core.safety import EYES_GROUNDING, GROUNDING_CLOSE, RESUME
from voice_imrs.core.script import (
    AskChoice,
    AskRating,
    AskYesNo,
    ChoiceOption,
    End,
    Jump,
    Pause,
    RepeatUntil,
    Say,
    Script,
    SetVar,
    Step,
    Timed,
)
from voice_imrs.errors import ScriptError
from voice_imrs.ports import PCM, Synthesizer, VoiceSettings
from voice_imrs.render.assets import load_asset
from voice_imrs.render.mixer import BackgroundBed, normalize_loudness, soft_limit
from voice_imrs.render.takes import (
    OWN_MESSAGE_GAP_S,
    OWN_MESSAGE_LEAD_IN,
    OWN_MESSAGE_STEP,
    TakeLibrary,
)

RATING_CUE = "Take a moment to notice the number that fits."
YES_NO_CUE = "Take a moment to notice your answer."
CHOICE_CUE = "Take a moment with that. In this recording, we continue with {option}."
#: Silence after a question's cue: time to answer inwardly.
QUESTION_PAUSE_S = 5.0
#: A phase-change bell rings this long before the step's voice starts.
BELL_LEAD_S = 2.0
#: Bells sit under the voice: the bell asset peaks at -3 dBFS, this brings it to about -9.
BELL_GAIN = 0.5
#: Every prompt is normalized to this gated RMS level.
SPEECH_DBFS = -20.0
#: A little silence at the start and end of the track.
EDGE_S = 1.0


# ---------------------------------------------------------------- the calm path


@dataclass(frozen=True)
class Speech:
    """Speak ``text``; ``hold_s`` keeps the segment at least that long (breathing cues).

    take_key: (step id, text as written) when a recorded take may replace this speech.
    """

    text: str
    hold_s: float = 0.0
    take_key: tuple[str, str] | None = None


@dataclass(frozen=True)
class Silence:
    seconds: float


@dataclass(frozen=True)
class Ring:
    """Ring a bell; the next item starts ``lead_s`` later (the bell overlaps what follows)."""

    name: str
    lead_s: float = 0.0


@dataclass(frozen=True)
class StepStart:
    """A step begins: a cue-sheet entry."""

    step_id: str
    kind: str
    text: str


Item = Speech | Silence | Ring | StepStart


def calm_path(script: Script, variables: Mapping[str, str],
              steps: Mapping[str, Step] | None = None) -> list[Item]:
    """The timeline items of one calm walk through ``script`` (rules in the module doc).

    variables: the profile's placeholder values with ``perspective`` and ``eyes``.
    steps: every step reachable by id (defaults to the script's plus the safety steps).
    """
    from voice_imrs.core.engine import Plan

    every = steps if steps is not None else Plan.of(script).steps
    values = {"perspective": "first", "eyes": "closed", **script.variables, **variables}
    items: list[Item] = []
    step_id: str | None = script.steps[0].id if script.steps else None
    visits = 0
    while True:
        if step_id in (None, RESUME):
            step_id = GROUNDING_CLOSE  # as in a session: the end is always grounded
        visits += 1
        if visits > 4 * len(every) + 10:
            raise ScriptError("the calm path loops without reaching an end.",
                              file=script.source or script.name, step=step_id,
                              hint="Check the jumps and repeat steps.")
        if step_id not in every:
            raise ScriptError("a step jumps to a step that does not exist.",
                              file=script.source or script.name, step=step_id,
                              hint="Run `voice-imrs validate` on the script.")
        step = every[step_id]
        step_id = _walk(step, values, items, script, every)
        if isinstance(step, End):
            return items


def _walk(step: Step, values: dict[str, str], items: list[Item], script: Script,
          every: Mapping[str, Step]) -> str | None:
    """Add ``step``'s items; return the id of the step that follows on the calm path."""
    kind = type(step).__name__.lower()
    if isinstance(step, Jump):
        return step.goto
    if isinstance(step, SetVar):
        values[step.name] = step.value
        return _following(step, script, every)
    if isinstance(step, RepeatUntil):
        return _following(step, script, every)  # the body has run once: move on
    if isinstance(step, End):
        if step.text:
            text = _render(step.text, values)
            items += [StepStart(step.id, kind, text), Speech(text, take_key=(step.id, step.text))]
        return None
    if isinstance(step, Pause):
        items.append(StepStart(step.id, kind, ""))
        if step.bell:
            items.append(Ring(step.bell))
        items.append(Silence(step.seconds))
        return _following(step, script, every)
    if isinstance(step, Timed):
        items.append(StepStart(step.id, kind, ""))
        items += _timed(step)
        return _following(step, script, every)

    text = _render(step.text, values)
    items.append(StepStart(step.id, kind, text))
    if isinstance(step, Say) and step.bell:
        items.append(Ring(step.bell, lead_s=BELL_LEAD_S))
    items.append(Speech(text, take_key=(step.id, step.text)))
    if isinstance(step, Say):
        if step.pause_after_s:
            items.append(Silence(step.pause_after_s))
        return _following(step, script, every)
    if isinstance(step, AskRating):
        value = _calm_rating(step)
        if step.var:
            values[step.var] = str(value)
        items += [Speech(RATING_CUE), Silence(QUESTION_PAUSE_S)]
        for branch in step.branches:
            if branch.low <= value <= branch.high and branch.goto is not None:
                return branch.goto
        return _following(step, script, every)
    if isinstance(step, AskYesNo):
        answer = _calm_yes_no(step)
        if step.var:
            values[step.var] = answer
        items += [Speech(YES_NO_CUE), Silence(QUESTION_PAUSE_S)]
        target = step.yes if answer == "yes" else step.no
        return target if target is not None else script_following(step, script, every)
    assert isinstance(step, AskChoice)
    option = _calm_choice(step, values)
    if step.var:
        values[step.var] = option.value
    said = option.phrases[0] if option.phrases else option.value.replace("_", " ")
    items += [Speech(CHOICE_CUE.format(option=said)), Silence(QUESTION_PAUSE_S)]
    return option.goto if option.goto is not None else _following(step, script, every)


def _calm_rating(step: AskRating) -> int:
    """0 on a distress scale (10 on a belief scale), within the step's branches if any."""
    if step.scale == "belief":
        return max((branch.high for branch in step.branches), default=10)
    return min((branch.low for branch in step.branches), default=0)


def _is_detour(target: str | None) -> bool:
    return target is not None and (target.startswith("grounding") or target.startswith("safety"))


def _calm_yes_no(step: AskYesNo) -> str:
    return "no" if _is_detour(step.yes) and not _is_detour(step.no) else "yes"


def _calm_choice(step: AskChoice, values: Mapping[str, str]) -> ChoiceOption:
    """The option the variable already holds (the profile's helper), else the first."""
    held = " ".join(values.get(step.var or "", "").lower().replace("_", " ").split())
    if held:
        for option in step.options:
            names = [option.value.lower().replace("_", " "), *(p.lower() for p in option.phrases)]
            if any(name and (name == held or f" {name} " in f" {held} ") for name in names):
                return option
    return step.options[0]


def _timed(step: Timed) -> list[Item]:
    """A timed exercise keeps its length: breathing cues paced, timer bells at intervals."""
    if step.kind == "breathing":
        cycle = step.inhale_s + step.hold_s + step.exhale_s
        rounds = max(1, round(step.duration_s / cycle))
        one: list[Item] = [Speech(step.inhale_cue, hold_s=step.inhale_s)]
        if step.hold_s:
            one.append(Speech("hold", hold_s=step.hold_s))
        one.append(Speech(step.exhale_cue, hold_s=step.exhale_s))
        return one * rounds
    interval = step.interval_s or step.duration_s
    items: list[Item] = []
    left = step.duration_s
    while left > 1e-9:
        if step.bell:
            items.append(Ring(step.bell))
        items.append(Silence(min(interval, left)))
        left -= interval
    return items


def _following(step: Step, script: Script, every: Mapping[str, Step]) -> str | None:
    explicit = getattr(step, "next", None)
    return explicit if explicit is not None else script_following(step, script, every)


def script_following(step: Step, script: Script, every: Mapping[str, Step]) -> str | None:
    """The step after ``step`` in its own list (the script's, or the safety steps')."""
    if any(s.id == step.id for s in script.steps):
        return script.following(step.id)
    from voice_imrs.core.engine import Plan

    return Plan.of(script).following(step.id)


def _render(text: str, values: Mapping[str, str]) -> str:
    from voice_imrs.core.wording import render_text

    variables = dict(values)
    variables.setdefault("eyes_grounding", EYES_GROUNDING.get(variables.get("eyes", ""), ""))
    return render_text(text, variables, variables.get("perspective", "first"),
                       variables.get("eyes", "closed"))


# ---------------------------------------------------------------- the timeline


@dataclass
class Track:
    """A rendered track: the mixed audio and where each step and bell falls in it."""

    audio: PCM
    sample_rate: int
    cues: list[dict[str, object]] = field(default_factory=list)
    bells: list[dict[str, object]] = field(default_factory=list)

    @property
    def duration_s(self) -> float:
        return len(self.audio) / self.sample_rate

    def cue_sheet(self, script: Script, **extra: object) -> dict[str, object]:
        """The JSON cue sheet: every step's start time and text, and every bell."""
        return {"script": script.name, "title": script.title,
                "duration_s": round(self.duration_s, 3), "sample_rate": self.sample_rate,
                **extra, "steps": self.cues, "bells": self.bells}


Progress = Callable[[int, int], None]


def render_track(items: list[Item], synth: Synthesizer, settings: VoiceSettings,
                 takes: TakeLibrary | None = None, background: str | None = None,
                 background_volume: float = 0.25, message: PCM | None = None,
                 progress: Progress | None = None) -> Track:
    """Lay ``items`` out at the synthesizer's rate and mix bells and the bed under them.

    takes: a therapist's recorded voice; a fresh take replaces the synthetic prompt.
    message: the client's own message at the synthesizer's rate, played at the
        ``own_message`` step after a short lead-in.
    progress: called with (prompts done, prompts in all) as speech is rendered.
    """
    rate = synth.sample_rate
    speeches = [item for item in items if isinstance(item, Speech)]
    rendered: dict[tuple[str, tuple[str, str] | None], tuple[PCM, str]] = {}
    for done, speech in enumerate(speeches, start=1):
        key = (speech.text, speech.take_key)
        if key not in rendered:
            rendered[key] = _voice(speech, synth, settings, takes, rate, message)
        if progress:
            progress(done, len(speeches))

    pieces: list[tuple[int, PCM]] = []   # (start sample, voice)
    rings: list[tuple[int, str]] = []
    cues: list[dict[str, object]] = []
    position = int(EDGE_S * rate)
    current: dict[str, object] | None = None
    for item in items:
        if isinstance(item, StepStart):
            current = {"id": item.step_id, "kind": item.kind,
                       "start_s": round(position / rate, 3), "text": item.text}
            cues.append(current)
        elif isinstance(item, Ring):
            rings.append((position, item.name))
            position += int(item.lead_s * rate)
        elif isinstance(item, Silence):
            position += int(round(item.seconds * rate))
        else:
            audio, source = rendered[(item.text, item.take_key)]
            if item.take_key and current is not None and current["id"] == item.take_key[0]:
                current["voice"] = source
            pieces.append((position, audio))
            position += max(len(audio), int(round(item.hold_s * rate)))
    total = position + int(EDGE_S * rate)
    bell_audio = {name: load_asset(name, rate) for _, name in rings}
    total = max([total, *(start + len(bell_audio[name]) for start, name in rings)])

    mixed = np.zeros(total, np.float32)
    for start, audio in pieces:
        mixed[start:start + len(audio)] += audio.astype(np.float32) / 32768.0
    for start, name in rings:
        bell = bell_audio[name]
        mixed[start:start + len(bell)] += bell.astype(np.float32) / 32768.0 * BELL_GAIN
    if background:
        bed = BackgroundBed(background, rate, background_volume)
        mixed += bed.render_float(total)
    # In place from here: a long session's track is tens of megabytes per copy.
    mixed = soft_limit(mixed, in_place=True)
    mixed *= 32767.0
    np.round(mixed, out=mixed)
    audio = np.clip(mixed, -32768, 32767, out=mixed).astype(np.int16)
    bells = [{"name": name, "time_s": round(start / rate, 3)} for start, name in rings]
    return Track(audio, rate, cues, bells)


def _voice(speech: Speech, synth: Synthesizer, settings: VoiceSettings,
           takes: TakeLibrary | None, rate: int,
           message: PCM | None = None) -> tuple[PCM, str]:
    """The prompt's audio at ``rate``, loudness-normalized, and where it came from."""
    if message is not None and len(message) and speech.take_key is not None \
            and speech.take_key[0] == OWN_MESSAGE_STEP:
        lead_in, _ = _voice(Speech(OWN_MESSAGE_LEAD_IN), synth, settings, None, rate)
        gap = np.zeros(int(OWN_MESSAGE_GAP_S * rate), np.int16)
        own = normalize_loudness(message, rate, SPEECH_DBFS)
        return np.concatenate([lead_in, gap, own]), "own message"
    if takes is not None and speech.take_key is not None:
        take = takes.take_for(*speech.take_key, rate=rate)
        if take is not None and len(take):
            return normalize_loudness(take, rate, SPEECH_DBFS), f"recorded:{takes.name}"
    chunks = list(_synthesize(synth, speech.text, settings))
    audio = np.concatenate(chunks).astype(np.int16) if chunks else np.zeros(0, np.int16)
    return normalize_loudness(audio, rate, SPEECH_DBFS), "synthetic"


def _synthesize(synth: Synthesizer, text: str, settings: VoiceSettings) -> Iterator[PCM]:
    yield from synth.synthesize(text, settings)
