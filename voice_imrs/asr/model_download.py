"""Fetching a Vosk model: download, verify its SHA-256, unpack atomically into models/.

Nothing downloads a model behind the user's back: only ``voice-imrs models download``
calls this. The archive goes to a temporary file, its checksum is checked, it is
unpacked into a temporary folder next to the destination and then renamed into place,
so an interrupted download never leaves a half model that would later fail to load.
"""

from __future__ import annotations

import hashlib
import sys
import tempfile
import urllib.error
import urllib.request
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO, TextIO

from voice_imrs.asr.vosk import check_model_dir
from voice_imrs.errors import ModelError, UnknownChoiceError


@dataclass(frozen=True)
class KnownModel:
    """A model we know how to fetch: its archive URL, size in bytes and SHA-256."""

    name: str
    url: str
    size: int
    sha256: str
    language: str = "en-us"


KNOWN_MODELS: dict[str, KnownModel] = {
    m.name: m for m in (
        KnownModel("vosk-model-small-en-us-0.15",
                   "https://alphacephei.com/vosk/models/vosk-model-small-en-us-0.15.zip",
                   41_205_931,
                   "30f26242c4eb449f948e42cb302dd7a686cb29a3423a8367f99ff41780942498"),
    )
}
CHUNK = 1 << 16


def fetch(url: str, out: BinaryIO, progress: TextIO | None = sys.stderr,
          timeout_s: float = 30.0, plain: bool = False) -> str:
    """Copy ``url`` into ``out`` with a progress bar; return the SHA-256 hex digest.

    plain: one finished line each tenth of the way instead of a bar redrawn in place
    (for screen readers, logs and dumb terminals: ``cli.plain``).
    """
    digest = hashlib.sha256()
    shown = _Progress(progress, plain) if progress is not None else None
    try:
        with urllib.request.urlopen(url, timeout=timeout_s) as response:
            total = int(response.headers.get("Content-Length") or 0)
            done = 0
            while chunk := response.read(CHUNK):
                out.write(chunk)
                digest.update(chunk)
                done += len(chunk)
                if shown is not None:
                    shown.update(done, total)
    except (urllib.error.URLError, OSError, ValueError) as error:
        reason = getattr(error, "reason", None) or error
        raise ModelError(f"Could not download {url} ({reason}).",
                         hint="Check the network connection and the URL, or download the "
                              "zip yourself and unpack it into models/.") from None
    if shown is not None:
        shown.end(done)
    return digest.hexdigest()


class _Progress:
    """How far a download is: a redrawn bar, or (plain) a line each tenth of the way."""

    WIDTH = 30
    #: Plain output without a known size: a line each this many bytes.
    PLAIN_STEP = 10_000_000

    def __init__(self, stream: TextIO, plain: bool) -> None:
        self.stream = stream
        self.plain = plain
        self.reported = 0
        self.total = 0

    def update(self, done: int, total: int) -> None:
        self.total = total
        if self.plain:
            step = 10 * done // total if total else done // self.PLAIN_STEP
            if step > self.reported:
                self.reported = step
                of = f" of {total / 1e6:.1f}" if total else ""
                percent = f" ({10 * step} percent)" if total else ""
                self.stream.write(f"Downloaded {done / 1e6:.1f}{of} MB{percent}.\n")
        elif total:
            filled = self.WIDTH * done // total
            self.stream.write(f"\r[{'#' * filled}{'.' * (self.WIDTH - filled)}] "
                              f"{done / 1e6:6.1f} / {total / 1e6:.1f} MB")
        else:
            self.stream.write(f"\r{done / 1e6:6.1f} MB")
        self.stream.flush()

    def end(self, done: int) -> None:
        if not self.plain:
            self.stream.write("\n")
        elif not self.total or self.reported < 10:  # no "100 percent" line yet
            self.stream.write(f"Downloaded {done / 1e6:.1f} MB.\n")
        self.stream.flush()


def download_model(name: str, dest: Path, *, url: str | None = None,
                   sha256: str | None = None, progress: TextIO | None = sys.stderr,
                   plain: bool = False) -> Path:
    """Fetch model ``name`` into ``dest``/NAME and return that directory.

    A name not in ``KNOWN_MODELS`` needs ``url`` (and should have ``sha256``). ``plain``:
    progress as finished lines (see ``fetch``).
    """
    known = KNOWN_MODELS.get(name)
    if known is None and url is None:
        raise UnknownChoiceError("model", name, KNOWN_MODELS)
    url = url or (known.url if known else "")
    expected = (sha256 or (known.sha256 if known else "")).lower()
    target = dest / name
    if target.exists():
        raise ModelError(f"Model folder {str(target)!r} already exists.",
                         hint="Remove it first to download again.")
    dest.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=dest, prefix=f".{name}-") as work:
        archive = Path(work) / "model.zip"
        with archive.open("wb") as out:
            actual = fetch(url, out, progress, plain=plain)
        if expected and actual != expected:
            raise ModelError(f"The download of {name} from {url} is corrupt "
                             f"(SHA-256 {actual}, expected {expected}).",
                             hint="Try again; if it persists, the file on the server changed.")
        unpacked = Path(work) / "unpacked"
        _unzip(archive, unpacked, url)
        root = _model_root(unpacked, url)
        check_model_dir(root)  # a zip of something else is refused before it is installed
        root.rename(target)  # same filesystem: the model appears whole or not at all
    return target


def _unzip(archive: Path, into: Path, url: str) -> None:
    try:
        with zipfile.ZipFile(archive) as zipped:
            for member in zipped.namelist():
                resolved = (into / member).resolve()
                if not resolved.is_relative_to(into.resolve()):
                    raise ModelError(f"The archive from {url} holds an unsafe path {member!r}.",
                                     hint="Do not use this archive.")
            zipped.extractall(into)
    except (zipfile.BadZipFile, EOFError) as error:
        raise ModelError(f"The download from {url} is not a valid zip archive ({error}).",
                         hint="Check the URL; it should point to a Vosk model .zip.") from None


def _model_root(unpacked: Path, url: str) -> Path:
    """The folder holding the model: the archive's single top folder, or the archive root."""
    entries = [p for p in unpacked.iterdir() if not p.name.startswith("__MACOSX")]
    if len(entries) == 1 and entries[0].is_dir():
        return entries[0]
    if not entries:
        raise ModelError(f"The archive from {url} is empty.", hint="Check the URL.")
    return unpacked

