#!/usr/bin/env bash
# Start or stop a virtual sound device: PulseAudio with two null sinks.
#   speaker      what the app plays; speaker.monitor hears it (loopback tests)
#   mic_feed     what tests inject with paplay; "mic" (a remap of its monitor) is the microphone.
#                It runs at 16 kHz mono, the rate of the test recordings, so a recording reaches
#                the app as it was recorded: PulseAudio's default resampler, run twice (16 ->
#                44.1 -> 16 kHz), takes 13-21 dB off everything above 6 kHz.
#   speaker48    a speaker that runs at 48 kHz only, as most USB headsets and many laptops do:
#                the app opens it at 48 kHz and resamples its 22.05 kHz voice itself
#                (tests/test_device_rates.py listens to speaker48.monitor for seams).
# A null sink has no clock of its own to pace it: with no stream asking for low latency it
# runs at 2 s and renders 2 s ahead at a time, so a 100 ms PortAudio stream (the ALSA pulse
# plugin never asks for a latency) starves for about 1.8 s after its first buffer, and a
# playback now and then never reaches the monitor. A hardware sink is paced by its card. So
# each sink gets a keeper: a 25 ms monitor reader that holds its latency low, as a card would.
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
load-module module-null-sink sink_name=speaker48 rate=48000 channels=1 sink_properties=device.description=speaker48
load-module module-remap-source source_name=mic master=mic_feed.monitor rate=16000 channels=1 source_properties=device.description=mic
set-default-sink speaker
set-default-source mic
PA
  pulseaudio -n --daemonize=yes --exit-idle-time=-1 --use-pid-file=yes --disallow-exit \
    --log-target=file:"$state/pulse.log" -F "$state/default.pa" --system=false 2>>"$state/pulse.log" || true
  for _ in $(seq 1 100); do
    PULSE_SERVER=$server pactl info >/dev/null 2>&1 && break
    sleep 0.05
  done
  PULSE_SERVER=$server pactl info >/dev/null 2>&1 ||
    { echo "virtual-audio: PulseAudio did not start; see $state/pulse.log" >&2; exit 1; }
  for sink in speaker mic_feed speaker48; do
    # Ends by itself when the server exits ("stop").
    PULSE_SERVER=$server setsid parec --device=$sink.monitor --latency-msec=25 \
      --fix-rate --fix-channels --fix-format >/dev/null 2>>"$state/pulse.log" </dev/null &
  done
  # The 2 s the sinks rendered ahead before the keepers came must pass first.
  for _ in $(seq 1 60); do
    PULSE_SERVER=$server pactl list sinks | awk '/^\tLatency:/ { if ($2 > 200000) slow = 1 }
      END { exit slow }' && { echo "export PULSE_SERVER=$server"; exit 0; }
    sleep 0.1
  done
  echo "virtual-audio: the sinks' latency stayed high; see $state/pulse.log" >&2; exit 1
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
