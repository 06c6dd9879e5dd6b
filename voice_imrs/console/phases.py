"""The part of a session a step belongs to, for the console's phase timer and the report.

A full rescripting session has named parts (preparation, safe place, the three ImRs
phases, closing); the other exercises are one part each. The engine's safety steps and
every step whose id starts with ``grounding`` count as grounding, wherever they come.
The parts are read from the script order: a part runs from its first step to the next
part's first step, so a script that gains a step keeps its parts.
"""

from __future__ import annotations

from voice_imrs.core.script import End, Script
from voice_imrs.core.step_graph import is_detour, is_grounding

GROUNDING = "Grounding"

#: script name -> (first step id, part name), in script order.
PART_STARTS: dict[str, tuple[tuple[str, str], ...]] = {
    "imrs_session": (
        ("welcome", "Preparation"),
        ("safe_place", "Safe place"),
        ("target_memory", "Phase 1: reliving"),
        ("need", "Phase 2: rescripting"),
        ("new_meanings", "Phase 3: re-experiencing"),
        ("grounding_deroling", "Closing"),
    ),
}


def part_names(script: Script) -> dict[str, str]:
    """Step id -> part name for every step of ``script`` (safety steps: ``phase_of``)."""
    starts = dict(PART_STARTS.get(script.name, ()))
    current = script.title or script.name
    names: dict[str, str] = {}
    ended = False
    for step in script.steps:
        current = starts.get(step.id, current)
        names[step.id] = GROUNDING if ended and is_grounding(step.id) else current
        ended = ended or isinstance(step, End)  # detours listed after the end
    return names


def phase_of(names: dict[str, str], step: str | None) -> str:
    """The part ``step`` belongs to; the engine's safety steps are ``GROUNDING``."""
    if step is None:
        return ""
    return names.get(step) or (GROUNDING if is_detour(step) else "")
