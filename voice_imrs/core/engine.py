"""The next-step decision: ``advance(plan, state, event) -> (state, actions)``. Pure.

The runner performs the actions in order. Every list holds at most one *awaiting* action
(``Speak``, ``Wait`` or ``Listen``), always last; the runner performs it until it completes
(``SpeechDone``, ``TimerDone``, ``Silence``) or another event arrives. When a new list
holds an awaiting action, the one in progress is abandoned (speech is cut off at once).
A list with no awaiting action (a volume change, an ignored word) lets it go on.

Safety lives here, not in the scripts: stop, eyes open, high distress, unending silence,
a signal and a fault all lead into the grounding steps of ``voice_imrs.core.safety``, and
no path to the end of a session skips them.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from types import MappingProxyType

from voice_imrs.core import controls, prompts
from voice_imrs.core.events import Interrupt
from voice_imrs.core.intents import (
    ANSWER_KINDS,
    Intent,
)
from voice_imrs.core.messages import (
    AWAITING,
    Action,
    Begin,
    Bell,
    Event,
    Fault,
    Finish,
    Heard,
    Listen,
    Log,
    Setting,
    Signal,
    Silence,
    Speak,
    SpeechDone,
    TimerDone,
    Wait,
)
from voice_imrs.core.safety import (
    EYES_GROUNDING,
    GROUNDING_CHECK,
    GROUNDING_CHOICE,
    GROUNDING_CLOSE,
    GROUNDING_CRISIS,
    GROUNDING_END_CHECK,
    GROUNDING_HIGH,
    GROUNDING_LONGER,
    GROUNDING_NOINPUT,
    GROUNDING_STOP,
    OUTCOME,
    RESUME,
    SAFETY_IDS,
    SAFETY_MEDIUM_HOMEWORK,
    SAFETY_MEDIUM_THERAPIST,
    SAFETY_SLOW,
)
from voice_imrs.core.script import (
    AskChoice,
    AskRating,
    AskYesNo,
    End,
    Jump,
    Pause,
    RepeatUntil,
    Say,
    SetVar,
    Step,
    Timed,
)
from voice_imrs.core.session_state import Plan, State, expectation, options_of
from voice_imrs.core.step_graph import is_detour, is_grounding
from voice_imrs.core.wording import render_text

Result = tuple[State, list[Action]]
#: Set once the crisis resources were spoken in this session (the end guard reads it).
CRISIS_SPOKEN = "crisis_spoken"
#: Imagery pauses at least this long count towards the soft dissociation check.
LONG_PAUSE_S = 10.0


def start(plan: Plan, variables: Mapping[str, str], rate_wpm: int = 125,
          volume: float = 0.8) -> Result:
    """The first state and actions of a session.

    ``variables`` carry the profile's placeholder values plus ``perspective`` ("first" or
    "third") and ``eyes`` ("closed" or "open").
    """
    merged = {"perspective": "first", "eyes": "closed", **plan.script.variables, **variables}
    state = State(variables=MappingProxyType(merged), rate_wpm=rate_wpm, volume=volume)
    first = plan.script.steps[0].id
    log = Log("session_start", None, {"script": plan.script.name, "mode": plan.script.mode,
                                      "perspective": merged["perspective"],
                                      "eyes": merged["eyes"]})
    state, actions = _enter(plan, state, first)
    return state, [log, *actions]


# ---------------------------------------------------------------- the decision


def advance(plan: Plan, state: State, event: Event | controls.Control) -> Result:
    """Decide what happens next after ``event``."""
    if state.phase == "ended":
        return state, []
    # --- console hook (issue 17): the therapist's controls live in core/controls.py.
    if isinstance(event, controls.Control):
        return controls.handle(plan, state, event, _enter)
    # --- end of console hook
    if isinstance(event, Begin):
        return state, []
    if isinstance(event, Signal):
        return _signal(plan, state, event)
    if isinstance(event, Fault):
        return _fault(plan, state, event)
    if isinstance(event, Heard):
        return _heard(plan, state, event.intent)
    if isinstance(event, SpeechDone):
        return _speech_done(plan, state)
    if isinstance(event, TimerDone):
        return _timer_done(plan, state)
    if isinstance(event, Silence):
        return _silence(plan, state)
    raise TypeError(f"unknown event {event!r}")


def _text(plan: Plan, state: State, text: str) -> str:
    variables = dict(state.variables)
    variables.setdefault("eyes_grounding", EYES_GROUNDING.get(variables["eyes"], ""))
    return render_text(text, variables, variables["perspective"], variables["eyes"])


def _set(state: State, **variables: str) -> State:
    return replace(state, variables=MappingProxyType({**state.variables, **variables}))


def _say(state: State, text: str, louder: bool = False, **fields: object) -> list[Action]:
    """Speak one of the engine's own sentences, logged like every prompt."""
    return [Log("say_start", state.step, {"text": text, **fields}), Speak(text, louder=louder)]


def _crisis_due(plan: Plan, state: State) -> bool:
    """The last rating is high and the crisis resources were not spoken yet."""
    return (state.last_distress is not None and state.last_distress >= plan.policy.high
            and state.variables.get(CRISIS_SPOKEN) != "yes")


def _enter(plan: Plan, state: State, step_id: str | None, depth: int = 0) -> Result:
    """Begin ``step_id``: the actions up to its first awaiting one."""
    if depth > len(plan.steps) + 5:
        raise RuntimeError("steps jump in a circle without speaking")
    if step_id == RESUME:
        step_id = state.resume_to or GROUNDING_CLOSE
        state = replace(state, resume_to=None)
    if step_id is None:  # ran off the end of the script: close through grounding
        step_id = GROUNDING_CLOSE
    step = plan.steps[step_id]
    state = replace(state, step=step_id, phase="speak", noinput=0, nomatch=0, pending=None,
                    cue_index=0)
    actions: list[Action] = [Log("step", step_id, {"kind": type(step).__name__.lower()})]
    if step_id == GROUNDING_LONGER:
        state = _set(state, longer_done="yes")
    if step_id == GROUNDING_CRISIS:
        # Only the safety step counts: a script's own support words do not replace the
        # second, longer grounding that comes before it.
        state = _set(state, **{CRISIS_SPOKEN: "yes"})

    if isinstance(step, Jump):
        state, more = _enter(plan, state, step.goto, depth + 1)
        return state, [*actions, Log("branch", step_id, {"to": step.goto, "reason": "jump"}),
                       *more]
    if isinstance(step, SetVar):
        state = _set(state, **{step.name: step.value})
        more_state, more = _enter(plan, state, _next(plan, step), depth + 1)
        return more_state, [*actions, *_setting_logs(step), *more]
    if isinstance(step, RepeatUntil):
        return _repeat(plan, state, step, actions, depth)
    if isinstance(step, End):
        return _end(plan, state, step, actions)

    bell = getattr(step, "bell", None)
    if bell and not isinstance(step, Timed):
        actions.append(Bell(bell))
    if isinstance(step, Pause):
        return replace(state, phase="pause"), [*actions, Wait(_paced(plan, step.seconds))]
    if isinstance(step, Timed):
        return _cue(plan, state, step, actions)
    text = _text(plan, state, step.text)
    if isinstance(step, AskChoice) and step.var == "helper":
        own = options_of(plan, state, step)[len(step.options):]
        if own:  # the client's own figures are offered aloud too
            text += " Or someone of your own: " + " or ".join(o.value for o in own) + "."
    louder = step_id == GROUNDING_NOINPUT  # "come back to my voice" is said louder
    return state, [*actions, Log("say_start", step_id, {"text": text}),
                   Speak(text, louder=louder)]


def _paced(plan: Plan, seconds: float) -> float:
    """A pause stretched or shortened by the profile's pace."""
    return round(seconds * plan.policy.pace, 3)


def _setting_logs(step: SetVar) -> list[Action]:
    return [Log("setting", step.id, {"name": step.name, "value": step.value})]


def _next(plan: Plan, step: Step) -> str | None:
    return plan.graph.default_next(step)


def _repeat(plan: Plan, state: State, step: RepeatUntil, actions: list[Action],
            depth: int) -> Result:
    done = state.rounds.get(step.id, 0) + 1
    met = step.until is not None and state.variables.get(step.until) == "yes"
    rounds = MappingProxyType({**state.rounds, step.id: done})
    state = replace(state, rounds=rounds)
    if met or done >= step.max_rounds:
        state = replace(state, rounds=MappingProxyType({**rounds, step.id: 0}))
        target = _next(plan, step)
    else:
        target = step.start
    more_state, more = _enter(plan, state, target, depth + 1)
    reason = "until met" if met else ("rounds done" if target != step.start else "again")
    return more_state, [*actions, Log("branch", step.id, {"to": target, "reason": reason}),
                        *more]


def _natural_reason(state: State) -> str:
    if state.ending:
        return state.ending
    if state.stopped:
        return "stopped"
    return "incomplete" if state.variables.get(OUTCOME) == "incomplete" else "completed"


def _end(plan: Plan, state: State, step: End, actions: list[Action]) -> Result:
    reason = _natural_reason(state)
    if _crisis_due(plan, state):
        # Never end unsettled: the last rating was high, so ask again; if it stays high, a
        # second, longer grounding and the crisis resources come before any end.
        state = replace(state, ending=reason, resume_to=step.id)
        more_state, more = _enter(plan, state, GROUNDING_END_CHECK)
        return more_state, [*actions, Log("branch", step.id, {"to": GROUNDING_END_CHECK,
                                                              "reason": "still high"}), *more]
    if step.text:
        text = _text(plan, state, step.text)
        state = replace(state, phase="closing", ending=reason)
        return state, [*actions, Log("say_start", step.id, {"text": text}), Speak(text)]
    return _finish(state, reason, actions)


def _finish(state: State, reason: str, actions: list[Action]) -> Result:
    state = replace(state, phase="ended", ending=reason)
    return state, [*actions, Log("session_end", state.step, {"reason": reason}),
                   Finish(reason)]


# ---------------------------------------------------------------- timed exercises


def _cues(step: Timed) -> list[tuple[str, float, bool]]:
    """(cue text, seconds, ring the bell) for each segment of a timed step."""
    if step.kind == "breathing":
        cycle = step.inhale_s + step.hold_s + step.exhale_s
        rounds = max(1, round(step.duration_s / cycle))
        one = [(step.inhale_cue, step.inhale_s, False)]
        if step.hold_s:
            one.append(("hold", step.hold_s, False))
        one.append((step.exhale_cue, step.exhale_s, False))
        return one * rounds
    interval = step.interval_s or step.duration_s
    segments: list[tuple[str, float, bool]] = []
    left = step.duration_s
    while left > 1e-9:
        segments.append(("", min(interval, left), bool(step.bell)))
        left -= interval
    return segments


def _cue(plan: Plan, state: State, step: Timed, actions: list[Action]) -> Result:
    cues = _cues(step)
    if state.cue_index >= len(cues):
        more_state, more = _enter(plan, state, _next(plan, step))
        return more_state, [*actions, *more]
    text, seconds, ring = cues[state.cue_index]
    state = replace(state, phase="cue")
    if ring:
        actions.append(Bell(step.bell or "bell"))
    if text:
        actions.append(Log("say_start", step.id, {"text": text, "cue": True}))
        # The cue is spoken at the start of its segment; the segment keeps its length.
        return state, [*actions, Speak(text, hold_s=seconds)]
    return state, [*actions, Wait(seconds)]


# ---------------------------------------------------------------- completions


def _listen(plan: Plan, state: State, timeout_s: float | None = None) -> Listen:
    return Listen(expectation(plan, state), timeout_s or plan.policy.silence_s)


def _speech_done(plan: Plan, state: State) -> Result:
    step = plan.steps[state.step] if state.step else None
    logs: list[Action] = [Log("say_end", state.step)]
    if state.phase == "closing":
        return _finish(state, state.ending or "completed", logs)
    if state.phase == "readback" and state.pending is not None:
        value = state.pending
        more_state, more = _branch_on_rating(plan, replace(state, pending=None), value,
                                             logged=True)
        return more_state, [*logs, *more]
    if state.phase == "helping":
        return _after_aside(plan, replace(state, phase=state.after_pause), logs)
    if state.phase == "cue" and isinstance(step, Timed):
        state = replace(state, cue_index=state.cue_index + 1)
        more_state, more = _cue(plan, state, step, [])
        return more_state, [*logs, *more]
    if state.phase in ("confirm", "check", "quiet_check", "clarify", "paused"):
        return state, [*logs, _listen(plan, state)]
    if state.phase == "reprompt":
        state = replace(state, phase="listen")
        return state, [*logs, _listen(plan, state)]
    if state.phase == "ready":
        return state, [*logs, _listen(plan, state, _ready_wait(plan, step))]
    if state.phase != "speak" or step is None:
        return state, logs
    if isinstance(step, (AskRating, AskYesNo, AskChoice)):
        state = replace(state, phase="listen")
        return state, [*logs, _listen(plan, state)]
    if isinstance(step, Say) and step.until_ready_s > 0:
        state = replace(state, phase="ready")
        return state, [*logs, _listen(plan, state, _ready_wait(plan, step))]
    if isinstance(step, Say) and step.pause_after_s > 0:
        return replace(state, phase="pause"), [*logs, Wait(_paced(plan, step.pause_after_s))]
    state, more = _enter(plan, state, _next(plan, step))
    return state, [*logs, *more]


def _ready_wait(plan: Plan, step: Step | None) -> float:
    seconds = step.until_ready_s if isinstance(step, Say) else plan.policy.silence_s
    return _paced(plan, seconds)


def _timer_done(plan: Plan, state: State) -> Result:
    step = plan.steps[state.step] if state.step else None
    if state.phase == "cue" and isinstance(step, Timed):
        state = replace(state, cue_index=state.cue_index + 1)
        return _cue(plan, state, step, [])
    if state.phase == "pause" and step is not None:
        seconds = getattr(step, "pause_after_s", getattr(step, "seconds", 0.0))
        in_safety = is_detour(step.id)
        if seconds >= LONG_PAUSE_S and not in_safety:
            state = replace(state, quiet_s=state.quiet_s + _paced(plan, seconds))
            if state.quiet_s >= plan.policy.quiet_check_s:
                # Dissociation is watched in imagery pauses too: a soft check.
                state = replace(state, phase="quiet_check", quiet_s=0.0, noinput=0)
                return state, _say(state, prompts.QUIET_CHECK, check="quiet")
        return _enter(plan, state, _next(plan, step))
    return state, []


# ---------------------------------------------------------------- silence (VoiceXML noinput)


def _silence(plan: Plan, state: State) -> Result:
    count = state.noinput + 1
    state = replace(state, noinput=count)
    log = Log("noinput", state.step, {"count": count})
    step = plan.steps.get(state.step or "")
    in_safety = is_detour(state.step)
    if state.phase in ("check", "quiet_check"):
        return _come_back(plan, state, [log])
    if in_safety and count >= 3:
        if _crisis_due(plan, state) and state.variables.get("longer_done") != "yes":
            # No answer while still distressed: the second, longer grounding first.
            return _detour(plan, state, GROUNDING_LONGER, [log], keep_resume=True)
        # No answer even while grounding: the resources if the last rating was high, then
        # a gentle close rather than a loop.
        return _close_now(plan, state, state.ending or "stopped", [log])
    if state.phase in ("paused", "clarify"):
        # Paused on purpose: wait on quietly; a spoken reminder only now and then.
        return state, [_listen(plan, state, plan.policy.silence_s * 4)]
    if state.phase == "ready":
        if count >= 2:  # a long silence in a client-paced step: the soft check
            state = replace(state, phase="quiet_check", noinput=0)
            return state, [log, *_say(state, prompts.QUIET_CHECK, check="ready")]
        return state, [log, *_say(state, prompts.READY_CHECK, reprompt=True)]
    if state.phase == "confirm":
        state = replace(state, phase="listen", pending=None)
    if isinstance(step, AskYesNo) and step.unclear == "yes" and count >= 3:
        # A risk question met only by silence: treated as unclear, so as a yes.
        return _yes_no(plan, state, step, "yes", [log], "no answer counts as yes")
    expect = expectation(plan, state)
    if count >= 3:
        state = replace(state, phase="check", after_pause="listen")
        return state, [log, *_say(state, prompts.FEET_CHECK, louder=True, check="feet")]
    text = prompts.silence_prompt(count, expect)
    state = replace(state, phase="reprompt")
    return state, [log, *_say(state, text, reprompt=True)]


def _come_back(plan: Plan, state: State, actions: list[Action]) -> Result:
    """No answer, a no or a hedge to a check: "come back to my voice", louder, eyes open."""
    step = plan.steps.get(state.step or "")
    quiet = state.phase == "quiet_check"
    resume = _next(plan, step) if quiet and step is not None else state.step
    volume = round(min(1.0, state.volume + 0.2), 2)
    state = _set(replace(state, volume=volume), eyes="open")
    return _detour(plan, state, GROUNDING_NOINPUT,
                   [*actions, Setting("volume", volume), Bell("bell", gain=2.0)],
                   resume=resume)


# ---------------------------------------------------------------- what was heard


def _heard(plan: Plan, state: State, intent: Intent) -> Result:
    log = Log("intent", state.step, {"intent": intent.kind, "value": intent.value,
                                     "text": intent.text, "confidence": intent.confidence})
    state = replace(state, quiet_s=0.0)  # the client is here: the quiet count starts over
    kind = intent.kind
    if kind in ("stop", "eyes_open"):
        return _stop(plan, state, intent, log)
    if kind == "speech":
        if plan.policy.barge_in != "speech" or state.phase != "speak":
            return state, []
        state = replace(state, phase="clarify", after_pause=state.phase)
        text = "I heard you. Say stop to stop, or continue to go on."
        return state, [log, Log("interrupted", state.step, {"by": "speech"}), Speak(text)]
    if kind in ("louder", "softer"):
        step_size = 0.15 if kind == "louder" else -0.15
        volume = round(min(1.0, max(0.1, state.volume + step_size)), 2)
        return replace(state, volume=volume), [log, Setting("volume", volume),
                                               Log("setting", state.step,
                                                   {"name": "volume", "value": volume})]
    if kind in ("slower", "faster"):
        rate = _rate(plan, state.rate_wpm, -1 if kind == "slower" else 1)
        state = replace(state, rate_wpm=rate)
        return state, [log, Setting("rate_wpm", rate),
                       Log("setting", state.step, {"name": "rate_wpm", "value": rate})]
    if kind == "help":
        return _help(plan, state, log)
    if kind == "pause":
        if state.phase == "paused":
            return state, []
        paused = replace(state, phase="paused", after_pause=state.phase)
        return paused, [log, Log("paused", state.step),
                        *_say(paused, "Paused. Say continue when you are ready.")]
    if kind in ("resume", "ready") and state.phase in ("paused", "clarify"):
        return _resume(plan, state, log)
    if kind == "ready" and state.phase == "ready":
        step = plan.steps[state.step or ""]
        more_state, more = _enter(plan, state, _next(plan, step))
        return more_state, [log, *more]
    if kind == "repeat":
        if state.phase in ("listen", "speak", "reprompt"):
            more_state, more = _enter(plan, replace(state, noinput=0), state.step)
            return more_state, [log, *more]
        return state, []
    if state.phase == "confirm":
        return _confirm(plan, state, intent, log)
    if state.phase in ("check", "quiet_check"):
        return _checked(plan, state, intent, log)
    if not _answering(plan, state):
        return state, []
    if kind == "unknown":
        return _nomatch(plan, state, intent, log)
    return _answer(plan, state, intent, log)


def _checked(plan: Plan, state: State, intent: Intent, log: Log) -> Result:
    """An answer to the feet check or the soft check: yes goes on, no or unsure comes back."""
    if intent.kind not in ("yes", "no", "unsure"):
        return state, []
    if intent.kind != "yes":
        return _come_back(plan, state, [log])
    step = plan.steps[state.step or ""]
    if state.phase == "quiet_check":
        more_state, more = _enter(plan, replace(state, noinput=0), _next(plan, step))
        return more_state, [log, *more]
    state = replace(state, phase="reprompt", noinput=0)
    text = "Thank you. " + _text(plan, state, getattr(step, "text", ""))
    return state, [log, *_say(state, text, reprompt=True)]


def _help(plan: Plan, state: State, log: Log) -> Result:
    """A short spoken list of what works now; then the question or the step goes on."""
    if state.phase in ("helping", "closing"):
        return state, []
    text = prompts.help_text(expectation(plan, state))
    state = replace(state, phase="helping", after_pause=state.phase)
    return state, [log, *_say(state, text, help=True)]


def _after_aside(plan: Plan, state: State, actions: list[Action]) -> Result:
    """Back from a short aside (help): listen again, or play the step again from its top."""
    if state.phase in ("listen", "reprompt", "confirm", "check", "quiet_check", "ready",
                       "paused", "clarify"):
        state = replace(state, phase="listen" if state.phase == "reprompt" else state.phase)
        wait = _ready_wait(plan, plan.steps.get(state.step or "")) \
            if state.phase == "ready" else None
        return state, [*actions, _listen(plan, state, wait)]
    more_state, more = _enter(plan, state, state.step)
    return more_state, [*actions, *more]


def _answering(plan: Plan, state: State) -> bool:
    """Answers count while a question is asked, reprompted or awaited (barge-in on answers)."""
    if state.phase in ("listen", "reprompt"):
        return True
    step = plan.steps.get(state.step or "")
    return state.phase == "speak" and isinstance(step, (AskRating, AskYesNo, AskChoice))


def _rate(plan: Plan, rate: int, direction: int) -> int:
    policy = plan.policy
    return max(policy.min_rate_wpm, min(policy.max_rate_wpm,
                                        rate + direction * policy.slow_step_wpm))


def _resume(plan: Plan, state: State, log: Log) -> Result:
    step_id = state.step
    state = replace(state, phase=state.after_pause, resume_to=state.resume_to)
    actions: list[Action] = [log, Log("resumed", step_id)]
    if state.phase in ("listen", "reprompt", "ready"):
        return _after_aside(plan, state, actions)
    # Whatever was playing starts again from the top of its step.
    more_state, more = _enter(plan, state, step_id)
    return more_state, [*actions, *more]


def _stop(plan: Plan, state: State, intent: Intent, log: Log) -> Result:
    current = plan.steps[state.step] if state.step else None
    speaking = state.phase in ("speak", "cue", "reprompt", "closing", "confirm", "check",
                               "quiet_check", "clarify", "readback", "helping")
    actions: list[Action] = [log, Interrupt(intent.kind)]  # silence all we play, now
    if speaking:
        actions.append(Log("interrupted", state.step, {"by": intent.kind}))
    if intent.kind == "eyes_open":
        state = _set(state, eyes="open")
        actions.append(Log("setting", state.step, {"name": "eyes", "value": "open"}))
    step_id = state.step or ""
    in_safety = is_detour(step_id)
    if step_id in (GROUNDING_CLOSE, GROUNDING_CRISIS) or (in_safety and state.phase == "closing"):
        # A stop during the last words: respect it and end quietly, grounded, unless the
        # last rating was high and the resources were not said yet (they are short).
        state = replace(state, stopped=True)
        if _crisis_due(plan, state):
            return _close_now(plan, state, state.ending or "stopped", actions)
        return _finish(state, state.ending or "stopped", actions)
    # "Stop" at the choice answers "end for today"; anywhere else, even a second stop in
    # grounding, grounds (again): a stop never ends a session unsettled.
    target = GROUNDING_CLOSE if step_id == GROUNDING_CHOICE else GROUNDING_STOP
    own_step = step_id not in SAFETY_IDS and not isinstance(current, End)
    resume = state.step if own_step else state.resume_to
    state = replace(state, stopped=True, resume_to=resume)
    more_state, more = _enter(plan, state, target)
    return more_state, [*actions, Log("branch", state.step, {"to": target, "reason": "stop"}),
                        *more]


def _nomatch(plan: Plan, state: State, intent: Intent, log: Log) -> Result:
    """VoiceXML nomatch: what counts now, then shorter, then the keys, then a check-in."""
    count = state.nomatch + 1
    step = plan.steps.get(state.step or "")
    expect = expectation(plan, state)
    actions: list[Action] = [log, Log("nomatch", state.step, {"count": count,
                                                              "text": intent.text})]
    if isinstance(step, AskYesNo) and step.unclear == "yes" and count >= 2:
        return _yes_no(plan, state, step, "yes", actions, "unclear counts as yes")
    if count >= 4:
        state = replace(state, nomatch=count, phase="check", after_pause="listen")
        return state, [*actions, *_say(state, prompts.FEET_CHECK, check="feet")]
    text = (prompts.accepted_now, prompts.shorter, prompts.keyboard_hint)[count - 1](expect)
    state = replace(state, nomatch=count, phase="reprompt")
    return state, [*actions, *_say(state, text, reprompt=True)]


_DOUBTFUL_YES = -1
_DOUBTFUL_NO = -2  # a doubtful no to a risk question, where unclear counts as yes


def _confirm(plan: Plan, state: State, intent: Intent, log: Log) -> Result:
    value = state.pending
    if intent.kind not in ("yes", "no", "unsure") or value is None:
        return state, []
    confirmed = intent.kind == "yes"
    state = replace(state, phase="listen", pending=None)
    shown: int | str = {_DOUBTFUL_YES: "yes", _DOUBTFUL_NO: "no"}.get(value, value)
    actions: list[Action] = [log, Log("confirm", state.step, {"value": shown,
                                                              "confirmed": confirmed})]
    step = plan.steps[state.step or ""]
    if confirmed and isinstance(step, AskYesNo):
        return _yes_no(plan, state, step, str(shown), actions, f"{shown}, confirmed")
    if confirmed:
        return _branch_on_rating(plan, state, value, actions)
    step = plan.steps[state.step or ""]
    text = "Okay. " + _text(plan, state, getattr(step, "text", ""))
    state = replace(state, phase="reprompt")
    return state, [*actions, *_say(state, text, reprompt=True)]


def _doubtful(plan: Plan, intent: Intent) -> bool:
    """The recognizer gave a confidence, and it is low (typed answers have none)."""
    return intent.confidence is not None and intent.confidence < plan.policy.confirm_below


def _answer(plan: Plan, state: State, intent: Intent, log: Log) -> Result:
    step = plan.steps[state.step or ""]
    if isinstance(step, AskRating) and intent.kind == "rating":
        value = int(intent.value or 0)
        if _doubtful(plan, intent):
            state = replace(state, phase="confirm", pending=value)
            return state, [log, *_say(state, prompts.confirm_rating(value), confirm=True)]
        # Read back briefly so the client hears what was taken, then branch.
        state = replace(state, phase="readback", pending=value)
        return state, [log, _rating_log(step, value),
                       *_say(state, prompts.read_back(value), readback=True)]
    if isinstance(step, AskYesNo) and intent.kind in ("yes", "no", "unsure"):
        if intent.kind == "unsure":
            counted = step.unclear
            return _yes_no(plan, state, step, counted, [log], f"unclear counts as {counted}")
        if intent.kind == "yes" and step.unclear == "no" and _doubtful(plan, intent):
            # Only a clear yes leads deeper: a doubtful one is checked first.
            state = replace(state, phase="confirm", pending=_DOUBTFUL_YES)
            return state, [log, *_say(state, "I heard yes. Is that right?", confirm=True)]
        if intent.kind == "no" and step.unclear == "yes" and _doubtful(plan, intent):
            state = replace(state, phase="confirm", pending=_DOUBTFUL_NO)
            return state, [log, *_say(state, "I heard no. Is that right?", confirm=True)]
        return _yes_no(plan, state, step, intent.kind, [log], intent.kind)
    if isinstance(step, AskChoice) and intent.kind == "choice":
        option = next((o for o in options_of(plan, state, step) if o.value == intent.value),
                      None)
        if option is None:
            return _nomatch(plan, state, intent, log)
        state = _set(state, **({step.var: option.value} if step.var else {}))
        if step.id == GROUNDING_CHOICE and option.value != "end":
            # Going on after a stop: a later natural end counts as completed.
            state = replace(state, stopped=False)
        return _go(plan, state, step, option.goto, [log], f"choice {option.value}")
    if isinstance(step, (AskYesNo, AskChoice, AskRating)) and intent.kind in ANSWER_KINDS:
        return _nomatch(plan, state, intent, log)  # an answer of the wrong kind
    return state, []


def _yes_no(plan: Plan, state: State, step: AskYesNo, answer: str, actions: list[Action],
            reason: str) -> Result:
    state = _set(state, **({step.var: answer} if step.var else {}))
    target = step.yes if answer == "yes" else step.no
    if target is None:
        target = _next(plan, step)
    actions = [*actions, Log("branch", step.id, {"to": target, "reason": reason})]
    more_state, more = _enter(plan, state, target)
    return more_state, [*actions, *more]


def _go(plan: Plan, state: State, step: Step, target: str | None, actions: list[Action],
        reason: str) -> Result:
    if target is None:
        target = _next(plan, step)
    else:
        actions = [*actions, Log("branch", step.id, {"to": target, "reason": reason})]
    more_state, more = _enter(plan, state, target)
    return more_state, [*actions, *more]


def _rating_log(step: AskRating, value: int) -> Log:
    return Log("rating", step.id, {"value": value, "scale": step.scale})


def _branch_on_rating(plan: Plan, state: State, value: int,
                      actions: list[Action] | None = None, logged: bool = False) -> Result:
    step = plan.steps[state.step or ""]
    assert isinstance(step, AskRating)
    policy = plan.policy
    actions = [*(actions or []), *([] if logged else [_rating_log(step, value)])]
    if step.var:
        state = _set(state, **{step.var: str(value)})
    branch = next((b for b in step.branches if b.low <= value <= b.high), None)
    target = branch.goto if branch and branch.goto else None
    if step.scale != "distress":
        return _go(plan, state, step, target, actions, f"rating {value}")

    previous = state.last_distress
    state = replace(state, last_distress=value)
    in_safety = is_detour(step.id)
    if value >= policy.high:
        if not in_safety and not is_grounding(target):
            # The script did not ground this rating: safety does, whatever the script says.
            return _detour(plan, state, GROUNDING_HIGH, actions,
                           resume=target or _next(plan, step))
        # Grounding first: nothing is offered at or above the high threshold.
        return _go(plan, state, step, target, actions, f"rating {value}")
    rising = previous is not None and value - previous >= policy.rise
    if in_safety or not (policy.medium <= value or rising):
        return _go(plan, state, step, target, actions, f"rating {value}")
    rate = _rate(plan, state.rate_wpm, -1)
    state = replace(state, rate_wpm=rate)
    actions = [*actions, Setting("rate_wpm", rate),
               Log("setting", step.id, {"name": "rate_wpm", "value": rate})]
    resume = target or _next(plan, step)
    if state.variables.get("medium_offered") == "yes":
        return _detour(plan, state, SAFETY_SLOW, actions, resume=resume)
    # The 5-7 band acts once per session with the offers that fit the script's kind.
    offer = SAFETY_MEDIUM_THERAPIST if plan.script.mode == "therapist" \
        else SAFETY_MEDIUM_HOMEWORK
    state = _set(state, medium_offered="yes")
    return _detour(plan, state, offer, actions, resume=resume)


def _detour(plan: Plan, state: State, to: str, actions: list[Action],
            resume: str | None = None, keep_resume: bool = False) -> Result:
    if not keep_resume:
        state = replace(state, resume_to=resume)
    actions = [*actions, Log("branch", state.step, {"to": to, "reason": "safety"})]
    more_state, more = _enter(plan, state, to)
    return more_state, [*actions, *more]


# ---------------------------------------------------------------- signal and fault


def _signal(plan: Plan, state: State, event: Signal) -> Result:
    return _close_now(plan, state, "signal", [Interrupt("signal"),
                                              Log("interrupted", state.step,
                                                  {"by": event.name})])


def _fault(plan: Plan, state: State, event: Fault) -> Result:
    return _close_now(plan, state, "fault", [Log("fault", state.step, {"error": event.error})])


def _close_now(plan: Plan, state: State, reason: str, actions: list[Action]) -> Result:
    """A short grounding (with the crisis resources after a high rating), then the end."""
    if state.ending is not None and state.step in (GROUNDING_CLOSE, GROUNDING_CRISIS):
        return _finish(state, state.ending, actions)  # second signal: end at once
    state = replace(state, stopped=True, ending=reason)
    target = GROUNDING_CRISIS if _crisis_due(plan, state) else GROUNDING_CLOSE
    more_state, more = _enter(plan, state, target)
    return more_state, [*actions, Log("branch", state.step, {"to": target,
                                                             "reason": reason}), *more]


__all__ = [
    "AWAITING",
    "GROUNDING_CHECK",
    "Action",
    "Begin",
    "Bell",
    "Event",
    "Fault",
    "Finish",
    "Heard",
    "Listen",
    "Log",
    "Plan",
    "Setting",
    "Signal",
    "Silence",
    "Speak",
    "SpeechDone",
    "State",
    "TimerDone",
    "Wait",
    "advance",
    "expectation",
    "options_of",
    "start",
]
