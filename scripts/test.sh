#!/usr/bin/env bash
# Set up everything, then run lint, type checks and the whole test suite on a virtual
# sound device (PulseAudio with null sinks), which is stopped again afterwards.
# Usage: scripts/test.sh [pytest arguments]
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
# A sound server of this run's own: two runs on one machine never share one.
if [ -z "${VOICE_IMRS_PULSE_DIR:-}" ]; then
  VOICE_IMRS_PULSE_DIR=$(mktemp -d /tmp/voice-imrs-pulse.XXXXXX)
  trap 'scripts/virtual-audio.sh stop; rm -rf "$VOICE_IMRS_PULSE_DIR"' EXIT
else
  trap 'scripts/virtual-audio.sh stop' EXIT
fi
export VOICE_IMRS_PULSE_DIR
eval "$(scripts/virtual-audio.sh start)"
export PULSE_SERVER
.venv/bin/ruff check voice_imrs benchmarks tests scripts
.venv/bin/mypy voice_imrs benchmarks
.venv/bin/python -m pytest -q "$@"
