#!/usr/bin/env bash
# Runs every test: unit tests and the binary-level tests that use the real
# Whisper model and real audio. Installs the model first if it is missing.
set -euo pipefail
cd "$(dirname "$0")/.."

cargo run --release --locked --quiet -- model install
# One test at a time: each Whisper decode already uses both cores, and
# ggml's worker threads spin; parallel tests oversubscribe and run >10x slower.
RUST_TEST_THREADS=1 cargo test --release --locked "$@"
