"""The user's profile: who they are to the scripts, how sessions sound, and safety limits. Pure.

A frozen dataclass plus the rules for every key (type and valid values), so that the
store (``voice_imrs.profile_store``), ``voice-imrs profile set`` and the setup
conversation check values the same way. Reading and writing files lives in the store.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass, fields, replace
from typing import Any

from voice_imrs.core.intents import DEFAULT_STOP_WORDS
from voice_imrs.errors import ProfileError

DEFAULT_CRISIS_RESOURCES = (
    "If you are in danger or thinking of harming yourself, contact your local emergency "
    "services now, or a crisis line in your country, and tell your therapist."
)

CHOICES: dict[str, tuple[str, ...]] = {
    "perspective": ("first", "third"),
    "eyes": ("closed", "open"),
    "barge_in": ("hotword", "speech"),
    "mode": ("homework", "therapist"),
}
#: (low, high) for numbers.
RANGES: dict[str, tuple[float, float]] = {
    "rate_wpm": (90, 220),
    "volume": (0.1, 1.0),
    "high": (1, 10),
    "medium": (1, 10),
    "resume_at": (0, 9),
    "rise": (1, 10),
    "silence_s": (2, 120),
    "pace": (0.5, 2.0),
    "screen_interval_days": (1, 365),
}
TEXT_LISTS = ("helpers", "stop_words")
INTEGERS = ("rate_wpm", "high", "medium", "resume_at", "rise", "screen_interval_days")
FLOATS = ("volume", "silence_s", "pace")
BOOLEANS = ("store_audio", "store_transcripts", "screen_done", "spoken_summary")
# Keys that may be empty text (voice "": the synthesizer's default; name "": not used).
MAY_BE_EMPTY = ("name", "voice", "recorded_voice", "background", "crisis_number",
                "screened_on")


@dataclass(frozen=True)
class Profile:
    """One user's settings.

    name: how the scripts may address the user ("" when not given).
    helpers: the helper figures the user chose, in their own words ("my adult self").
    safe_place: a short description of the user's safe place, spoken in scripts.
    cue_word: the word tied to the safe place.
    anchor_phrase: the phrase to remember this week ("I deserved care").
    stop_words: phrases that stop a session at once.
    language: the language of prompts and recognition ("en").
    voice / rate_wpm / volume: how prompts are spoken ("" is the default voice).
    perspective: "first" (through one's own eyes) or "third" (from a little distance).
    eyes: "closed" or "open" wording.
    high: a distress rating at or above this goes to grounding.
    medium: ratings from here to ``high - 1`` slow down and offer distance or stopping.
    resume_at: after grounding, the imagery resumes only at or below this rating.
    rise: a rise of this much between two ratings also slows down.
    silence_s: seconds of silence after a question before it is asked again.
    barge_in: "hotword" (only stop words interrupt) or "speech" (any speech pauses).
    crisis_resources: what to say when someone may be in danger.
    crisis_number: a local crisis line or emergency number, collected at setup; spoken with
      the crisis resources ("" when not given).
    mode: "homework", or "therapist" when a therapist enabled the full session.
    store_audio / store_transcripts: whether session records keep the microphone audio
      (data folder, audio/session-N.wav) or the recognized words.
    screen_done: the first-session safety screen has been completed.
    screened_on: the date (YYYY-MM-DD) the full safety screen was last completed.
    screen_interval_days: the full screen runs again after this many days (and before
      every full rescripting session); other sessions start with a short check.
    pace: pauses in the exercises are this many times as long (0.5 to 2; 1 as written).
    spoken_summary: say how the session went at its end (ratings, practice this week).
    recorded_voice: a therapist's recorded prompts to use instead of the synthetic voice
      ("" for none; see ``voice-imrs record-prompts``).
    background: a texture under the voice in sessions ("rain", "pink_noise",
      "brown_noise"; "" for none).
    """

    name: str = ""
    helpers: tuple[str, ...] = ("my adult self", "a protector")
    safe_place: str = "a place where you feel calm and safe"
    cue_word: str = "calm"
    anchor_phrase: str = "I deserved care."
    stop_words: tuple[str, ...] = DEFAULT_STOP_WORDS
    language: str = "en"
    voice: str = ""
    rate_wpm: int = 125
    volume: float = 0.8
    perspective: str = "first"
    eyes: str = "closed"
    high: int = 8
    medium: int = 5
    resume_at: int = 4
    rise: int = 3
    silence_s: float = 8.0
    barge_in: str = "hotword"
    crisis_resources: str = DEFAULT_CRISIS_RESOURCES
    crisis_number: str = ""
    mode: str = "homework"
    store_audio: bool = False
    store_transcripts: bool = False
    screen_done: bool = False
    screened_on: str = ""
    screen_interval_days: int = 30
    pace: float = 1.0
    spoken_summary: bool = True
    recorded_voice: str = ""
    background: str = ""

    def variables(self) -> dict[str, str]:
        """Placeholder values the scripts can use (see docs/SCRIPT_FORMAT.md)."""
        spoken = [spoken_helper(h) for h in self.helpers] or ["your adult self"]
        return {
            "name": self.name,
            "helper": spoken[0],
            "helpers": " and ".join(spoken),
            "safe_place": self.safe_place,
            "cue_word": self.cue_word,
            "anchor_phrase": self.anchor_phrase,
            "stop_word": self.stop_words[0] if self.stop_words else "stop",
            "crisis_resources": self.crisis_text(),
            # The client's own helper figures, one a line: offered at a helper choice.
            "own_helpers": "\n".join(self.helpers),
        }

    def crisis_text(self) -> str:
        """The crisis resources, with the local number collected at setup when there is one."""
        number = self.crisis_number.strip()
        if not number or number in self.crisis_resources:
            return self.crisis_resources
        return f"{self.crisis_resources} Your local crisis number is {number}."


def spoken_helper(helper: str) -> str:
    """A helper in the user's words, as the voice says it to them: "my X" -> "your X"."""
    words = helper.strip().split()
    swap = {"my": "your", "me": "you", "myself": "yourself", "i": "you"}
    return " ".join(swap.get(w.lower(), w) for w in words)


#: The names ``Profile.variables()`` defines (whatever the values).
PROFILE_VARIABLES: frozenset[str] = frozenset(Profile().variables())
KEYS: tuple[str, ...] = tuple(f.name for f in fields(Profile))


def describe_valid(key: str) -> str:
    """The valid values of ``key`` in words, for error messages."""
    if key in CHOICES:
        return "one of " + ", ".join(CHOICES[key])
    if key in RANGES:
        low, high = RANGES[key]
        kind = "a whole number" if key in INTEGERS else "a number"
        return f"{kind} from {low:g} to {high:g}"
    if key in BOOLEANS:
        return "true or false"
    if key in TEXT_LISTS:
        return "a list of one or more phrases"
    if key in MAY_BE_EMPTY:
        return "text (may be empty)"
    return "non-empty text"


def _bad(key: str, value: object, source: str) -> ProfileError:
    where = f"{source}: " if source else ""
    return ProfileError(f"{where}the value {value!r} for {key!r} is not valid.",
                        hint=f"Use {describe_valid(key)}.")


def _check_value(key: str, value: Any, source: str) -> Any:
    """``value`` converted to the field's type, or ProfileError."""
    if key in TEXT_LISTS:
        if (not isinstance(value, (list, tuple)) or not value
                or not all(isinstance(v, str) and v.strip() for v in value)):
            raise _bad(key, value, source)
        return tuple(v.strip() for v in value)
    if key in BOOLEANS:
        if not isinstance(value, bool):
            raise _bad(key, value, source)
        return value
    if key in RANGES:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise _bad(key, value, source)
        if key in INTEGERS and value != int(value):
            raise _bad(key, value, source)
        low, high = RANGES[key]
        if not low <= value <= high:
            raise _bad(key, value, source)
        return int(value) if key in INTEGERS else float(value)
    if not isinstance(value, str):
        raise _bad(key, value, source)
    value = value.strip()
    if key in CHOICES and value not in CHOICES[key]:
        raise _bad(key, value, source)
    if not value and key not in MAY_BE_EMPTY:
        raise _bad(key, value, source)
    return value


def _check_thresholds(profile: Profile, source: str) -> None:
    where = f"{source}: " if source else ""
    if not profile.resume_at < profile.medium <= profile.high:
        raise ProfileError(
            f"{where}the thresholds resume_at={profile.resume_at}, medium={profile.medium}, "
            f"high={profile.high} are out of order.",
            hint="Keep resume_at below medium, and medium at or below high "
                 "(the defaults are 4, 5 and 8).")


def profile_from_mapping(data: Mapping[str, Any], source: str = "") -> Profile:
    """A Profile from a TOML-like mapping; missing keys keep their defaults.

    An unknown key or an invalid value raises ProfileError naming ``source``, the key and
    the valid values.
    """
    values: dict[str, Any] = {}
    for key, value in data.items():
        if key not in KEYS:
            where = f"{source}: " if source else ""
            raise ProfileError(f"{where}unknown profile key {key!r}.",
                               hint=f"Valid keys: {', '.join(KEYS)}.")
        values[key] = _check_value(key, value, source)
    profile = replace(Profile(), **values)
    _check_thresholds(profile, source)
    return profile


def profile_to_mapping(profile: Profile) -> dict[str, Any]:
    """Plain TOML-ready values (tuples become lists)."""
    return {key: list(value) if isinstance(value, tuple) else value
            for key, value in asdict(profile).items()}


_TRUE = ("true", "yes", "on", "1")
_FALSE = ("false", "no", "off", "0")


def parse_value(key: str, text: str, source: str = "") -> Any:
    """A value typed on the command line or in setup, converted for ``key`` (not yet checked).

    Lists are comma-separated ("stop, i need a break").
    """
    if key not in KEYS:
        raise ProfileError(f"unknown profile key {key!r}.", hint=f"Valid keys: {', '.join(KEYS)}.")
    said = text.strip()
    if key in TEXT_LISTS:
        return [part.strip() for part in said.split(",") if part.strip()]
    if key in BOOLEANS:
        if said.lower() in _TRUE:
            return True
        if said.lower() in _FALSE:
            return False
        raise _bad(key, text, source)
    if key in RANGES:
        try:
            number = float(said)
        except ValueError:
            raise _bad(key, text, source) from None
        return int(number) if key in INTEGERS and number == int(number) else number
    return said


def with_value(profile: Profile, key: str, text: str, source: str = "") -> Profile:
    """``profile`` with ``key`` set from typed ``text``, fully validated."""
    value = parse_value(key, text, source)
    data = profile_to_mapping(profile)
    data[key] = value
    return profile_from_mapping(data, source)
