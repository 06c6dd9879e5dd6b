#!/usr/bin/env bash
# Download, verify and unpack an English Vosk model into models/ (needs network access).
# Usage: scripts/download-vosk-model.sh [NAME] [extra options for `voice-imrs models download`]
# Default NAME: vosk-model-small-en-us-0.15. See models/README.md.
set -euo pipefail
cd "$(dirname "$0")/.."
name=${1:-vosk-model-small-en-us-0.15}
shift || true
if command -v voice-imrs >/dev/null 2>&1; then
  exec voice-imrs models download "$name" "$@"
fi
exec python3 -m voice_imrs models download "$name" "$@"
