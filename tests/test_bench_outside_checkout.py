"""The benchmarks live in the source checkout (``benchmarks/``), beside the package: run
from an installed package without them, ``voice-imrs bench`` says so in one sentence."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_bench_without_the_checkout_is_one_clear_sentence(tmp_path: Path) -> None:
    # The package alone, as a wheel would install it: no benchmarks/ beside it.
    shutil.copytree(ROOT / "voice_imrs", tmp_path / "voice_imrs",
                    ignore=shutil.ignore_patterns("__pycache__"))
    env = {**os.environ, "PYTHONPATH": str(tmp_path)}
    done = subprocess.run([sys.executable, "-m", "voice_imrs", "bench", "voice", "--limit", "1"],
                          cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode != 0 and "Traceback" not in done.stderr, done.stderr
    errors = [line for line in done.stderr.splitlines() if line.startswith("voice-imrs:")]
    assert len(errors) == 1 and "part of the source checkout" in errors[0], done.stderr
    assert "bench voice" in done.stderr  # how to run it instead


def test_the_package_does_not_ship_the_benchmarks() -> None:
    assert not (ROOT / "voice_imrs" / "bench").exists()
    assert (ROOT / "benchmarks" / "voice.py").is_file()
