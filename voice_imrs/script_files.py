"""Script files: TOML to the script model, with a schema check that reports every problem.

The format is described for authors in docs/SCRIPT_FORMAT.md. Loading parses the TOML,
checks each ``[[step]]`` table against its kind's fields (unknown kind, unknown field,
missing field, wrong type), builds ``voice_imrs.core.script`` objects, then runs the
consistency checks of ``voice_imrs.core.script_checks``. Every message names the file,
the line of the step (found in the source text) and its id.

The built-in library lives in ``voice_imrs/library/*.toml`` and is read through
importlib.resources, so it works from a wheel or a zip too.
"""

from __future__ import annotations

import math
import os
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any

import tomllib  # Python 3.11+ (pyproject's requires-python)

from voice_imrs.core.script import (
    AskChoice,
    AskRating,
    AskYesNo,
    ChoiceOption,
    End,
    Jump,
    Pause,
    RatingBranch,
    RepeatUntil,
    Say,
    Script,
    SetVar,
    Step,
    Timed,
)
from voice_imrs.core.script_checks import check_script
from voice_imrs.errors import FileLimitError, ScriptError, UnknownChoiceError
from voice_imrs.file_limits import SCRIPT_LIMIT, read_text_limited

LIBRARY_PACKAGE = "voice_imrs"
LIBRARY_FOLDER = "library"
MAX_MINUTES = 600


class ScriptProblems(ScriptError):
    """A script with one or more problems; ``problems`` holds them all, first one shown."""

    def __init__(self, problems: list[ScriptError]) -> None:
        self.problems = problems
        first = problems[0]
        more = len(problems) - 1
        hint = first.hint
        if more:
            hint = (f"{hint} ({more} more problem{'s' if more > 1 else ''}: run "
                    f"`voice-imrs validate {first.file}` to see them all.)").strip()
        super().__init__(first.detail, file=first.file, line=first.line, step=first.step,
                         hint=hint)


# ---------------------------------------------------------------- the schema

_ID = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_\-]*$")
_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


@dataclass(frozen=True)
class Field:
    """One field of a step kind: its type name and whether it must be present."""

    type: str  # text, id, number, int, scale, branches, options
    required: bool = False


_NEXT = {"next": Field("id")}
KINDS: dict[str, dict[str, Field]] = {
    "say": {"text": Field("text", True), "pause_after_s": Field("number"),
            "bell": Field("text"), "until_ready_s": Field("number"), **_NEXT},
    "pause": {"seconds": Field("number", True), "bell": Field("text"), **_NEXT},
    "rating": {"text": Field("text", True), "branches": Field("branches"),
               "var": Field("name"), "scale": Field("scale"), **_NEXT},
    "yesno": {"text": Field("text", True), "yes": Field("id"), "no": Field("id"),
              "var": Field("name")},
    "choice": {"text": Field("text", True), "options": Field("options", True),
               "var": Field("name"), **_NEXT},
    "breathing": {"duration_s": Field("number", True), "inhale_s": Field("number"),
                  "hold_s": Field("number"), "exhale_s": Field("number"),
                  "inhale_cue": Field("text"), "exhale_cue": Field("text"), **_NEXT},
    "timer": {"duration_s": Field("number", True), "interval_s": Field("number"),
              "bell": Field("text"), **_NEXT},
    "repeat": {"start": Field("id", True), "until": Field("name"),
               "max_rounds": Field("int"), **_NEXT},
    "jump": {"goto": Field("id", True)},
    "set": {"name": Field("name", True), "value": Field("text", True), **_NEXT},
    "end": {"text": Field("text")},
}
TOP_LEVEL: dict[str, Field] = {
    "name": Field("id", True), "title": Field("text", True), "mode": Field("mode"),
    "minutes": Field("number"), "description": Field("text"), "variables": Field("variables"),
    "step": Field("steps", True),
}
_TYPE_WORDS = {
    "text": "text in quotes", "id": "a step id in quotes (letters, digits, _ or -)",
    "name": "a variable name in quotes (letters, digits and _)",
    "number": "a number of 0 or more", "int": "a whole number",
    "scale": '"distress" or "belief"', "mode": '"homework" or "therapist"',
}


class _Source:
    """Where things are in the file's text: the line of each [[step]] and of its fields."""

    _STEP = re.compile(r"^\s*\[\[\s*step\s*\]\]")
    _HEADER = re.compile(r"^\s*\[")

    def __init__(self, text: str, step_count: int) -> None:
        self.lines = text.splitlines()
        starts = [i for i, line in enumerate(self.lines) if self._STEP.match(line)]
        self.starts: list[int] | None = starts if len(starts) == step_count else None

    def step_line(self, index: int) -> int | None:
        return self.starts[index] + 1 if self.starts is not None else None

    def field_line(self, index: int, key: str) -> int | None:
        if self.starts is None:
            return None
        pattern = re.compile(rf'^\s*"?{re.escape(key)}"?\s*=')
        for number in range(self.starts[index] + 1, len(self.lines)):
            line = self.lines[number]
            if self._HEADER.match(line):
                break
            if pattern.match(line):
                return number + 1
        return self.step_line(index)

    def top_line(self, key: str) -> int | None:
        pattern = re.compile(rf'^\s*"?{re.escape(key)}"?\s*=')
        for number, line in enumerate(self.lines):
            if self._HEADER.match(line):
                break
            if pattern.match(line):
                return number + 1
        return None


def _is_number(value: object) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _type_ok(kind: str, value: Any) -> bool:
    if kind == "text":
        return isinstance(value, str)
    if kind == "id":
        return isinstance(value, str) and bool(_ID.match(value))
    if kind == "name":
        return isinstance(value, str) and bool(_NAME.match(value))
    if kind == "number":  # TOML has inf and nan; neither is a number of seconds
        return _is_number(value) and math.isfinite(value) and value >= 0
    if kind == "int":
        return isinstance(value, int) and not isinstance(value, bool)
    if kind == "scale":
        return value in ("distress", "belief")
    if kind == "mode":
        return value in ("homework", "therapist")
    return True


class _StepReader:
    """Checks one file's tables and builds its steps, collecting every problem."""

    def __init__(self, file: str, source: _Source) -> None:
        self.file = file
        self.source = source
        self.problems: list[ScriptError] = []

    def add(self, message: str, *, line: int | None, step: str | None = None,
            hint: str = "") -> None:
        self.problems.append(ScriptError(message, file=self.file, line=line, step=step,
                                         hint=hint))

    def branches(self, value: Any, where: Callable[[str], int | None],
                 step_id: str) -> tuple[RatingBranch, ...] | None:
        line = where("branches")
        if not isinstance(value, list):
            self.add("branches must be a list of { low = .., high = .., goto = \"..\" }.",
                     line=line, step=step_id)
            return None
        built: list[RatingBranch] = []
        for entry in value:
            if (not isinstance(entry, Mapping) or set(entry) - {"low", "high", "goto"}
                    or not {"low", "high"} <= set(entry)
                    or not all(isinstance(entry[k], int) and not isinstance(entry[k], bool)
                               for k in ("low", "high"))
                    or ("goto" in entry and not _type_ok("id", entry["goto"]))):
                self.add(f"the branch {entry!r} is not valid.", line=line, step=step_id,
                         hint='Write { low = 0, high = 7 } or '
                              '{ low = 8, high = 10, goto = "grounding_..." }.')
                return None
            built.append(RatingBranch(entry["low"], entry["high"], entry.get("goto")))
        return tuple(built)

    def options(self, value: Any, where: Callable[[str], int | None],
                step_id: str) -> tuple[ChoiceOption, ...] | None:
        line = where("options")
        hint = ('Write { value = "..", phrases = ["..", ".."] } with an optional '
                'goto = "step_id".')
        if not isinstance(value, list) or not value:
            self.add("options must be a non-empty list of choices.", line=line,
                     step=step_id, hint=hint)
            return None
        built: list[ChoiceOption] = []
        for entry in value:
            phrases = entry.get("phrases") if isinstance(entry, Mapping) else None
            if (not isinstance(entry, Mapping) or set(entry) - {"value", "phrases", "goto"}
                    or not isinstance(entry.get("value"), str) or not entry["value"].strip()
                    or not isinstance(phrases, list) or not phrases
                    or not all(isinstance(p, str) and p.strip() for p in phrases)
                    or ("goto" in entry and not _type_ok("id", entry["goto"]))):
                self.add(f"the option {entry!r} is not valid.", line=line, step=step_id,
                         hint=hint)
                return None
            built.append(ChoiceOption(entry["value"], tuple(phrases), entry.get("goto")))
        return tuple(built)

    def step(self, index: int, table: Any) -> tuple[Step | None, str | None]:
        """The step built from ``table`` (None when it has problems) and its id."""
        line = self.source.step_line(index)
        if not isinstance(table, Mapping):
            self.add("each step must be a [[step]] table.", line=line)
            return None, None
        step_id = table.get("id")
        if not isinstance(step_id, str) or not _ID.match(step_id):
            self.add("the step has no valid id.", line=line,
                     hint='Add id = "a_name" (letters, digits, _ or -).')
            step_id = None
        kind = table.get("kind")
        if kind not in KINDS:
            self.add(f"unknown step kind {kind!r}." if kind is not None
                     else "the step has no kind.", line=line, step=step_id,
                     hint=f"Use one of: {', '.join(KINDS)}.")
            return None, step_id

        def where(key: str) -> int | None:
            return self.source.field_line(index, key)

        schema = KINDS[kind]
        ok = step_id is not None
        values: dict[str, Any] = {}
        for key, value in table.items():
            if key in ("id", "kind"):
                continue
            if key not in schema:
                self.add(f"a {kind} step has no field {key!r}.", line=where(key),
                         step=step_id, hint=f"Its fields are: {', '.join(schema)}.")
                ok = False
                continue
            expected = schema[key].type
            built: Any
            if expected == "branches":
                built = self.branches(value, where, step_id or "?")
            elif expected == "options":
                built = self.options(value, where, step_id or "?")
            else:
                built = value if _type_ok(expected, value) else None
                if built is None:
                    self.add(f"{key} must be {_TYPE_WORDS[expected]}, not {value!r}.",
                             line=where(key), step=step_id)
            if built is None:
                ok = False
            values[key] = built
        for key, spec in schema.items():
            if spec.required and key not in table:
                self.add(f"a {kind} step needs the field {key!r}.", line=line, step=step_id,
                         hint=f"Add {key} = ... to this step.")
                ok = False
        if not ok or step_id is None:
            return None, step_id
        return _build(kind, step_id, values), step_id


def _build(kind: str, step_id: str, values: dict[str, Any]) -> Step:
    """The model object for a checked step (field names match the dataclasses)."""
    if kind == "say":
        return Say(step_id, **values)
    if kind == "pause":
        return Pause(step_id, **values)
    if kind == "rating":
        return AskRating(step_id, **values)
    if kind == "yesno":
        return AskYesNo(step_id, **values)
    if kind == "choice":
        return AskChoice(step_id, **values)
    if kind in ("breathing", "timer"):
        return Timed(step_id, kind, **values)  # type: ignore[arg-type]
    if kind == "repeat":
        return RepeatUntil(step_id, **values)
    if kind == "jump":
        return Jump(step_id, **values)
    if kind == "set":
        return SetVar(step_id, **values)
    return End(step_id, **values)


# ---------------------------------------------------------------- parsing a file


def _toml_error(file: str, error: tomllib.TOMLDecodeError) -> ScriptError:
    found = re.search(r"\(at line (\d+), column (\d+)\)", str(error))
    line = int(found.group(1)) if found else None
    reason = re.sub(r"\s*\(at line \d+, column \d+\)", "", str(error))
    column = f" column {found.group(2)}" if found else ""
    return ScriptError(f"this is not valid TOML ({reason} at{column}).", file=file, line=line,
                       hint="Fix the syntax there (quotes, brackets, = signs).")


def parse_script(text: str, file: str, *, high: int = 8,
                 known_variables: Iterable[str] | None = None) -> tuple[Script | None,
                                                                         list[ScriptError]]:
    """The script in TOML ``text`` and every problem found (the script is None if any)."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        return None, [_toml_error(file, error)]
    raw_steps = data.get("step")
    source = _Source(text, len(raw_steps) if isinstance(raw_steps, list) else 0)
    reader = _StepReader(file, source)

    for key, value in data.items():
        spec = TOP_LEVEL.get(key)
        line = source.top_line(key)
        if spec is None:
            reader.add(f"unknown top-level key {key!r}.", line=line,
                       hint=f"Valid keys: {', '.join(TOP_LEVEL)}.")
        elif spec.type == "variables":
            if not isinstance(value, Mapping) or not all(
                    _NAME.match(k) and isinstance(v, str) for k, v in value.items()):
                reader.add("[variables] must hold name = \"text\" lines.", line=line)
        elif spec.type != "steps" and not _type_ok(spec.type, value):
            reader.add(f"{key} must be {_TYPE_WORDS[spec.type]}, not {value!r}.", line=line)
        elif key == "minutes" and value > MAX_MINUTES:
            reader.add(f"minutes must be at most {MAX_MINUTES}, not {value!r}.", line=line)
    for key, spec in TOP_LEVEL.items():
        if spec.required and key not in data:
            reader.add(f"the script needs {'[[step]] tables' if key == 'step' else key}.",
                       line=None, hint=f"Add {key} = ... at the top of the file."
                       if key != "step" else "Add at least one [[step]] table.")
    if raw_steps is not None and not isinstance(raw_steps, list):
        reader.add("step must be a list of [[step]] tables.", line=source.top_line("step"))
        raw_steps = []

    steps: list[Step] = []
    lines: list[int | None] = []
    unbuilt: list[str] = []
    for index, table in enumerate(raw_steps or []):
        step, step_id = reader.step(index, table)
        if step is not None:
            steps.append(step)
            lines.append(source.step_line(index))
        elif step_id is not None:
            unbuilt.append(step_id)

    problems = list(reader.problems)
    variables = data.get("variables")
    script = Script(
        name=_text_or_empty(data.get("name")),
        title=_text_or_empty(data.get("title")),
        steps=tuple(steps),
        mode=data.get("mode", "homework") if data.get("mode") in ("homework", "therapist")
        else "homework",
        minutes=float(data["minutes"]) if _is_number(data.get("minutes")) else 0.0,
        description=_text_or_empty(data.get("description")),
        variables=dict(variables) if isinstance(variables, Mapping) else {},
        source=file,
    )
    if steps or not problems:
        kwargs = {} if known_variables is None else {"known_variables": known_variables}
        problems += check_script(script, lines, high=high, complete=not problems,
                                 other_ids=unbuilt, sounds=shipped_sounds(), **kwargs)
    return (None if problems else script), problems


def _text_or_empty(value: object) -> str:
    return value if isinstance(value, str) else ""


def shipped_sounds() -> frozenset[str]:
    """The names of the sound assets the package ships (a bell may name any of them)."""
    folder = resources.files(LIBRARY_PACKAGE) / "data" / "assets"
    return frozenset(entry.name[:-4] for entry in folder.iterdir()
                     if entry.name.endswith(".wav"))


def _read(path: Path) -> str:
    try:
        return read_text_limited(path, "script", SCRIPT_LIMIT)
    except FileNotFoundError:
        raise ScriptError("there is no such file.", file=str(path),
                          hint="Check the path, or run `voice-imrs list` for the "
                               "built-in scripts.") from None
    except FileLimitError as error:
        raise ScriptError(error.message.split(": ", 1)[-1], file=str(path),
                          hint=error.hint) from None
    except (OSError, UnicodeDecodeError) as error:
        raise ScriptError(f"the file cannot be read ({error}).", file=str(path)) from None


def load_script(path: str | os.PathLike[str]) -> Script:
    """The script in a TOML file; ScriptProblems (a ScriptError) listing every problem."""
    file = Path(path)
    script, problems = parse_script(_read(file), str(file))
    if problems or script is None:
        raise ScriptProblems(problems)
    return script


def validate_files(paths: Iterable[str | os.PathLike[str]]) -> list[ScriptError]:
    """Every problem of every file (an unreadable file counts as one problem)."""
    problems: list[ScriptError] = []
    for path in paths:
        try:
            _, found = parse_script(_read(Path(path)), str(path))
        except ScriptError as error:
            found = [error]
        problems.extend(found)
    return problems


# ---------------------------------------------------------------- the built-in library


@lru_cache(maxsize=1)
def _library() -> dict[str, Script]:
    folder = resources.files(LIBRARY_PACKAGE) / LIBRARY_FOLDER
    found: dict[str, Script] = {}
    for entry in sorted(folder.iterdir(), key=lambda e: e.name):
        if not entry.name.endswith(".toml"):
            continue
        label = f"{LIBRARY_FOLDER}/{entry.name}"
        script, problems = parse_script(entry.read_text(encoding="utf-8"), label)
        if problems or script is None:
            raise ScriptProblems(problems)
        found[script.name] = script
    return found


def builtin_scripts() -> dict[str, Script]:
    """The built-in library by name, in name order (loaded and validated once)."""
    return dict(_library())


def builtin_files() -> list[str]:
    """The built-in script files, as ``library/NAME.toml`` labels."""
    folder = resources.files(LIBRARY_PACKAGE) / LIBRARY_FOLDER
    return sorted(f"{LIBRARY_FOLDER}/{e.name}" for e in folder.iterdir()
                  if e.name.endswith(".toml"))


def builtin_text(label: str) -> str:
    """The source text of a built-in file named by ``builtin_files()``."""
    name = label.split("/", 1)[-1]
    return (resources.files(LIBRARY_PACKAGE) / LIBRARY_FOLDER / name).read_text(
        encoding="utf-8")


def find_script(name_or_path: str | os.PathLike[str]) -> Script:
    """A built-in script by name, or a script file by path.

    Something that looks like a path (ends in .toml, holds a folder separator, or names an
    existing file) is loaded from disk; an unknown name raises UnknownChoiceError listing
    the built-in names.
    """
    given = os.fspath(name_or_path)
    library = _library()
    if given in library:
        return library[given]
    looks_like_path = (given.endswith(".toml") or os.sep in given or "/" in given
                       or Path(given).is_file())
    if looks_like_path:
        return load_script(given)
    raise UnknownChoiceError("script", given, library)
