#!/usr/bin/env bash
# testrun: the bundled small suite twice; the second run is scheduled from the first's durations.
set -euo pipefail
say() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
# Runs are allowed only under testrun.allowed_roots (default: your home), so work on a copy there.
mkdir -p "$HOME/.cache"
work=$(mktemp -d "$HOME/.cache/catalytic-demo-testrun.XXXXXX")
trap 'rm -rf "$work"' EXIT
cp -r tests/data/testrun/sample_suite "$work/suite"
py=$(command -v python)
catalytic test "$work/suite" --forget >/dev/null
say "catalytic test SUITE -n 2 (cold: no history; the suite fails on purpose: 3 failed, 1 error)"
catalytic test "$work/suite" -n 2 --python "$py" --slowest 3 2>&1 | tail -n 12 || true
say "catalytic test SUITE --plan (the schedule the next run will use, from remembered durations)"
catalytic test "$work/suite" -n 2 --python "$py" --plan
say "catalytic test SUITE -n 2 (warm: longest first, on workers started and collected after the first run)"
catalytic test "$work/suite" -n 2 --python "$py" --slowest 0 2>&1 | tail -n 8 || true
