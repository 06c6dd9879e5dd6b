"""Consistency checks of a whole script: the safety promises a script must keep. Pure.

Every problem is collected (not only the first), each a ScriptError naming the file, the
line of the step when known, the step id, and what to do:

- ids are unique and not those of the built-in safety steps;
- every ``next``/``goto``/``yes``/``no``/branch/option/repeat target exists;
- every step is reachable from the first;
- no ``end`` can be reached from the start without passing a grounding step (a step whose
  id starts with ``grounding``: ``core.step_graph.is_grounding``), checked by a graph
  search with grounding steps removed;
- every distress rating has branches covering 8..10 (the profile's high threshold) that
  go to a grounding step; branches lie within 0..10 and do not overlap;
- every duration is finite and within its range (at most an hour), every bell exists;
- every step reached can reach an end (no loop without a way out);
- every placeholder is defined by the profile, the script's ``[variables]``, or a step
  that stores an answer; the perspective/eyes alternatives are well formed.

The graph includes the built-in safety steps the engine merges into every script (see
``voice_imrs.core.safety``), so a script may jump to ``grounding_close``.
"""

from __future__ import annotations

import difflib
import itertools
import math
from collections import deque
from collections.abc import Iterable, Sequence

from voice_imrs.core.profile import PROFILE_VARIABLES
from voice_imrs.core.safety import SafetyPolicy, safety_steps
from voice_imrs.core.script import (
    AskChoice,
    AskRating,
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
from voice_imrs.core.step_graph import StepGraph, is_grounding
from voice_imrs.core.wording import ALTERNATIVE_GROUPS, placeholders, wording_problems
from voice_imrs.errors import ScriptError

#: Variables the engine itself provides to every text.
ENGINE_VARIABLES = frozenset({"perspective", "eyes", "eyes_grounding"})
_SAFETY = safety_steps(SafetyPolicy())
SAFETY_STEPS: dict[str, Step] = {step.id: step for step in _SAFETY}


class _Checker:
    def __init__(self, script: Script, lines: Sequence[int | None], high: int,
                 known_variables: Iterable[str], sounds: Iterable[str] | None) -> None:
        self.script = script
        self.sounds = None if sounds is None else {s.lower() for s in sounds}
        self.lines = list(lines) + [None] * (len(script.steps) - len(lines))
        self.high = high
        self.known = set(known_variables)
        self.problems: list[ScriptError] = []
        self.ids = [step.id for step in script.steps]
        self.graph = StepGraph(script, _SAFETY)
        self.by_id: dict[str, Step] = {}
        for step in script.steps:
            self.by_id.setdefault(step.id, step)
        self.line_of: dict[str, int | None] = {}
        for step, line in zip(script.steps, self.lines, strict=False):
            self.line_of.setdefault(step.id, line)

    def add(self, message: str, step: str | None = None, hint: str = "",
            line: int | None = None) -> None:
        if line is None and step is not None:
            line = self.line_of.get(step)
        self.problems.append(ScriptError(message, file=self.script.source, line=line,
                                         step=step, hint=hint))

    # ------------------------------------------------------------ graph

    def node(self, step_id: str) -> Step | None:
        return self.graph.steps.get(step_id)

    def search(self, skip_grounding: bool) -> dict[str, str | None]:
        """Steps reachable from the first, each with the step it was reached from."""
        first = self.script.steps[0].id
        parents: dict[str, str | None] = {}
        if skip_grounding and is_grounding(first):
            return parents
        parents[first] = None
        queue = deque([first])
        while queue:
            current = self.node(queue.popleft())
            if current is None:
                continue
            for target in self.graph.successors(current):
                if target in parents or self.node(target) is None:
                    continue
                if skip_grounding and is_grounding(target):
                    continue
                parents[target] = current.id
                queue.append(target)
        return parents

    # ------------------------------------------------------------ checks

    def check_ids(self) -> None:
        seen: dict[str, int] = {}
        for index, step in enumerate(self.script.steps):
            line = self.lines[index]
            if step.id in seen:
                first_line = self.lines[seen[step.id]]
                where = f" (first used at line {first_line})" if first_line else ""
                self.add(f"the id {step.id!r} is used twice{where}.", step.id,
                         "Give every step its own id.", line=line)
            else:
                seen[step.id] = index
            if step.id in SAFETY_STEPS or step.id.startswith("$"):
                self.add(f"the id {step.id!r} belongs to a built-in safety step.", step.id,
                         "Choose another id; you can still jump to the built-in one.",
                         line=line)

    def targets(self, step: Step) -> list[tuple[str, str]]:
        """(field, target) pairs a step names explicitly."""
        found: list[tuple[str, str]] = []
        for name in ("next", "goto", "yes", "no", "start"):
            value = getattr(step, name, None)
            if isinstance(value, str):
                found.append((name, value))
        for branch in getattr(step, "branches", ()):
            if branch.goto:
                found.append((f"branch {branch.low}-{branch.high} goto", branch.goto))
        for option in getattr(step, "options", ()):
            if option.goto:
                found.append((f"option {option.value!r} goto", option.goto))
        return found

    def check_targets(self, known_ids: set[str]) -> None:
        valid = known_ids | set(SAFETY_STEPS)
        for step in self.script.steps:
            for name, target in self.targets(step):
                if target not in valid:
                    close = difflib.get_close_matches(target, sorted(valid), n=1)
                    hint = (f"Did you mean {close[0]!r}?" if close else
                            "Use the id of a step in this script, or grounding_close.")
                    self.add(f"{name} points to {target!r}, which is not a step.", step.id,
                             hint)

    def check_repeat(self, step: RepeatUntil, setters: set[str]) -> None:
        if step.start in self.by_id and self.ids.index(step.start) > self.ids.index(step.id):
            self.add(f"the repeat starts at {step.start!r}, which comes after it.", step.id,
                     "A repeat step closes a loop: put it after the loop's steps.")
        if step.until is not None and step.until not in setters:
            self.add(f"the repeat waits for the variable {step.until!r}, but no step stores "
                     "an answer in it.", step.id,
                     f"Add var = {step.until!r} to the yes/no question inside the loop.")
        if not 1 <= step.max_rounds <= MAX_ROUNDS:
            self.add(f"max_rounds must be from 1 to {MAX_ROUNDS}, not {step.max_rounds}.",
                     step.id)

    def check_rating(self, step: AskRating) -> None:
        ordered = sorted(step.branches, key=lambda b: (b.low, b.high))
        for branch in ordered:
            if not 0 <= branch.low <= branch.high <= 10:
                self.add(f"the branch {branch.low}-{branch.high} is outside 0..10 or runs "
                         "backwards.", step.id, "Use low and high from 0 to 10, low <= high.")
        for before, after in itertools.pairwise(ordered):
            if after.low <= before.high:
                self.add(f"the branches {before.low}-{before.high} and "
                         f"{after.low}-{after.high} overlap.", step.id,
                         "Each rating may belong to one branch only.")
        if step.scale != "distress":
            return
        grounded = {v for b in step.branches if b.goto and is_grounding(b.goto)
                    for v in range(b.low, b.high + 1)}
        missing = [v for v in range(self.high, 11) if v not in grounded]
        if missing:
            self.add(f"the distress question has no branch for ratings {self.high} to 10 "
                     "that goes to a grounding step.", step.id,
                     f'Add {{ low = {self.high}, high = 10, goto = "grounding_..." }} to its '
                     "branches.")

    def check_choice(self, step: AskChoice) -> None:
        values = [o.value for o in step.options]
        for value in sorted({v for v in values if values.count(v) > 1}):
            self.add(f"the option value {value!r} appears twice.", step.id)
        owner: dict[str, str] = {}
        for option in step.options:
            for phrase in option.phrases:
                key = phrase.strip().lower()
                if key in owner and owner[key] != option.value:
                    self.add(f"the phrase {phrase!r} picks both {owner[key]!r} and "
                             f"{option.value!r}.", step.id, "Give each option its own phrases.")
                owner.setdefault(key, option.value)
        if not step.options:
            self.add("the choice has no options.", step.id)

    def texts(self, step: Step) -> list[str]:
        if isinstance(step, Timed):
            return [step.inhale_cue, step.exhale_cue]
        text = getattr(step, "text", None)
        return [text] if isinstance(text, str) else []

    def check_words(self, setters: set[str]) -> None:
        defined = self.known | ENGINE_VARIABLES | set(self.script.variables) | setters
        for step in self.script.steps:
            for text in self.texts(step):
                for problem in wording_problems(text):
                    self.add(problem[0].lower() + problem[1:], step.id)
                for name in sorted(placeholders(text) - defined):
                    self.add(f"the placeholder {{{name}}} is not defined.", step.id,
                             f"Add {name} = \"...\" under [variables], or use one of: "
                             f"{', '.join(sorted(defined))}.")
            if isinstance(step, SetVar):
                valid = ALTERNATIVE_GROUPS.get(step.name)
                if valid and step.value not in valid:
                    self.add(f"{step.name} can only be set to {' or '.join(valid)}, not "
                             f"{step.value!r}.", step.id)

    def check_silent_loops(self) -> None:
        """Jump/set chains that come back to themselves never speak: the engine would spin."""
        for start in self.script.steps:
            seen: set[str] = set()
            current: Step | None = start
            while isinstance(current, (Jump, SetVar)) and current.id not in seen:
                seen.add(current.id)
                current = self.node(self.graph.successors(current)[0])
            if isinstance(current, (Jump, SetVar)) and current.id == start.id:
                self.add("the steps jump in a circle without saying anything.", start.id,
                         "Put a step that speaks or waits inside the loop.")

    def check_bell(self, step: Step) -> None:
        bell = getattr(step, "bell", None)
        if bell is None or self.sounds is None:
            return
        if bell.strip().lower() not in self.sounds:
            self.add(f"there is no bell sound {bell!r}.", step.id,
                     f"Use one of: {', '.join(sorted(self.sounds))}.")

    def can_end(self) -> set[str]:
        """Steps from which some path reaches an end (a backwards search from the ends)."""
        before: dict[str, set[str]] = {}
        nodes = [*self.by_id, *(i for i in SAFETY_STEPS if i not in self.by_id)]
        for node_id in nodes:
            for target in self.graph.successors(self.node(node_id)):  # type: ignore[arg-type]
                before.setdefault(target, set()).add(node_id)
        found = {i for i in nodes if isinstance(self.node(i), End)}
        queue = deque(found)
        while queue:
            for earlier in before.get(queue.popleft(), ()):
                if earlier not in found:
                    found.add(earlier)
                    queue.append(earlier)
        return found

    def check_graph(self) -> None:
        reached = self.search(skip_grounding=False)
        ending = self.can_end()
        for step in self.script.steps:
            if step.id in reached and step.id not in ending:
                self.add("this step is in a loop with no way out: no path from it reaches "
                         "an end, so the session would never finish.", step.id,
                         "Give the loop an exit: a repeat step (it ends after max_rounds), "
                         "a question with an answer that leads out, or a next that leaves.")
        for step in self.script.steps:
            if step.id not in reached:
                self.add("this step can never be reached: no step leads to it.", step.id,
                         "Point a next, goto or branch at it, or remove it.")
        ungrounded = self.search(skip_grounding=True)
        for step_id in ungrounded:
            if isinstance(self.node(step_id), End):
                path: list[str] = []
                current: str | None = step_id
                while current is not None:
                    path.append(current)
                    current = ungrounded[current]
                route = " -> ".join(reversed(path))
                self.add(f"the end can be reached without passing a grounding step "
                         f"({route}).", step_id,
                         "Put a step whose id starts with 'grounding' on the way to it.")

    def run(self, complete: bool, known_ids: set[str]) -> list[ScriptError]:
        if not self.script.steps:
            self.add("the script has no steps.", hint="Add [[step]] tables.")
            return self.problems
        setters = {v for s in self.script.steps for v in (getattr(s, "var", None),
                                                           getattr(s, "name", None)) if v}
        self.check_ids()
        self.check_targets(known_ids | set(self.ids))
        # A graph with doubled ids or dangling targets gives false "unreachable" reports:
        # those problems are reported first, the graph checks once they are fixed.
        complete = complete and not self.problems
        for step in self.script.steps:
            if isinstance(step, RepeatUntil):
                self.check_repeat(step, setters)
            elif isinstance(step, AskRating):
                self.check_rating(step)
            elif isinstance(step, AskChoice):
                self.check_choice(step)
            for problem in duration_problems(step):
                self.add(problem, step.id, "Use a number of seconds in that range.")
            self.check_bell(step)
        self.check_words(setters)
        if complete:
            self.check_silent_loops()
            self.check_graph()
        return self.problems


#: The longest any duration, pause or timer may be: an hour. A script is guidance a person
#: listens to; anything longer is a typo (or ``inf``) that would leave them in silence.
MAX_SECONDS = 3600.0
#: The shortest breathing cue: shorter ones cannot be said, and 1e-300 s would make the
#: number of cues overflow.
MIN_CUE_S = 0.5
MAX_CUE_S = 60.0
MAX_ROUNDS = 20


def _seconds_problem(name: str, value: float, low: float, *, zero_ok: bool = False,
                     high: float = MAX_SECONDS) -> str | None:
    """None when ``value`` is a finite number of seconds in range, else the problem."""
    if zero_ok and value == 0:
        return None
    if math.isfinite(value) and low <= value <= high and value > 0:
        return None
    allowed = f"0 or from {low:g}" if zero_ok else f"from {low:g}"
    return f"{name} must be {allowed} to {high:g} seconds, not {value!r}."


def duration_problems(step: Step) -> list[str]:
    """Every duration of ``step`` that is not finite and within its range."""
    found: list[str | None] = []
    if isinstance(step, Say):
        found.append(_seconds_problem("pause_after_s", step.pause_after_s, 0.0, zero_ok=True))
    elif isinstance(step, Pause):
        found.append(_seconds_problem("seconds", step.seconds, 0.1))
    elif isinstance(step, Timed):
        found.append(_seconds_problem("duration_s", step.duration_s, 1.0))
        if step.kind == "breathing":
            found.append(_seconds_problem("inhale_s", step.inhale_s, MIN_CUE_S,
                                          high=MAX_CUE_S))
            found.append(_seconds_problem("exhale_s", step.exhale_s, MIN_CUE_S,
                                          high=MAX_CUE_S))
            found.append(_seconds_problem("hold_s", step.hold_s, MIN_CUE_S, zero_ok=True,
                                          high=MAX_CUE_S))
        else:
            found.append(_seconds_problem("interval_s", step.interval_s, 1.0, zero_ok=True))
    return [problem for problem in found if problem]


def check_script(script: Script, lines: Sequence[int | None] = (), *, high: int = 8,
                 known_variables: Iterable[str] = PROFILE_VARIABLES,
                 complete: bool = True, other_ids: Iterable[str] = (),
                 sounds: Iterable[str] | None = None) -> list[ScriptError]:
    """Every consistency problem of ``script`` (empty when it is sound).

    lines: the source line of each step, in order (for messages).
    high: the distress rating from which a branch must go to grounding.
    known_variables: placeholder names the profile defines.
    complete: False when some steps could not be built (schema errors); the graph checks
      (reachability, grounding) are then skipped rather than report false problems.
    other_ids: ids of steps that exist in the file but could not be built.
    sounds: the bell sounds that exist (None: not checked).
    """
    return _Checker(script, lines, high, known_variables, sounds).run(complete,
                                                                      set(other_ids))
