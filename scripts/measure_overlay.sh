#!/usr/bin/env bash
# The agent's window, measured: idle CPU with live capture and no call
# (60 s), CPU and memory while a recorded call plays through the window, the
# time from an event to the frame that shows it, and a screenshot mid-call
# (docs/overlay_replay.png). Runs a private Xvfb and PulseAudio; needs the
# release build and the model (scripts/setup.sh).
#   scripts/measure_overlay.sh [IDLE_SECONDS]
set -euo pipefail
cd "$(dirname "$0")/.."
idle_s="${1:-60}"
bin="${CARGO_TARGET_DIR:-target}/release/callcoach"
[ -x "$bin" ] || { echo "build first: cargo build --release" >&2; exit 1; }
tmp=$(mktemp -d)
cleanup() {
  [ -n "${xvfb:-}" ] && kill "$xvfb" 2>/dev/null || true
  XDG_RUNTIME_DIR="$tmp" pulseaudio --kill 2>/dev/null || true
  rm -rf "$tmp"
}
trap cleanup EXIT

display=":$((90 + RANDOM % 9))"
Xvfb "$display" -screen 0 1280x800x24 >/dev/null 2>&1 & xvfb=$!
export DISPLAY="$display"
XDG_RUNTIME_DIR="$tmp" pulseaudio --daemonize=yes --exit-idle-time=-1 --disallow-exit -n \
  --load=module-native-protocol-unix "--load=module-null-sink sink_name=customer" "--load=module-null-sink sink_name=agent" 2>/dev/null
sleep 1

# CPU seconds (user + system) of a process.
cpu_s() { awk -v hz="$(getconf CLK_TCK)" '{print ($14 + $15) / hz}' "/proc/$1/stat"; }

echo "== idle: live capture, no call, ${idle_s} s"
XDG_RUNTIME_DIR="$tmp" "$bin" agent --agent-device agent.monitor --customer-device customer.monitor 2>"$tmp/idle.err" &
pid=$!
sleep 10 # model load and window start
c0=$(cpu_s "$pid"); t0=$(date +%s.%N)
sleep "$idle_s"
c1=$(cpu_s "$pid"); t1=$(date +%s.%N)
rss=$(awk '/VmRSS/ {print $2 / 1024}' "/proc/$pid/status")
kill -TERM "$pid"; wait "$pid" || true
echo "idle_cpu_percent $(echo "scale=2; 100 * ($c1 - $c0) / ($t1 - $t0)" | bc) (of one core) rss_mib ${rss}"

echo "== a recorded call through the window (samples/retention_call.wav, real time)"
"$bin" agent --replay samples/retention_call.wav --stats 2>"$tmp/replay.err" &
pid=$!
sleep 3
c0=$(cpu_s "$pid"); t0=$(date +%s.%N)
sleep 11
/usr/bin/import -window root "$tmp/root.png"
/usr/bin/convert "$tmp/root.png" -crop 380x280+0+0 +repage docs/overlay_replay.png
sleep 28
c1=$(cpu_s "$pid"); t1=$(date +%s.%N)
kill -TERM "$pid"; wait "$pid" || true
echo "call_cpu_percent $(echo "scale=1; 100 * ($c1 - $c0) / ($t1 - $t0)" | bc) (of one core, average over the call)"
grep -E "frames:|overlay queue:|peak_rss_mib" "$tmp/replay.err"
echo "screenshot: docs/overlay_replay.png"
