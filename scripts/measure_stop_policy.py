"""How the two lanes of the default recognizer should combine for stop, by measurement.

Each lane alone on every clip of the split, and their union (``bench.recognition.
stop_policies``). Choose on the TRAINING split; the held-out speakers only report:

    PYTHONPATH=. python scripts/measure_stop_policy.py --split training
"""

from __future__ import annotations

import argparse
import json

from benchmarks.recognition import DEFAULT_MANIFEST, load_clips, stop_policies


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--split", default="training")
    args = parser.parse_args()
    clips = load_clips(DEFAULT_MANIFEST, args.split)
    print(json.dumps({"split": args.split, **stop_policies(clips)}))


if __name__ == "__main__":
    main()
