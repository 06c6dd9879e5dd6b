"""A therapist's own voice: recorded takes of a script's prompts, used instead of TTS.

Takes live in ``ROOT/NAME/``: one WAV per step plus ``index.json``. A take is keyed by the
step id and a short hash of the prompt text as written in the script, so an edited prompt
no longer matches its old take and falls back to the synthetic voice until it is recorded
again. Prompts with placeholders (``{safe_place}``) differ per client and are always
spoken by the synthetic voice.

ROOT is, in order: the ``root`` argument, ``$VOICE_IMRS_VOICES_DIR``, ``audio_assets/voices``
when running from a source checkout, else ``voices/`` in the user's data folder.

The client's own affirming message is a take too: step ``message`` of the library named
``own`` under the user's data folder (see ``client_message_library``).
"""

from __future__ import annotations

import hashlib
import json
import os
import re
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

from voice_imrs.audio.wav import read_wav, resample, write_wav
from voice_imrs.core.script import AskChoice, AskRating, AskYesNo, End, Say, Script
from voice_imrs.core.wording import placeholders
from voice_imrs.errors import VoiceImrsError
from voice_imrs.ports import PCM
from voice_imrs.private_files import private_dir, reserve_private

VOICES_DIR_ENV = "VOICE_IMRS_VOICES_DIR"
INDEX = "index.json"
#: The client's message: library name and step id.
MESSAGE_LIBRARY = "own"
MESSAGE_STEP = "message"
MESSAGE_TEXT = "the client's own affirming message"
#: A script step with this id plays the client's message, after a short lead-in.
OWN_MESSAGE_STEP = "own_message"
OWN_MESSAGE_LEAD_IN = "Let them hear your anchor phrase, in your own voice."
#: Silence between the lead-in and the message.
OWN_MESSAGE_GAP_S = 0.4
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")
#: A perspective or eyes alternative (``[first: ... | third: ...]``, see core.wording).
_ALTERNATIVE = re.compile(r"\[\s*(first|third|closed|open)\s*:", re.IGNORECASE)


def default_voices_root() -> Path:
    """Where recorded voices live when no folder is given (see the module docstring)."""
    override = os.environ.get(VOICES_DIR_ENV)
    if override:
        return Path(override).expanduser()
    checkout = Path(__file__).resolve().parents[2] / "audio_assets"
    if (checkout / "README.md").is_file():
        return checkout / "voices"
    from voice_imrs.records.store import data_dir

    return data_dir() / "voices"


def text_hash(text: str) -> str:
    """A short hash of a prompt's text, blind to spacing changes."""
    normal = " ".join(text.split())
    return hashlib.sha256(normal.encode("utf-8")).hexdigest()[:10]


def has_placeholders(text: str) -> bool:
    """Whether the text changes per client or per session (placeholders, alternatives)."""
    return bool(placeholders(text)) or bool(_ALTERNATIVE.search(text))


def prompts(script: Script) -> list[tuple[str, str]]:
    """(step id, text) of every spoken prompt of a script, in file order."""
    found = []
    for step in script.steps:
        if isinstance(step, Say | AskRating | AskYesNo | AskChoice | End) and step.text.strip():
            found.append((step.id, step.text))
    return found


def recordable(script: Script) -> list[tuple[str, str]]:
    """The prompts a recorded take can replace (those without placeholders)."""
    return [(step_id, text) for step_id, text in prompts(script) if not has_placeholders(text)]


@dataclass(frozen=True)
class TakeInfo:
    """One stored take: its file, the hash of the text it was recorded for, its length."""

    step_id: str
    hash: str
    file: str
    text: str
    seconds: float
    rate: int
    recorded: str


class TakeLibrary:
    """The recorded takes of one voice (a therapist's name) in ``root/name``."""

    def __init__(self, name: str, root: str | Path | None = None) -> None:
        if not _NAME.match(name):
            raise VoiceImrsError(f"Voice name {name!r} cannot be used as a folder name.",
                                 hint="Use letters, digits, '-', '_' or '.' only.")
        self.name = name
        self.root = Path(root) if root is not None else default_voices_root()
        self.folder = self.root / name

    # ---------------------------------------------------------------- reading

    def index(self) -> dict[str, TakeInfo]:
        """Every stored take by step id (empty when nothing is recorded yet)."""
        path = self.folder / INDEX
        if not path.is_file():
            return {}
        try:
            raw = json.loads(path.read_text(encoding="utf-8"))
            return {step_id: TakeInfo(step_id=step_id, **entry)
                    for step_id, entry in raw.get("takes", {}).items()}
        except (ValueError, TypeError, AttributeError) as error:
            raise VoiceImrsError(f"The take index {str(path)!r} is damaged ({error}).",
                                 hint="Delete it and record the prompts again.") from None

    def is_fresh(self, step_id: str, text: str) -> bool:
        """Whether a take exists for this step and was recorded for exactly this text."""
        info = self.index().get(step_id)
        return (info is not None and info.hash == text_hash(text)
                and (self.folder / info.file).is_file())

    def take_for(self, step_id: str, text: str, rate: int | None = None) -> PCM | None:
        """The recorded take for this prompt (resampled to ``rate`` if given), or None.

        None when there is no take, when the text changed since it was recorded, or when
        the text has placeholders (it differs per client: the synthetic voice says it).
        """
        if has_placeholders(text):
            return None
        info = self.index().get(step_id)
        if info is None or info.hash != text_hash(text):
            return None
        path = self.folder / info.file
        if not path.is_file():
            return None
        samples, file_rate = read_wav(path)
        return resample(samples, file_rate, rate) if rate else samples

    def missing(self, script: Script) -> list[str]:
        """Step ids of the recordable prompts with no take, or a take for an older text."""
        return [step_id for step_id, text in recordable(script)
                if not self.is_fresh(step_id, text)]

    def stale(self, script: Script) -> list[str]:
        """Step ids whose take was recorded for a text that has since changed."""
        stored = self.index()
        return [step_id for step_id, text in recordable(script)
                if step_id in stored and stored[step_id].hash != text_hash(text)]

    # ---------------------------------------------------------------- writing

    def store(self, step_id: str, text: str, pcm: PCM, rate: int) -> Path:
        """Save a take for ``step_id`` recorded for ``text``; replaces an older take."""
        # A recorded voice is personal (the client's own message most of all): 0700/0600.
        private_dir(self.folder)
        digest = text_hash(text)
        safe_id = re.sub(r"[^A-Za-z0-9_.-]", "_", step_id)
        file_name = f"{safe_id}-{digest}.wav"
        write_wav(reserve_private(self.folder / file_name), pcm, rate)
        takes = {key: info.__dict__.copy() for key, info in self.index().items()}
        old = takes.get(step_id)
        if old and old["file"] != file_name:
            (self.folder / old["file"]).unlink(missing_ok=True)
        takes[step_id] = {
            "hash": digest, "file": file_name, "text": text,
            "seconds": round(len(pcm) / rate, 3), "rate": rate,
            "recorded": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        }
        for entry in takes.values():
            entry.pop("step_id", None)
        temporary = reserve_private(self.folder / (INDEX + ".tmp"))
        temporary.write_text(json.dumps({"name": self.name, "takes": takes}, indent=2,
                                        ensure_ascii=False) + "\n", encoding="utf-8")
        temporary.replace(self.folder / INDEX)  # atomic: a crash never leaves half an index
        return self.folder / file_name


def recorded_voices(root: str | Path | None = None) -> list[str]:
    """Names of the voices with an index in ``root`` (default: the voices folder)."""
    folder = Path(root) if root is not None else default_voices_root()
    if not folder.is_dir():
        return []
    return sorted(path.parent.name for path in folder.glob(f"*/{INDEX}"))


def client_message_library() -> TakeLibrary:
    """Where the client's own affirming message is kept (the user's data folder)."""
    from voice_imrs.records.store import data_dir

    return TakeLibrary(MESSAGE_LIBRARY, data_dir() / "voices")


def load_client_message(rate: int) -> PCM | None:
    """The client's recorded message at ``rate``, or None when none was recorded."""
    return client_message_library().take_for(MESSAGE_STEP, MESSAGE_TEXT, rate)


def list_recorded(name: str, script_name: str | None = None,
                  root: str | Path | None = None) -> str:
    """What voice ``name`` has recorded; with a script, what it still lacks (plain text).

    For ``voice-imrs voices --recorded NAME [--script S]``.
    """
    library = TakeLibrary(name, root)
    stored = library.index()
    if script_name is None:
        if not stored:
            return (f"No takes recorded for voice {name!r} in {library.folder}. "
                    f"Record them with: voice-imrs record-prompts SCRIPT --voice-name {name}")
        lines = [f"{len(stored)} takes recorded for voice {name!r} in {library.folder}:"]
        lines += [f"  {info.step_id}: {info.seconds:.1f} s, {_short(info.text)}"
                  for info in sorted(stored.values(), key=lambda i: i.step_id)]
        return "\n".join(lines)
    from voice_imrs.script_files import find_script

    script = find_script(script_name)
    usable = recordable(script)
    missing = library.missing(script)
    stale = set(library.stale(script))
    lines = [f"Voice {name!r}, script {script.name!r}: {len(usable) - len(missing)} of "
             f"{len(usable)} prompts recorded."]
    if missing:
        lines.append(f"Missing ({len(missing)}):")
        texts = dict(usable)
        lines += [f"  {step_id}{' (text changed since recorded)' if step_id in stale else ''}"
                  f": {_short(texts[step_id])}" for step_id in missing]
        lines.append(f"Record them with: voice-imrs record-prompts {script.name} "
                     f"--voice-name {name}")
    synthetic = [step_id for step_id, text in prompts(script) if has_placeholders(text)]
    if synthetic:
        lines.append("Always spoken by the synthetic voice (they have placeholders): "
                     + ", ".join(synthetic) + ".")
    return "\n".join(lines)


def _short(text: str, width: int = 60) -> str:
    text = " ".join(text.split())
    return text if len(text) <= width else text[:width - 3] + "..."
