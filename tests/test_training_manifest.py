"""Every recording used to train, tune or set a threshold is listed, and none is by a
speaker of the sealed evaluation set."""

from __future__ import annotations

import csv
from pathlib import Path

from benchmarks.speakers import is_held_out

SPEECH = Path(__file__).resolve().parent / "data" / "speech"


def _speakers_never_to_train() -> set[str]:
    lines = (SPEECH / "never_train_speakers.txt").read_text().splitlines()
    return {line.split()[0] for line in lines if line.strip() and not line.startswith("#")}


def _rows(name: str) -> list[dict[str, str]]:
    with (SPEECH / name).open(newline="") as handle:
        return list(csv.DictReader(handle))


def test_no_never_train_speaker_in_the_training_manifest() -> None:
    never = _speakers_never_to_train()
    assert len(never) > 100
    rows = _rows("training_manifest.csv")
    assert rows and set(rows[0]) == {"file", "speaker", "source", "licence"}
    assert not {r["speaker"] for r in rows} & never
    assert all(r["licence"] and r["source"] for r in rows)


def test_the_training_manifest_is_the_training_side_of_the_held_out_rule() -> None:
    listed = {r["file"] for r in _rows("training_manifest.csv")}
    dev = _rows("dev/manifest.csv")
    training = {f"dev/{r['file']}" for r in dev if not is_held_out(r["speaker"], r["file"])}
    assert listed == training  # every clip the rule lets us tune on, and no other
    assert all((SPEECH / f).is_file() for f in listed)
