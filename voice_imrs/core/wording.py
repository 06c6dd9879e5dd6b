"""Script text to spoken words: placeholders plus perspective and eyes alternatives. Pure.

The inline syntax (documented for script authors in docs/SCRIPT_FORMAT.md):

- ``{name}``: the value of a variable (profile values such as ``{safe_place}``, the
  script's ``[variables]``, answers stored by a question's ``var``). ``{{`` and ``}}``
  stand for literal braces.
- ``[first: see it through your own eyes | third: watch your younger self from a little
  distance]``: the part for the session's perspective. Either side may be left out
  (``[third: from a little distance]`` says nothing in the first person).
- ``[closed: let your eyes close | open: let your gaze rest on the floor]``: the same for
  eyes closed or open.
- ``[live: say stop at any moment | track: pause the recording at any moment]``: the part
  for a live session (something listens) or a rendered track (nothing listens), so a
  track never promises to hear the client.

Square brackets that do not start with one of the six keys and a colon are ordinary text.
Alternatives do not nest; they may hold placeholders.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from voice_imrs.errors import ScriptError

#: Alternative groups: the setting each one follows, and its valid keys.
ALTERNATIVE_GROUPS: dict[str, tuple[str, ...]] = {
    "perspective": ("first", "third"),
    "eyes": ("closed", "open"),
    "delivery": ("live", "track"),
}
_KEY_GROUP = {key: group for group, keys in ALTERNATIVE_GROUPS.items() for key in keys}

_PLACEHOLDER = re.compile(r"\{([A-Za-z_][A-Za-z0-9_]*)\}")
# An alternative block: "[" + a known key + ":" ... up to the closing "]".
_KEYS = "first|third|closed|open|live|track"
_BLOCK_START = re.compile(rf"\[\s*({_KEYS})\s*:", re.IGNORECASE)
_BLOCK = re.compile(rf"\[\s*(?:{_KEYS})\s*:[^\[\]]*\]", re.IGNORECASE)
_BRACES = re.compile(r"\{\{|\}\}|\{[A-Za-z_][A-Za-z0-9_]*\}|[{}]")


def _strip_escapes(text: str) -> str:
    return text.replace("{{", "").replace("}}", "")


def placeholders(text: str) -> set[str]:
    """The placeholder names used in ``text`` (inside alternatives too)."""
    return set(_PLACEHOLDER.findall(_strip_escapes(text)))


def _parse_block(block: str) -> dict[str, str]:
    """``[first: a | third: b]`` -> {"first": "a", "third": "b"}; ValueError when malformed."""
    inner = block[1:-1]
    parts: dict[str, str] = {}
    group: str | None = None
    for piece in inner.split("|"):
        key, colon, words = piece.partition(":")
        key = key.strip().lower()
        if not colon or key not in _KEY_GROUP:
            raise ValueError(f"the part {piece.strip()!r} does not start with one of "
                             f"{', '.join(_KEY_GROUP)} and a colon")
        if group is not None and _KEY_GROUP[key] != group:
            raise ValueError(f"{block!r} mixes {group} and {_KEY_GROUP[key]} keys; "
                             "write separate [...] blocks")
        if key in parts:
            raise ValueError(f"{block!r} names {key!r} twice")
        group = _KEY_GROUP[key]
        parts[key] = words.strip()
    return parts


def wording_problems(text: str) -> list[str]:
    """Syntax problems in ``text``, each one sentence (empty when the text is fine)."""
    problems: list[str] = []
    for match in _BLOCK.finditer(text):
        try:
            _parse_block(match.group(0))
        except ValueError as error:
            problems.append(f"The alternative {match.group(0)!r} is malformed: {error}.")
    without_blocks = _BLOCK.sub("", text)
    leftover = _BLOCK_START.search(without_blocks)
    if leftover:
        problems.append(f"The alternative starting {leftover.group(0)!r} has no closing ']' "
                        "or holds another '['; alternatives do not nest.")
    for token in _BRACES.findall(text):
        if token in ("{", "}"):
            problems.append("A lone brace '{' or '}': write {name} for a placeholder, "
                            "or {{ and }} for a literal brace.")
            break
    return problems


def _choose(match: re.Match[str], chosen: Mapping[str, str]) -> str:
    try:
        parts = _parse_block(match.group(0))
    except ValueError as error:
        raise ScriptError(f"the text holds a malformed alternative: {error}.",
                          hint="See docs/SCRIPT_FORMAT.md for the [first: ... | third: ...] "
                               "syntax.") from None
    return parts.get(chosen[_KEY_GROUP[next(iter(parts))]], "")


def render_text(text: str, variables: Mapping[str, str], perspective: str = "first",
                eyes: str = "closed", delivery: str | None = None) -> str:
    """The words to speak for ``text``: alternatives chosen, placeholders filled.

    ``delivery`` is "live" or "track"; None reads the variable ``delivery`` (default live),
    so a renderer marks a track by its variables alone. An unknown ``perspective``,
    ``eyes`` or ``delivery`` value, or a placeholder with no value, raises ScriptError
    naming it.
    """
    delivery = delivery or variables.get("delivery", "live")
    if delivery not in ALTERNATIVE_GROUPS["delivery"]:
        raise ScriptError(f"unknown delivery {delivery!r}.", hint="Use live or track.")
    if perspective not in ALTERNATIVE_GROUPS["perspective"]:
        raise ScriptError(f"unknown perspective {perspective!r}.",
                          hint="Use first or third.")
    if eyes not in ALTERNATIVE_GROUPS["eyes"]:
        raise ScriptError(f"unknown eyes setting {eyes!r}.", hint="Use closed or open.")
    settings = {"perspective": perspective, "eyes": eyes, "delivery": delivery}
    chosen = _BLOCK.sub(lambda m: _choose(m, settings), text)

    def fill(match: re.Match[str]) -> str:
        token = match.group(0)
        if token == "{{":
            return "{"
        if token == "}}":
            return "}"
        if token in ("{", "}"):
            raise ScriptError("the text holds a lone brace.",
                              hint="Write {name} for a placeholder, or {{ and }} for a brace.")
        name = token[1:-1]
        if name not in variables:
            raise ScriptError(f"the placeholder {{{name}}} has no value.",
                              hint="Define it in the script's [variables] or the profile.")
        return str(variables[name])

    filled = _BRACES.sub(fill, chosen)
    # A left-out alternative leaves doubled spaces or a space before punctuation behind.
    filled = re.sub(r"[ \t]{2,}", " ", filled)
    filled = re.sub(r" +([.,;:!?])", r"\1", filled)
    # A value that ends a sentence itself ("I deserved care.") before the text's own full
    # stop: one full stop, not "care.." (an ellipsis of three is kept).
    filled = re.sub(r"(?<!\.)\.\.(?!\.)", ".", filled)
    filled = re.sub(r"([!?])\.", r"\1", filled)
    return filled.strip()
