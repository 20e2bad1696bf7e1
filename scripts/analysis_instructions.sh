#!/usr/bin/env bash
# Instructions per analysed turn, which, unlike wall time, do not depend on
# the machine or on what else runs on it: every line of tests/corpus's
# customer.tsv and agent.tsv once through a running call (the
# `analysis_turn` bench with `--rounds 1 --turns-only`) under callgrind, one
# count per `CallAnalysis::turn`; prints p50, p95, p99, max and mean. The
# first turn is left out: it builds the lazily built matchers once.
# Needs valgrind (`apt-get install valgrind`).
set -euo pipefail
cd "$(dirname "$0")/.."

if ! command -v valgrind >/dev/null; then
  echo "analysis_instructions.sh: valgrind is not installed (apt-get install valgrind)" >&2
  exit 1
fi
bench=$(cargo bench --locked --bench analysis_turn --no-run 2>&1 | sed -n 's/.*Executable .*(\(.*\))/\1/p' | tail -1)
if [[ -z "$bench" || ! -x "$bench" ]]; then
  echo "analysis_instructions.sh: could not build the analysis_turn bench" >&2
  exit 1
fi
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
valgrind --tool=callgrind --callgrind-out-file="$out/cg.out" \
  --toggle-collect='callcoach::analysis::CallAnalysis::turn' \
  --dump-after='callcoach::analysis::CallAnalysis::turn' \
  "$bench" --rounds 1 --turns-only >"$out/bench.txt" 2>"$out/valgrind.txt" || {
  echo "analysis_instructions.sh: callgrind failed; its log:" >&2
  cat "$out/valgrind.txt" >&2
  exit 1
}
# cg.out.1 is the first turn; cg.out (no number) is what ran after the last.
for f in "$out"/cg.out.*; do
  [[ "$f" == "$out/cg.out.1" ]] && continue
  awk '/^totals:/ { print $2; exit }' "$f"
done | sort -n | awk '
  { v[NR] = $1; sum += $1 }
  END {
    if (NR == 0) { print "no turns counted" > "/dev/stderr"; exit 1 }
    printf "instructions per turn over %d turns: p50 %d  p95 %d  p99 %d  max %d  mean %d\n",
      NR, v[int((NR - 1) * 0.50) + 1], v[int((NR - 1) * 0.95) + 1], v[int((NR - 1) * 0.99) + 1], v[NR], sum / NR
  }'
