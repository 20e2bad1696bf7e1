#!/usr/bin/env bash
# Sets up callcoach on Debian/Ubuntu: system packages, the release build and
# the Whisper model. Safe to run again: it skips what is already there.
#   scripts/setup.sh              everything
#   scripts/setup.sh --deps-only  system packages only
set -euo pipefail
cd "$(dirname "$0")/.."

# Build: alsa headers (cpal), cmake + clang (whisper.cpp and its bindgen).
# The overlay window: X11/EGL/Mesa runtime libraries and a font with Chinese
# glyphs (fonts-noto-cjk).
# Tests and tools: espeak-ng and sox (synthetic audio), pulseaudio (capture
# without a sound card), python3-pip (model install), Xvfb + imagemagick +
# xdotool (a real overlay window and its screenshot), Chromium and its
# WebDriver (the supervisors' board in a real browser), openssl and curl
# (a TLS board), nats-server (the broker path for a large centre).
PACKAGES=(
  build-essential pkg-config cmake clang libclang-dev libasound2-dev
  python3 python3-pip ca-certificates
  libx11-6 libx11-xcb1 libxcursor1 libxi6 libxrandr2 libxkbcommon-x11-0 libegl1 libegl-mesa0 libgl1-mesa-dri fontconfig fonts-noto-cjk
  espeak-ng sox
  pulseaudio pulseaudio-utils libasound2-plugins
  xvfb x11-utils xdotool imagemagick
  chromium chromium-driver openssl curl
  nats-server
)

missing=()
for p in "${PACKAGES[@]}"; do
  dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p")
done
if ((${#missing[@]})); then
  echo "setup: installing ${missing[*]}" >&2
  SUDO=""
  if [ "$(id -u)" != 0 ]; then SUDO="sudo"; fi
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

if [ "${1:-}" = "--deps-only" ]; then exit 0; fi

if ! command -v cargo >/dev/null 2>&1; then
  echo "setup: cargo not found; install Rust (https://rustup.rs) and run this again" >&2
  exit 1
fi

cargo build --release --locked
cargo run --release --locked --quiet -- model install
