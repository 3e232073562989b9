#!/usr/bin/env bash
# `make bench`: every benchmark, one after another (never in parallel: the machine has 2 cores).
# Each prints its table and ends with its one-line summary; the summaries are repeated at the end.
set -uo pipefail
cd "$(dirname "$0")/.."
out=$(mktemp -d)
status=0
for bench in ipc workspace prd evolve tune testrun space monitor distributed_bench mcp; do
  [ -f "bench/$bench.py" ] || continue
  printf '\n\033[1m== bench/%s.py\033[0m\n' "$bench"
  if ! python "bench/$bench.py" 2>&1 | tee "$out/$bench.log"; then status=1; fi
done
printf '\n\033[1m== summary\033[0m\n'
for log in "$out"/*.log; do tail -n 1 "$log"; done
rm -rf "$out"
exit $status
