"""A script rendered to one audio track: the non-interactive version for a walk or for bed.

Nobody answers a rendered track, so the session engine itself is walked once with the
gentlest answers (``voice_imrs.core.walker.walk``), its actions are translated into
timeline items (``calm_path``: no script is interpreted here) and laid out on a timeline
(``render_track``). What the walk gives:

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
- the engine's words to a listener (the read-back of a rating, a soft check-in after long
  pauses) are left out, and a client-paced step keeps its written pause;
- running off the end of the script, like a session, closes through the grounding close.

Every prompt is brought to the same loudness (recorded takes and synthetic speech alike),
an optional background bed runs under the whole track, and the cue sheet gives each step's
start time. The track opens and closes softly: it fades in, a soft bell rings before the
first word and after the last, and it fades out; the whole is then brought to about
-16 LUFS integrated (``voice_imrs.render.loudness``). Writing the file is
``voice_imrs.render.export``'s job.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np

from voice_imrs.core.engine import Plan
from voice_imrs.core.messages import (
    Action,
    Bell,
    Event,
    Heard,
    Listen,
    Log,
    Speak,
    SpeechDone,
    TimerDone,
    Wait,
)
from voice_imrs.core.script import Script
from voice_imrs.core.walker import walk
from voice_imrs.ports import PCM, Synthesizer, VoiceSettings
from voice_imrs.render.assets import load_asset
from voice_imrs.render.loudness import TARGET_LUFS, fade_edges, gain_to
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
#: The soft bell that opens and closes a track, its gain (about -18 dBFS) and how long
#: after the opening bell the first word comes.
EDGE_BELL = "chime"
EDGE_BELL_GAIN = 0.15
START_LEAD_S = 2.5
#: Silence between the last word and the closing bell.
END_GAP_S = 1.5
#: The fades at the very start and end (they shape the bed and the closing bell's tail).
FADE_IN_S = 1.0
FADE_OUT_S = 2.0
#: No sample of a finished track goes above this (-1 dBFS).
PEAK_CEILING = 0.891
#: espeak-ng says this many words a minute for each word a minute it is set to, pauses
#: included (measured over every built-in prompt: 158-171 at 150). ``estimated_seconds``
#: uses it; ``tests/test_render_edges.py`` checks the estimate against real renders, so
#: a default voice with another pace fails there and this is where to change it.
WORDS_PER_SET_WORD = 1.1


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


def calm_path(script: Script, variables: Mapping[str, str]) -> list[Item]:
    """The timeline items of one calm walk through ``script`` (rules in the module doc).

    variables: the profile's placeholder values with ``perspective`` and ``eyes``.
    A script that cannot be walked to an end is a ScriptError naming its file.
    """
    plan = Plan.of(script)
    return timeline(plan, walk(plan, variables).trace)


def timeline(plan: Plan, trace: Sequence[Action | Event]) -> list[Item]:
    """The engine's actions of a walk (``walker.Run.trace``) as timeline items.

    A step starts where its first sound or silence does; ``Speak`` is speech (a prompt
    may be replaced by a recorded take of its step), ``Wait`` silence, ``Bell`` a ring
    (two seconds ahead of a prompt it opens). The engine's asides to a listener (the
    read-back of a rating, a check-in) are left out; where it listens, the track gives
    a cue and time to answer inwardly instead, and a client-paced step keeps the pause
    its script gives.
    """
    items: list[Item] = []
    pending: StepStart | None = None  # the step entered, not yet on the timeline
    take_key: tuple[str, str] | None = None  # the take that may speak the next Speak
    aside = False  # the next Speak is the engine talking to a listener
    step_id = ""  # the step the engine is in

    def begin() -> None:
        nonlocal pending
        if pending is not None:
            items.append(pending)
            pending = None

    for at, action in enumerate(trace):
        if isinstance(action, Log) and action.event == "step" and action.step:
            step_id, aside = action.step, False
            pending = StepStart(step_id, str(action.fields.get("kind", "")),
                                _prompt_of(trace, at + 1, step_id))
        elif isinstance(action, Log) and action.event == "say_start":
            aside = bool(ASIDES & set(action.fields))
            written = getattr(plan.steps.get(action.step or ""), "text", None)
            prompt = not aside and "cue" not in action.fields and action.step is not None
            take_key = (str(action.step), written) if prompt and written else None
        elif isinstance(action, Bell):
            begin()
            items.append(Ring(action.name, lead_s=BELL_LEAD_S if _opens_prompt(trace, at + 1)
                              else 0.0))
        elif isinstance(action, Speak):
            if not aside:
                begin()
                items.append(Speech(action.text, hold_s=action.hold_s, take_key=take_key))
            take_key = None
        elif isinstance(action, Wait):
            begin()
            items.append(Silence(action.seconds))
        elif isinstance(action, Listen) and not aside:
            begin()
            reply = trace[at + 1] if at + 1 < len(trace) else None
            items += _answer_time(plan, step_id, action, reply)
    return items


#: ``say_start`` fields that mark the engine's own words to a listener.
ASIDES = frozenset({"readback", "check", "reprompt", "confirm", "help"})


def _prompt_of(trace: Sequence[Action | Event], start: int, step_id: str) -> str:
    """The step's prompt as spoken: its first ``say_start`` that is no cue or aside,
    among the actions that entered it (up to the first completion or the next step).
    """
    for action in trace[start:]:
        if isinstance(action, (SpeechDone, TimerDone, Heard)) or (
                isinstance(action, Log) and action.event == "step"):
            break
        if isinstance(action, Log) and action.event == "say_start" \
                and action.step == step_id and not (ASIDES | {"cue"}) & set(action.fields):
            return str(action.fields.get("text", ""))
    return ""


def _opens_prompt(trace: Sequence[Action | Event], start: int) -> bool:
    """Whether the next sound after a bell is a prompt (not a silence or a listen)."""
    for action in trace[start:]:
        if isinstance(action, Log) and action.event == "say_start":
            return not ASIDES & set(action.fields)
        if isinstance(action, (Speak, Wait, Listen)):
            return False
    return False


def _answer_time(plan: Plan, step_id: str, listen: Listen,
                 reply: Action | Event | None) -> list[Item]:
    """Where the engine listens: a cue and a pause, or a client-paced step's own pause."""
    kinds = listen.expect.kinds
    if "rating" in kinds:
        return [Speech(RATING_CUE), Silence(QUESTION_PAUSE_S)]
    if "choice" in kinds:
        said = reply.intent.text if isinstance(reply, Heard) else ""
        return [Speech(CHOICE_CUE.format(option=said)), Silence(QUESTION_PAUSE_S)]
    if "yes" in kinds:
        return [Speech(YES_NO_CUE), Silence(QUESTION_PAUSE_S)]
    # "ready" (a client-paced step): nobody says it, so the step keeps its written pause.
    seconds = float(getattr(plan.steps.get(step_id), "pause_after_s", 0.0))
    return [Silence(seconds)] if seconds else []


# ---------------------------------------------------------------- the timeline


def estimated_seconds(items: list[Item], rate_wpm: int, soft_edges: bool = True) -> float:
    """How long ``render_track`` will make ``items``, without synthesizing anything.

    The layout is the same (silences, bell leads, breathing holds, edges); only each
    prompt's length is estimated from its words at ``rate_wpm``.
    """
    seconds = 2 * EDGE_S + ((START_LEAD_S + END_GAP_S) if soft_edges else 0.0)
    words_per_s = rate_wpm * WORDS_PER_SET_WORD / 60
    for item in items:
        if isinstance(item, Silence):
            seconds += item.seconds
        elif isinstance(item, Ring):
            seconds += item.lead_s
        elif isinstance(item, Speech):
            seconds += max(len(item.text.split()) / words_per_s, item.hold_s)
    if soft_edges:  # the closing bell rings out (read at its own rate: no resampling)
        from voice_imrs.audio.wav import read_wav
        from voice_imrs.render.assets import assets_dir

        bell, bell_rate = read_wav(assets_dir() / f"{EDGE_BELL}.wav")
        seconds += len(bell) / bell_rate
    return seconds


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
                 progress: Progress | None = None, soft_edges: bool = True,
                 target_lufs: float | None = TARGET_LUFS) -> Track:
    """Lay ``items`` out at the synthesizer's rate and mix bells and the bed under them.

    takes: a therapist's recorded voice; a fresh take replaces the synthetic prompt.
    message: the client's own message at the synthesizer's rate, played at the
        ``own_message`` step after a short lead-in.
    progress: called with (prompts done, prompts in all) as speech is rendered.
    soft_edges: fade in and out, with a soft bell before the first word and after the last.
    target_lufs: the integrated loudness of the finished track (None: leave the level).
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
    rings: list[tuple[int, str, float]] = []  # (start sample, bell, gain)
    cues: list[dict[str, object]] = []
    position = int(EDGE_S * rate)
    if soft_edges:
        rings.append((position, EDGE_BELL, EDGE_BELL_GAIN))
        position += int(START_LEAD_S * rate)
    current: dict[str, object] | None = None
    for item in items:
        if isinstance(item, StepStart):
            current = {"id": item.step_id, "kind": item.kind,
                       "start_s": round(position / rate, 3), "text": item.text}
            cues.append(current)
        elif isinstance(item, Ring):
            rings.append((position, item.name, BELL_GAIN))
            position += int(item.lead_s * rate)
        elif isinstance(item, Silence):
            position += round(item.seconds * rate)
        else:
            audio, source = rendered[(item.text, item.take_key)]
            if item.take_key and current is not None and current["id"] == item.take_key[0]:
                current["voice"] = source
            pieces.append((position, audio))
            position += max(len(audio), round(item.hold_s * rate))
    if soft_edges:
        position += int(END_GAP_S * rate)
        rings.append((position, EDGE_BELL, EDGE_BELL_GAIN))
    total = position + int(EDGE_S * rate)
    bell_audio = {name: load_asset(name, rate) for _, name, _ in rings}
    # The closing bell rings out in full before the fade-out's last second.
    total = max([total, *(start + len(bell_audio[name]) + (int(EDGE_S * rate)
                                                          if soft_edges else 0)
                          for start, name, _ in rings)])

    mixed = np.zeros(total, np.float32)
    for start, audio in pieces:
        mixed[start:start + len(audio)] += audio.astype(np.float32) / 32768.0
    for start, name, gain in rings:
        bell = bell_audio[name]
        mixed[start:start + len(bell)] += bell.astype(np.float32) / 32768.0 * gain
    if background:
        bed = BackgroundBed(background, rate, background_volume)
        mixed += bed.render_float(total)
    # In place from here: a long session's track is tens of megabytes per copy.
    if soft_edges:
        fade_edges(mixed, rate, FADE_IN_S, FADE_OUT_S)
    if target_lufs is not None:
        _to_loudness(mixed, rate, target_lufs)
    _limit(mixed)
    mixed *= 32767.0
    np.round(mixed, out=mixed)
    audio = np.clip(mixed, -32768, 32767, out=mixed).astype(np.int16)
    bells = [{"name": name, "time_s": round(start / rate, 3)} for start, name, _ in rings]
    return Track(audio, rate, cues, bells)


def _to_loudness(mixed: np.ndarray, rate: int, target: float) -> None:
    """Scale float ``mixed`` in place to ``target`` LUFS, allowing for the soft limiter.

    The limiter bends only the few peaks above its knee, which lowers the loudness a
    little; a second, measured correction (on a limited copy) takes that into account.
    """
    mixed *= gain_to(mixed, rate, target)
    limited = mixed.copy()
    _limit(limited)
    correction = gain_to(limited, rate, target)
    if abs(20 * np.log10(correction)) > 0.2:
        mixed *= correction


def _limit(mixed: np.ndarray) -> None:
    """Bend peaks in place so that none passes ``PEAK_CEILING`` (no clipping, even after
    MP3 or Vorbis encoding, whose reconstruction overshoots sharp peaks a little).
    """
    mixed /= PEAK_CEILING
    soft_limit(mixed, in_place=True)
    mixed *= PEAK_CEILING


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
