#!/usr/bin/env bash
# Set up everything, then run the main job: a spoken session on the sound devices, or,
# on a machine without sound hardware, the simulated-client demo (which writes the
# session's audio to out/demo.wav and prints what happened).
# Usage: scripts/run.sh [voice-imrs run arguments]
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh --no-dev >&2
if .venv/bin/voice-imrs devices --check >/dev/null 2>&1; then
  exec .venv/bin/voice-imrs run "$@"
fi
echo "No sound devices here: running the simulated-client demo instead." >&2
mkdir -p out
exec .venv/bin/voice-imrs demo --out out/demo.wav
