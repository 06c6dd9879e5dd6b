#!/usr/bin/env bash
# Set up voice_imrs on this machine: system packages (Debian/Ubuntu), then a virtual
# environment in .venv with the package and its test tools. Safe to run again.
# Usage: scripts/setup.sh [--no-dev]
set -euo pipefail
cd "$(dirname "$0")/.."

APT_PACKAGES=(espeak-ng libespeak-ng1 libportaudio2 pulseaudio pulseaudio-utils
              libasound2-plugins alsa-utils ffmpeg python3-venv
              libspeexdsp1)  # libspeexdsp1: the echo canceller (voice_imrs/audio/echo_canceller.py)
# The console's browser test: Debian's headless Chromium and its driver (no browser download).
APT_PACKAGES+=(chromium chromium-driver fonts-dejavu-core)

missing=()
if command -v dpkg-query >/dev/null 2>&1; then
  for pkg in "${APT_PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
  done
fi
if [ ${#missing[@]} -gt 0 ]; then
  echo "setup: installing ${missing[*]}"
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  export DEBIAN_FRONTEND=noninteractive
  $sudo apt-get update -qq
  $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

python=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
  "$python" -m venv .venv
fi
.venv/bin/python -m pip install -q --upgrade pip >/dev/null
if [ "${1:-}" = "--no-dev" ]; then
  .venv/bin/python -m pip install -q -e .
else
  .venv/bin/python -m pip install -q -e ".[dev]"
fi
echo "setup: ready (.venv/bin/voice-imrs)"
