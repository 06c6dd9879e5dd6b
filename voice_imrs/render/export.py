"""Writing a rendered track: WAV directly, MP3 and OGG through pydub and ffmpeg, plus the
JSON cue sheet beside it and (MP3/OGG) chapters in the file's own metadata.

WAV needs neither pydub nor ffmpeg, so a machine without ffmpeg can still render; asking
for MP3 or OGG there is one clear error that says how to install ffmpeg.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import tempfile
from collections.abc import Sequence
from pathlib import Path

from voice_imrs.audio.wav import write_wav
from voice_imrs.errors import AudioFormatError, UnknownChoiceError
from voice_imrs.ports import PCM

OUTPUT_FORMATS = ("wav", "mp3", "ogg")
FFMPEG_HINT = ("Install ffmpeg (Debian/Ubuntu: sudo apt-get install ffmpeg; macOS: brew install "
               "ffmpeg; Windows: winget install ffmpeg), or write a .wav file instead.")
#: (start seconds, title) of each chapter.
Chapters = Sequence[tuple[float, str]]


def output_format(path: str | Path) -> str:
    """"wav", "mp3" or "ogg" from the file name; UnknownChoiceError otherwise."""
    suffix = Path(path).suffix.lower().lstrip(".")
    if suffix not in OUTPUT_FORMATS:
        raise UnknownChoiceError("output format", suffix or str(path), OUTPUT_FORMATS)
    return suffix


def require_ffmpeg(fmt: str) -> str:
    """The ffmpeg program for ``fmt`` (mp3/ogg); AudioFormatError saying how to install it."""
    found = shutil.which("ffmpeg")
    if found is None:
        raise AudioFormatError(f"Writing a .{fmt} file needs ffmpeg, which is not installed.",
                               hint=FFMPEG_HINT)
    return found


def cue_sheet_path(path: str | Path) -> Path:
    """``track.mp3`` -> ``track.cues.json``."""
    return Path(path).with_suffix(".cues.json")


def write_audio(path: str | Path, audio: PCM, rate: int, title: str = "",
                chapters: Chapters = ()) -> Path:
    """Write mono PCM to ``path`` in the format its name says."""
    path = Path(path)
    fmt = output_format(path)
    if path.parent and not path.parent.is_dir():
        raise AudioFormatError(f"The folder {str(path.parent)!r} does not exist.",
                               hint="Create it or choose another --out path.")
    if fmt == "wav":
        write_wav(path, audio, rate)
        return path
    ffmpeg = require_ffmpeg(fmt)
    from pydub import AudioSegment  # imported here: WAV output never needs it

    AudioSegment.converter = ffmpeg
    segment = AudioSegment(data=audio.astype("<i2").tobytes(), sample_width=2,
                           frame_rate=rate, channels=1)
    tags: dict[str, str] = {"title": title} if title else {}
    bitrate = "96k" if fmt == "mp3" else None
    parameters = ["-q:a", "4"] if fmt == "ogg" else None
    if fmt == "ogg":
        # Ogg chapters are Vorbis comments (CHAPTER001=00:00:01.000, CHAPTER001NAME=...),
        # so they ride along with the tags in the one encoding pass.
        tags.update(_vorbis_chapters(chapters))
    if fmt == "ogg" or not chapters:
        segment.export(str(path), format=fmt, bitrate=bitrate, parameters=parameters,
                       tags=tags or None)
        return path
    with tempfile.TemporaryDirectory(prefix="voice-imrs-") as folder:
        plain = Path(folder) / f"plain.{fmt}"
        segment.export(str(plain), format=fmt, bitrate=bitrate, tags=tags or None)
        metadata = Path(folder) / "chapters.txt"
        metadata.write_text(_ffmetadata(title, chapters, len(audio) / rate), encoding="utf-8")
        # MP3 chapters (ID3 CHAP frames) come from an ffmetadata file: a second pass copies
        # the encoded audio and adds them, as pydub's one ffmpeg call takes a single input.
        done = subprocess.run([ffmpeg, "-y", "-v", "error", "-i", str(plain), "-i", str(metadata),
                               "-map", "0:a", "-map_metadata", "1", "-map_chapters", "1",
                               "-codec", "copy", "-id3v2_version", "4", str(path)],
                              capture_output=True, text=True, timeout=120)
        if done.returncode != 0:
            raise AudioFormatError(f"ffmpeg could not write {str(path)!r}: "
                                   f"{done.stderr.strip().splitlines()[-1:]}.",
                                   hint="Try a .wav file instead.")
    return path


#: Chapter titles are cut to this many characters: long ones are lost on the way to a
#: listener (with ffmpeg 5.1 here, MP3 chapters titled with 130 characters were missing
#: when read back, those of 100 were kept), and a player's chapter list shows a line.
CHAPTER_TITLE_CHARS = 72


def chapter_title(step_id: str, text: str) -> str:
    """"welcome: This is a grounding exercise, to help you come back..." for a chapter."""
    title = f"{step_id}: {' '.join(text.split())}".rstrip(": ")
    if len(title) <= CHAPTER_TITLE_CHARS:
        return title
    cut = title[:CHAPTER_TITLE_CHARS - 3]
    if " " in cut[len(step_id) + 2:]:
        cut = cut[:cut.rindex(" ")]
    return cut.rstrip(" ,;:.") + "..."


def _vorbis_chapters(chapters: Chapters) -> dict[str, str]:
    tags = {}
    for number, (start, name) in enumerate(chapters, start=1):
        hours, rest = divmod(start, 3600)
        minutes, seconds = divmod(rest, 60)
        tags[f"CHAPTER{number:03d}"] = f"{int(hours):02d}:{int(minutes):02d}:{seconds:06.3f}"
        tags[f"CHAPTER{number:03d}NAME"] = name
    return tags


def _ffmetadata(title: str, chapters: Chapters, duration_s: float) -> str:
    def escape(text: str) -> str:
        for char in ("\\", "=", ";", "#", "\n"):
            text = text.replace(char, "\\" + char)
        return text

    lines = [";FFMETADATA1"]
    if title:
        lines.append(f"title={escape(title)}")
    starts = [int(start * 1000) for start, _ in chapters]
    ends = [*starts[1:], int(duration_s * 1000)]
    for (_, name), start, end in zip(chapters, starts, ends, strict=True):
        lines += ["[CHAPTER]", "TIMEBASE=1/1000", f"START={start}", f"END={max(end, start)}",
                  f"title={escape(name)}"]
    return "\n".join(lines) + "\n"


def write_cue_sheet(path: str | Path, sheet: dict[str, object]) -> Path:
    """Write the cue sheet JSON beside the track; returns its path."""
    target = cue_sheet_path(path)
    target.write_text(json.dumps(sheet, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    return target
