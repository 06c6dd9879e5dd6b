"""``voice-imrs bench recognition`` and ``bench resources`` run and end with a JSON summary."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest

from voice_imrs.cli.main import main

DEV = Path(__file__).resolve().parent / "data" / "speech" / "dev"
TINY = ("sc2_stop_", "sc2_seven_", "sc2_yes_", "noise_")
KEYS = {"stop_recall", "false_stop", "rating_acc", "yesno_acc", "speech_detect",
        "noise_false_speech", "n"}


def _tiny_manifest(tmp_path: Path) -> Path:
    """One clip of each kind, the files referenced by absolute path."""
    with (DEV / "manifest.csv").open(newline="") as handle:
        reader = csv.DictReader(handle)
        fields = reader.fieldnames
        rows = sorted(reader, key=lambda r: r["file"])
    picked = [next(r for r in rows if r["file"].startswith(prefix)) for prefix in TINY]
    manifest = tmp_path / "manifest.csv"
    with manifest.open("w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=fields or [])
        writer.writeheader()
        for row in picked:
            writer.writerow({**row, "file": str(DEV / row["file"])})
    return manifest


def test_recognition_bench_prints_json_last(tmp_path: Path,
                                            capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["bench", "recognition", "--manifest", str(_tiny_manifest(tmp_path)),
                 "--split", "all"])
    assert code == 0
    lines = capsys.readouterr().out.strip().splitlines()
    summary = json.loads(lines[-1])
    assert set(summary) >= KEYS and set(summary["peer"]) >= KEYS
    assert summary["n"] == {"stop": 1, "no_stop": 3, "rating": 1, "yesno": 1, "speech": 3,
                            "noise": 1, "oov": 0, "custom_stop": 2, "custom_no_stop": 2,
                            "choice6": 2}
    assert summary["recognizer"] == "whisper" and set(summary["peer_whisper"]) >= KEYS
    assert set(summary["stop_by_policy"]) == {"fast", "answer", "either"}
    assert any("confusion" in line for line in lines[:-1])


def test_missing_manifest_is_one_clear_error(tmp_path: Path,
                                             capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["bench", "recognition", "--manifest", str(tmp_path / "none.csv")])
    assert code != 0
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "none.csv" in err[0] and "does not exist" in err[0]


def test_resources_bench_measures_a_recognizer(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["bench", "resources", "--recognizer", "keyword", "--seconds", "3"]) == 0
    summary = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    figures = summary["recognizers"]["keyword"]
    assert 0 < figures["cpu_pct_of_core"] < 100
    assert 20 < figures["peak_rss_mb"] < 1000
