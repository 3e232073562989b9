#!/usr/bin/env bash
# The monitor: a baseline, a report against it, a short profile, and the dashboard URL.
set -euo pipefail
say() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
say "catalytic monitor baseline save demo (snapshot of every metric)"
catalytic monitor baseline save demo
catalytic ping -c 500 >/dev/null
sleep 2
say "catalytic monitor report --baseline demo --match system.ping (+ = better)"
catalytic monitor report --baseline demo --match system.ping
say "catalytic monitor profile 2 --top 5 (cProfile of the event loop)"
catalytic monitor profile 2 --top 5
say "catalytic dashboard (live charts; Prometheus at /metrics, health at /healthz)"
catalytic dashboard --no-open
