#!/usr/bin/env bash
# Start or stop a virtual sound device: PulseAudio with two null sinks.
#   speaker      what the app plays; speaker.monitor hears it (loopback tests)
#   mic_feed     what tests inject with paplay; "mic" (a remap of its monitor) is the microphone.
#                It runs at 16 kHz mono, the rate of the test recordings, so a recording reaches
#                the app as it was recorded: PulseAudio's default resampler, run twice (16 ->
#                44.1 -> 16 kHz), takes 13-21 dB off everything above 6 kHz.
# Usage: scripts/virtual-audio.sh start|stop|env
# "start" prints the environment to export (XDG_RUNTIME_DIR, PULSE_SERVER).
set -euo pipefail
state=${VOICE_IMRS_PULSE_DIR:-/tmp/voice-imrs-pulse}
export XDG_RUNTIME_DIR="$state/run" HOME="$state/home"
server="unix:$XDG_RUNTIME_DIR/pulse/native"

case "${1:-}" in
start)
  if PULSE_SERVER=$server pactl info >/dev/null 2>&1; then
    echo "export PULSE_SERVER=$server"; exit 0
  fi
  mkdir -p "$XDG_RUNTIME_DIR/pulse" "$HOME"
  chmod 700 "$XDG_RUNTIME_DIR"
  cat > "$state/default.pa" <<PA
load-module module-native-protocol-unix auth-anonymous=1 socket=$XDG_RUNTIME_DIR/pulse/native
load-module module-null-sink sink_name=speaker sink_properties=device.description=speaker
load-module module-null-sink sink_name=mic_feed rate=16000 channels=1 sink_properties=device.description=mic_feed
load-module module-remap-source source_name=mic master=mic_feed.monitor rate=16000 channels=1 source_properties=device.description=mic
set-default-sink speaker
set-default-source mic
PA
  pulseaudio -n --daemonize=yes --exit-idle-time=-1 --use-pid-file=yes --disallow-exit \
    --log-target=file:"$state/pulse.log" -F "$state/default.pa" --system=false 2>>"$state/pulse.log" || true
  for _ in $(seq 1 100); do
    PULSE_SERVER=$server pactl info >/dev/null 2>&1 && { echo "export PULSE_SERVER=$server"; exit 0; }
    sleep 0.05
  done
  echo "virtual-audio: PulseAudio did not start; see $state/pulse.log" >&2; exit 1
  ;;
stop)
  PULSE_SERVER=$server pactl exit >/dev/null 2>&1 || pulseaudio --kill >/dev/null 2>&1 || true
  ;;
env)
  echo "export PULSE_SERVER=$server"
  ;;
*)
  echo "usage: $0 start|stop|env" >&2; exit 2
  ;;
esac
