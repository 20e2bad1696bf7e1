#!/usr/bin/env bash
# Runs one fuzz target (cargo-fuzz, libFuzzer, the nightly toolchain) for a
# number of seconds, adds what it finds worth keeping to fuzz/corpus/TARGET
# (minimised afterwards), and keeps any crash under fuzz/artifacts/TARGET.
#   scripts/fuzz.sh TARGET SECONDS     targets: wav ct2 ggml playbook lexicon config transcript wire
set -euo pipefail
cd "$(dirname "$0")/../fuzz"
target="${1:?usage: scripts/fuzz.sh TARGET SECONDS}"
seconds="${2:-600}"
if ! cargo +nightly fuzz --version >/dev/null 2>&1; then
  cargo install --locked cargo-fuzz
fi
mkdir -p "corpus/$target" "seeds/$target"
# Each input gets 10 s and 2 GB at most: a hang or a runaway allocation is a finding.
cargo +nightly fuzz run "$target" "corpus/$target" "seeds/$target" -- \
  -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -max_len=262144 -print_final_stats=1
# Keep the corpus small: only inputs that add edge coverage (with hit counts
# as features nearly every input counts as new).
cargo +nightly fuzz cmin "$target" "corpus/$target" -- -rss_limit_mb=2048 -use_counters=0 2>&1 | tail -n 1
