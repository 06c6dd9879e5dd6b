#!/usr/bin/env bash
# Set up everything, then run lint, type checks and the whole test suite on a virtual
# sound device (PulseAudio with null sinks), which is stopped again afterwards.
# Usage: scripts/test.sh [pytest arguments]
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
eval "$(scripts/virtual-audio.sh start)"
trap 'scripts/virtual-audio.sh stop' EXIT
export PULSE_SERVER
.venv/bin/ruff check voice_imrs tests scripts
.venv/bin/mypy voice_imrs
.venv/bin/python -m pytest -q "$@"
