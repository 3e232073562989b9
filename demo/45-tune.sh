#!/usr/bin/env bash
# tune: record a workload while a client works (system.record), measure settings by
# replaying it through the workspace's own policies, and show the proposal's diff
# (a dry run of `catalytic config apply`: the demo changes no configuration file).
set -euo pipefail
cd "$(dirname "$0")/.."
say() { printf '\n\033[1m== %s\033[0m\n' "$*"; }

say "record a workload while a client works (system.record)"
python - <<'PY'
import random
from catalytic.client import Client

rng = random.Random(7)
weights = [1 / (k + 1) ** 1.2 for k in range(1000)]
with Client() as c:
    c.call("system.record", {"action": "start", "name": "demo-tune"})
    for k in rng.choices(range(1000), weights, k=2000):  # a hot set and a long tail
        key = f"demo-tune/{k}"
        if c.call("workspace.get", {"key": key}).get("data") is None:  # a miss is filled
            c.call("workspace.put", {"key": key, "data": rng.randbytes(8_000 + 32 * k)})
    out = c.call("system.record", {"action": "stop"})
    print(f"recorded {out['calls']} calls (method, key, bytes, latency; no payloads) to {out['path']}")
    for k in range(1000):
        c.call("workspace.delete", {"key": f"demo-tune/{k}"})
PY

say "catalytic tune demo-tune --budget 60 --memory-budget-mib 4 (a 4 MiB budget, so the memory tier matters)"
catalytic tune demo-tune --budget 60 --memory-budget-mib 4

say "catalytic config apply --dry-run --config <a scratch copy> (what apply would change)"
scratch=$(mktemp)
trap 'rm -f "$scratch"' EXIT
catalytic config apply --dry-run --config "$scratch"
