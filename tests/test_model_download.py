"""``voice-imrs models download`` against a local HTTP server (no outside network)."""

from __future__ import annotations

import hashlib
import http.server
import io
import os
import subprocess
import sys
import threading
import zipfile
from collections.abc import Iterator
from functools import partial
from pathlib import Path

import pytest

from voice_imrs.asr.model_download import KNOWN_MODELS, download_model, fetch
from voice_imrs.errors import ModelError, UnknownChoiceError

ROOT = Path(__file__).resolve().parent.parent


def _model_zip(top: str = "tiny-model") -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr(f"{top}/am/final.mdl", b"acoustic model bytes")
        archive.writestr(f"{top}/conf/model.conf", b"--sample-frequency=16000\n")
        archive.writestr(f"{top}/README", b"a tiny stand-in model")
    return buffer.getvalue()


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture
def server(tmp_path: Path) -> Iterator[tuple[str, Path]]:
    served = tmp_path / "served"
    served.mkdir()
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0),
                                            partial(_QuietHandler, directory=str(served)))
    thread = threading.Thread(target=httpd.serve_forever, name="test-http", daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}", served
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join(timeout=5)


def test_download_verifies_and_unpacks(server: tuple[str, Path], tmp_path: Path) -> None:
    base, served = server
    data = _model_zip()
    (served / "m.zip").write_bytes(data)
    progress = io.StringIO()
    target = download_model("tiny-model", tmp_path / "models", url=f"{base}/m.zip",
                            sha256=hashlib.sha256(data).hexdigest(), progress=progress)
    assert target == tmp_path / "models" / "tiny-model"
    assert (target / "am" / "final.mdl").read_bytes() == b"acoustic model bytes"
    assert "MB" in progress.getvalue()
    assert sorted(p.name for p in (tmp_path / "models").iterdir()) == ["tiny-model"]
    with pytest.raises(ModelError, match="already exists"):
        download_model("tiny-model", tmp_path / "models", url=f"{base}/m.zip", progress=None)


def test_plain_progress_is_a_finished_line_each_tenth(server: tuple[str, Path]) -> None:
    base, served = server
    data = os.urandom(3_000_000)  # big enough for many read chunks
    (served / "big.bin").write_bytes(data)
    plain, bar = io.StringIO(), io.StringIO()
    assert fetch(f"{base}/big.bin", io.BytesIO(), plain, plain=True) == \
        hashlib.sha256(data).hexdigest()
    lines = plain.getvalue().splitlines()
    assert "\r" not in plain.getvalue() and len(lines) == 10, lines
    assert lines[0] == "Downloaded 0.3 of 3.0 MB (10 percent)."
    assert lines[-1] == "Downloaded 3.0 of 3.0 MB (100 percent)."
    fetch(f"{base}/big.bin", io.BytesIO(), bar)  # a terminal: one bar, redrawn in place
    assert bar.getvalue().count("\r") > 10 and bar.getvalue().endswith("MB\n")


def test_bad_checksum_leaves_nothing_behind(server: tuple[str, Path], tmp_path: Path) -> None:
    base, served = server
    (served / "m.zip").write_bytes(_model_zip())
    with pytest.raises(ModelError, match="corrupt"):
        download_model("tiny-model", tmp_path / "models", url=f"{base}/m.zip",
                       sha256="0" * 64, progress=None)
    assert list((tmp_path / "models").iterdir()) == []


def test_not_a_zip_or_not_a_model_or_unreachable(server: tuple[str, Path],
                                                 tmp_path: Path) -> None:
    base, served = server
    (served / "junk.zip").write_bytes(b"<html>not found</html>")
    with pytest.raises(ModelError, match="not a valid zip"):
        download_model("x", tmp_path, url=f"{base}/junk.zip", progress=None)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("photos/cat.jpg", b"meow")
    (served / "other.zip").write_bytes(buffer.getvalue())
    with pytest.raises(ModelError, match="not a Vosk model"):
        download_model("y", tmp_path, url=f"{base}/other.zip", progress=None)
    with pytest.raises(ModelError, match="Could not download"):
        download_model("z", tmp_path, url=f"{base}/missing.zip", progress=None)
    with pytest.raises(UnknownChoiceError, match=r"vosk-model-small-en-us-0\.15"):
        download_model("no-such-model", tmp_path, progress=None)


def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.run([sys.executable, "-m", "voice_imrs", *args], capture_output=True,
                          text=True, timeout=60, cwd=ROOT, env=env)


def test_cli_download_and_list(server: tuple[str, Path], tmp_path: Path) -> None:
    base, served = server
    data = _model_zip("vosk-model-tiny")
    (served / "t.zip").write_bytes(data)
    done = _cli("models", "download", "vosk-model-tiny", "--url", f"{base}/t.zip",
                "--sha256", hashlib.sha256(data).hexdigest(), "--dest", str(tmp_path))
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "vosk-model-tiny" / "am" / "final.mdl").is_file()
    assert "Installed vosk-model-tiny" in done.stdout
    bad = _cli("models", "download", "vosk-model-tiny2", "--url", f"{base}/t.zip",
               "--sha256", "1" * 64, "--dest", str(tmp_path))
    assert bad.returncode != 0 and "Traceback" not in bad.stderr
    # stderr holds the progress bar, then exactly one error sentence
    errors = [line for line in bad.stderr.splitlines() if line.startswith("voice-imrs:")]
    assert len(errors) == 1 and "corrupt" in errors[0]
    assert bad.stderr.strip().splitlines()[-1] == errors[0]
    listing = _cli("models", "list")
    assert listing.returncode == 0
    known = KNOWN_MODELS["vosk-model-small-en-us-0.15"]
    assert known.url in listing.stdout and known.sha256 in listing.stdout


def test_wrapper_script_calls_the_command() -> None:
    script = (ROOT / "scripts" / "download-vosk-model.sh").read_text()
    assert "voice-imrs models download" in script or "voice_imrs models download" in script
