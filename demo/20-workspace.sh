#!/usr/bin/env bash
# workspace: store artifacts (compressed, durable), read them back, watch the tiers, simulate policies.
set -euo pipefail
cd "$(dirname "$0")/.."
say() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

say "catalytic ws put pyproject.toml (default key: BLAKE2b-256 of the content)"
key=$(catalytic --json ws put pyproject.toml | python -c 'import json,sys; print(json.load(sys.stdin)["key"])')
catalytic ws put pyproject.toml
say "catalytic ws put demo/sample-prd.md --key demo/prd"
catalytic ws put demo/sample-prd.md --key demo/prd

say "catalytic ws get $key | head -3"
catalytic ws get "$key" | head -3
say "catalytic ws get demo/prd -o (round trip is byte-exact)"
catalytic ws get demo/prd -o "$work/prd.out"
cmp demo/sample-prd.md "$work/prd.out" && echo "identical"

say "a pipeline storing 12 artifacts and reading them back in order, three times"
for i in $(seq 1 12); do printf 'artifact %s\n%.0s' "$i" $(seq 1 200) > "$work/a$i"; catalytic ws put "$work/a$i" --key "demo/step$i" > /dev/null; done
for round in 1 2 3; do for i in $(seq 1 12); do catalytic ws get "demo/step$i" > /dev/null; done; done
echo "done: 12 puts, 36 gets"

say "catalytic ws stats"
catalytic ws stats

say "catalytic ws simulate --zipf 1.0 -c 100 -c 1000 (runs in the daemon's process pool)"
catalytic ws simulate --zipf 1.0 --requests 50000 -c 100 -c 1000
