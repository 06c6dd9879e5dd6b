"""Console control-to-push latency on a real-time simulated session.

POSTs a control (``hot_spot``, which changes nothing else) and times how long until its
event arrives on the page's Server-Sent Events stream; prints a JSON summary as its
last line. Run from the repository: ``PYTHONPATH=. .venv/bin/python scripts/console_latency.py``
"""

from __future__ import annotations

import json
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

import requests
from console_driver import start_console

ROUNDS = 40


def main() -> None:
    console = start_console()
    try:
        console.wait_for(lambda state: state["step"])
        times = []
        with requests.get(console.base + "/api/events", headers=console.headers,
                          stream=True, timeout=30) as response:
            lines = response.iter_lines(decode_unicode=True)
            next(line for line in lines if line.startswith("data: "))  # the state
            for _ in range(ROUNDS):
                start = time.perf_counter()
                assert console.control("hot_spot").status_code == 202
                for line in lines:
                    if line.startswith("data: ") and '"event": "hot_spot"' in line:
                        break
                times.append((time.perf_counter() - start) * 1000)
                time.sleep(0.05)
        times.sort()
        print(json.dumps({"rounds": len(times), "p50_ms": round(statistics.median(times), 1),
                          "p95_ms": round(times[int(0.95 * len(times)) - 1], 1),
                          "max_ms": round(times[-1], 1)}))
    finally:
        console.stop()


if __name__ == "__main__":
    main()
