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
from dataclasses import dataclass, field, replace
from types import MappingProxyType

from voice_imrs.core.intents import (
    NOTHING,
    RATING,
    READY,
    YES_NO,
    Expectation,
    Intent,
    valid_answers,
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
    GROUNDING_HIGH,
    GROUNDING_NOINPUT,
    GROUNDING_STOP,
    RESUME,
    SAFETY_DISTANCE,
    SafetyPolicy,
    safety_steps,
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
    Script,
    SetVar,
    Step,
    Timed,
)
from voice_imrs.core.wording import render_text

# ---------------------------------------------------------------- plan and state


@dataclass(frozen=True)
class Plan:
    """What does not change during a session: the script with the safety steps merged in."""

    script: Script
    policy: SafetyPolicy
    steps: Mapping[str, Step]

    @classmethod
    def of(cls, script: Script, policy: SafetyPolicy | None = None) -> Plan:
        policy = policy or SafetyPolicy()
        steps: dict[str, Step] = {step.id: step for step in safety_steps(policy)}
        steps.update({step.id: step for step in script.steps})
        return cls(script, policy, MappingProxyType(steps))

    def following(self, step_id: str) -> str | None:
        """The step after ``step_id`` in its own list (script or safety steps)."""
        step = self.steps[step_id]
        if step in self.script.steps:
            return self.script.following(step_id)
        order = [s.id for s in safety_steps(self.policy)]
        position = order.index(step_id) + 1
        return order[position] if position < len(order) else None


@dataclass(frozen=True)
class State:
    """Where a session is.

    step: the current step id (None once ended).
    phase: "speak" (its prompt is playing), "pause" (silence after it), "listen" (waiting
      for an answer), "cue" (a timed exercise), "confirm" (checking a rating), "check"
      (the dissociation check), "paused" (the user said pause), "clarify" (speech barge-in:
      asking what was meant), "ended".
    variables: placeholder values and answers (perspective, eyes, helper, ratings...).
    resume_to: where ``$resume`` goes after a stop, a detour or a pause.
    after_pause: the phase to restore on resume.
    noinput / nomatch: counts for the current question.
    rounds: passes through each repeat step.
    last_distress: the last distress rating, for the rise rule.
    pending: a low-confidence rating waiting for confirmation.
    cue_index: position within a timed exercise.
    stopped: a stop or signal happened: a later natural end is "stopped", not "completed".
    ending: the reason to finish with once the closing grounding is over.
    rate_wpm / volume: the voice settings in force.
    """

    step: str | None = None
    phase: str = "speak"
    variables: Mapping[str, str] = field(default_factory=dict)
    resume_to: str | None = None
    after_pause: str = "speak"
    noinput: int = 0
    nomatch: int = 0
    rounds: Mapping[str, int] = field(default_factory=dict)
    last_distress: int | None = None
    pending: int | None = None
    cue_index: int = 0
    stopped: bool = False
    ending: str | None = None
    rate_wpm: int = 150
    volume: float = 0.8


Result = tuple[State, list[Action]]


def start(plan: Plan, variables: Mapping[str, str], rate_wpm: int = 150,
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


# ---------------------------------------------------------------- what counts now


def expectation(plan: Plan, state: State) -> Expectation:
    """What the runner's listener should accept now, beyond stop and the commands."""
    if state.phase in ("confirm", "check"):
        return YES_NO
    if state.phase in ("paused", "clarify"):
        return READY
    if state.step is None or state.phase not in ("listen", "reprompt", "speak"):
        return NOTHING
    step = plan.steps[state.step]
    if isinstance(step, AskRating):
        return RATING
    if isinstance(step, AskYesNo):
        return YES_NO
    if isinstance(step, AskChoice):
        return Expectation(frozenset({"choice"}),
                           tuple((o.value, o.phrases) for o in step.options))
    return NOTHING


# ---------------------------------------------------------------- the decision


def advance(plan: Plan, state: State, event: Event) -> Result:
    """Decide what happens next after ``event``."""
    if state.phase == "ended":
        return state, []
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
        return replace(state, phase="pause"), [*actions, Wait(step.seconds)]
    if isinstance(step, Timed):
        return _cue(plan, state, step, actions)
    text = _text(plan, state, step.text)
    return state, [*actions, Log("say_start", step_id, {"text": text}), Speak(text)]


def _setting_logs(step: SetVar) -> list[Action]:
    return [Log("setting", step.id, {"name": step.name, "value": step.value})]


def _next(plan: Plan, step: Step) -> str | None:
    explicit = getattr(step, "next", None)
    return explicit if explicit is not None else plan.following(step.id)


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


def _end(plan: Plan, state: State, step: End, actions: list[Action]) -> Result:
    reason = state.ending or ("stopped" if state.stopped else "completed")
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
        return _enter(plan, state, _next(plan, step))
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


def _speech_done(plan: Plan, state: State) -> Result:
    step = plan.steps[state.step] if state.step else None
    logs: list[Action] = [Log("say_end", state.step)]
    if state.phase == "closing":
        return _finish(state, state.ending or "completed", logs)
    if state.phase == "cue" and isinstance(step, Timed):
        state = replace(state, cue_index=state.cue_index + 1)
        more_state, more = _cue(plan, state, step, [])
        return more_state, [*logs, *more]
    if state.phase in ("confirm", "check", "clarify", "paused"):
        return state, [*logs, Listen(expectation(plan, state), plan.policy.silence_s)]
    if state.phase == "reprompt":
        state = replace(state, phase="listen")
        return state, [*logs, Listen(expectation(plan, state), plan.policy.silence_s)]
    if state.phase != "speak" or step is None:
        return state, logs
    if isinstance(step, (AskRating, AskYesNo, AskChoice)):
        state = replace(state, phase="listen")
        return state, [*logs, Listen(expectation(plan, state), plan.policy.silence_s)]
    if isinstance(step, Say) and step.pause_after_s > 0:
        return replace(state, phase="pause"), [*logs, Wait(step.pause_after_s)]
    state, more = _enter(plan, state, _next(plan, step))
    return state, [*logs, *more]


def _timer_done(plan: Plan, state: State) -> Result:
    step = plan.steps[state.step] if state.step else None
    if state.phase == "cue" and isinstance(step, Timed):
        state = replace(state, cue_index=state.cue_index + 1)
        return _cue(plan, state, step, [])
    if state.phase == "pause" and step is not None:
        return _enter(plan, state, _next(plan, step))
    return state, []


# ---------------------------------------------------------------- silence (VoiceXML noinput)


def _silence(plan: Plan, state: State) -> Result:
    count = state.noinput + 1
    state = replace(state, noinput=count)
    log = Log("noinput", state.step, {"count": count})
    in_safety = (state.step or "").startswith("grounding")
    if state.phase == "check" or (in_safety and count >= 3):
        if in_safety:  # no answer even while grounding: close gently rather than loop
            return _close_now(plan, state, state.ending or "stopped", [log])
        # No answer to "can you feel your feet": eyes-open grounding with a louder bell.
        volume = round(min(1.0, state.volume + 0.2), 2)
        state = _set(replace(state, volume=volume), eyes="open")
        return _detour(plan, state, GROUNDING_NOINPUT,
                       [log, Setting("volume", volume), Bell("bell", gain=2.0)],
                       resume=state.step)
    if state.phase in ("paused", "clarify"):
        # Paused on purpose: wait on quietly; a spoken reminder only now and then.
        return state, [Listen(expectation(plan, state), plan.policy.silence_s * 4)]
    if state.phase == "confirm":
        state = replace(state, phase="listen", pending=None)
    expect = expectation(plan, state)
    if count == 1:
        text = "Take your time. " + _short_question(expect)
    elif count == 2:
        text = _short_question(expect) + " Or say stop."
    else:
        state = replace(state, phase="check")
        return state, [log, Speak("Can you feel your feet on the floor? Say yes.", louder=True)]
    state = replace(state, phase="reprompt")
    return state, [log, Log("say_start", state.step, {"text": text, "reprompt": True}),
                   Speak(text)]


def _short_question(expect: Expectation) -> str:
    if "rating" in expect.kinds:
        return "Say a number from zero to ten."
    if "choice" in expect.kinds:
        names = [phrases[0] for _, phrases in expect.choices if phrases]
        return "You can say " + ", ".join(names[:-1]) + " or " + names[-1] + "."
    if {"yes", "no"} & expect.kinds:
        return "Say yes or no."
    return "Say ready when you are ready."


# ---------------------------------------------------------------- what was heard


def _heard(plan: Plan, state: State, intent: Intent) -> Result:
    log = Log("intent", state.step, {"intent": intent.kind, "value": intent.value,
                                     "text": intent.text, "confidence": intent.confidence})
    kind = intent.kind
    if kind in ("stop", "eyes_open"):
        return _stop(plan, state, intent, log)
    if kind == "speech":
        if plan.policy.barge_in != "speech" or state.phase not in ("speak", "cue_speak"):
            return state, []
        state = replace(state, phase="clarify", after_pause=state.phase)
        text = "I heard you. Say stop to stop, or continue to go on."
        return state, [log, Log("interrupted", state.step, {"by": "speech"}),
                       Speak(text)]
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
    if kind == "pause":
        if state.phase == "paused":
            return state, []
        paused = replace(state, phase="paused", after_pause=state.phase)
        return paused, [log, Log("paused", state.step),
                        Speak("Paused. Say continue when you are ready.")]
    if kind in ("resume", "ready") and state.phase in ("paused", "clarify"):
        return _resume(plan, state, log)
    if kind == "repeat":
        if state.phase == "listen" or state.phase == "speak":
            return _enter(plan, replace(state, noinput=0), state.step)
        return state, []
    if state.phase == "confirm":
        return _confirm(plan, state, intent, log)
    if state.phase == "check":
        if kind == "yes":
            state = replace(state, phase="listen", noinput=0)
            step = plan.steps[state.step or ""]
            text = "Thank you. " + _text(plan, state, getattr(step, "text", ""))
            return replace(state, phase="reprompt"), [log, Speak(text)]
        return state, []
    if not _answering(plan, state):
        return state, []
    if kind == "unknown":
        return _nomatch(plan, state, intent, log)
    return _answer(plan, state, intent, log)


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
    state = replace(state, phase=state.after_pause, resume_to=None)
    actions: list[Action] = [log, Log("resumed", step_id)]
    if state.phase == "listen":
        return state, [*actions, Listen(expectation(plan, state), plan.policy.silence_s)]
    # Whatever was playing starts again from the top of its step.
    more_state, more = _enter(plan, state, step_id)
    return more_state, [*actions, *more]


def _stop(plan: Plan, state: State, intent: Intent, log: Log) -> Result:
    current = plan.steps[state.step] if state.step else None
    speaking = state.phase in ("speak", "cue", "reprompt", "closing", "confirm", "check",
                               "clarify")
    actions: list[Action] = [log]
    if speaking:
        actions.append(Log("interrupted", state.step, {"by": intent.kind}))
    if intent.kind == "eyes_open":
        state = _set(state, eyes="open")
        actions.append(Log("setting", state.step, {"name": "eyes", "value": "open"}))
    in_safety = state.step is not None and state.step.startswith("grounding")
    if in_safety:
        if state.step == GROUNDING_CLOSE or state.phase == "closing":
            # A stop during the closing words: respect it and end quietly, grounded.
            return _finish(replace(state, stopped=True), state.ending or "stopped", actions)
        target = GROUNDING_CLOSE
    else:
        target = GROUNDING_STOP
    resume = state.step if not in_safety else state.resume_to
    if isinstance(current, End):
        resume = None
    state = replace(state, stopped=True, resume_to=resume)
    more_state, more = _enter(plan, state, target)
    return more_state, [*actions, Log("branch", state.step, {"to": target, "reason": "stop"}),
                        *more]


def _nomatch(plan: Plan, state: State, intent: Intent, log: Log) -> Result:
    count = state.nomatch + 1
    answers = valid_answers(expectation(plan, state))
    text = "Sorry, I didn't catch that. You can say " + ", or ".join(answers) + "."
    state = replace(state, nomatch=count, phase="reprompt")
    return state, [log, Log("nomatch", state.step, {"count": count, "text": intent.text}),
                   Log("say_start", state.step, {"text": text, "reprompt": True}),
                   Speak(text)]


def _confirm(plan: Plan, state: State, intent: Intent, log: Log) -> Result:
    value = state.pending
    if intent.kind not in ("yes", "no") or value is None:
        return state, []
    confirmed = intent.kind == "yes"
    state = replace(state, phase="listen", pending=None)
    actions: list[Action] = [log, Log("confirm", state.step, {"value": value,
                                                              "confirmed": confirmed})]
    if confirmed:
        return _rating(plan, state, value, actions)
    step = plan.steps[state.step or ""]
    text = "Okay. " + _text(plan, state, getattr(step, "text", ""))
    return replace(state, phase="reprompt"), [*actions, Speak(text)]


def _answer(plan: Plan, state: State, intent: Intent, log: Log) -> Result:
    step = plan.steps[state.step or ""]
    if isinstance(step, AskRating) and intent.kind == "rating":
        value = int(intent.value or 0)
        low_confidence = (intent.confidence is not None
                          and intent.confidence < plan.policy.confirm_below)
        if low_confidence:
            state = replace(state, phase="confirm", pending=value)
            text = f"I heard {_NUMBER_NAMES[value]}. Is that right?"
            return state, [log, Speak(text)]
        return _rating(plan, state, value, [log])
    if isinstance(step, AskYesNo) and intent.kind in ("yes", "no"):
        state = _set(state, **({step.var: intent.kind} if step.var else {}))
        target = step.yes if intent.kind == "yes" else step.no
        return _go(plan, state, step, target, [log], intent.kind)
    if isinstance(step, AskChoice) and intent.kind == "choice":
        option = next(o for o in step.options if o.value == intent.value)
        state = _set(state, **({step.var: option.value} if step.var else {}))
        if step.id == GROUNDING_CHOICE and option.value != "end":
            # Going on after a stop: a later natural end counts as completed.
            state = replace(state, stopped=False)
        return _go(plan, state, step, option.goto, [log], f"choice {option.value}")
    return state, []


def _go(plan: Plan, state: State, step: Step, target: str | None, actions: list[Action],
        reason: str) -> Result:
    if target is None:
        target = _next(plan, step)
    else:
        actions = [*actions, Log("branch", step.id, {"to": target, "reason": reason})]
    more_state, more = _enter(plan, state, target)
    return more_state, [*actions, *more]


_NUMBER_NAMES = ("zero", "one", "two", "three", "four", "five", "six", "seven", "eight",
                 "nine", "ten")


def _rating(plan: Plan, state: State, value: int, actions: list[Action]) -> Result:
    step = plan.steps[state.step or ""]
    assert isinstance(step, AskRating)
    policy = plan.policy
    actions = [*actions, Log("rating", step.id, {"value": value, "scale": step.scale})]
    if step.var:
        state = _set(state, **{step.var: str(value)})
    branch = next((b for b in step.branches if b.low <= value <= b.high), None)
    target = branch.goto if branch and branch.goto else None
    if step.scale != "distress":
        return _go(plan, state, step, target, actions, f"rating {value}")

    previous = state.last_distress
    state = replace(state, last_distress=value)
    in_safety = step.id.startswith("grounding")
    if value >= policy.high and not in_safety and not (target or "").startswith("grounding"):
        # The script did not ground this rating: safety does, whatever the script says.
        return _detour(plan, state, GROUNDING_HIGH, actions, resume=target or _next(plan, step))
    rising = previous is not None and value - previous >= policy.rise
    if not in_safety and (policy.medium <= value < policy.high or rising):
        rate = _rate(plan, state.rate_wpm, -1)
        state = replace(state, rate_wpm=rate)
        actions = [*actions, Setting("rate_wpm", rate),
                   Log("setting", step.id, {"name": "rate_wpm", "value": rate})]
        offer = (state.variables.get("perspective") == "first"
                 and "distance" not in state.variables and plan.script.mode == "therapist")
        if offer:
            return _detour(plan, state, SAFETY_DISTANCE, actions,
                           resume=target or _next(plan, step))
    return _go(plan, state, step, target, actions, f"rating {value}")


def _detour(plan: Plan, state: State, to: str, actions: list[Action],
            resume: str | None = None, keep_resume: bool = False) -> Result:
    if not keep_resume:
        state = replace(state, resume_to=resume)
    actions = [*actions, Log("branch", state.step, {"to": to, "reason": "safety"})]
    more_state, more = _enter(plan, state, to)
    return more_state, [*actions, *more]


# ---------------------------------------------------------------- signal and fault


def _signal(plan: Plan, state: State, event: Signal) -> Result:
    return _close_now(plan, state, "signal", [Log("interrupted", state.step,
                                                  {"by": event.name})])


def _fault(plan: Plan, state: State, event: Fault) -> Result:
    return _close_now(plan, state, "fault", [Log("fault", state.step, {"error": event.error})])


def _close_now(plan: Plan, state: State, reason: str, actions: list[Action]) -> Result:
    """A short grounding, then the end: used when the session must end now."""
    if state.ending is not None and state.step == GROUNDING_CLOSE:
        return _finish(state, state.ending, actions)  # second signal: end at once
    state = replace(state, stopped=True, ending=reason)
    more_state, more = _enter(plan, state, GROUNDING_CLOSE)
    return more_state, [*actions, Log("branch", state.step, {"to": GROUNDING_CLOSE,
                                                             "reason": reason}), *more]


__all__ = [
    "AWAITING",
    "Action", "Begin", "Bell", "Event", "Fault", "Finish", "Heard", "Listen", "Log", "Plan",
    "Setting", "Signal", "Silence", "Speak", "SpeechDone", "State", "TimerDone", "Wait",
    "advance", "expectation", "start", "GROUNDING_CHECK",
]
