#!/usr/bin/env bash
# evolve: a short ZDT1 study over the socket (with its hypervolume) and a client-side
# ask/tell loop.
set -euo pipefail
cd "$(dirname "$0")/.."
say() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

say "catalytic evolve run zdt1 --generations 60 --population 100 --seed 1 (islands on the process pool)"
catalytic --json evolve run zdt1 --generations 60 --population 100 --seed 1 > "$work/run.json"
study=$(python - "$work/run.json" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
print(f"hypervolume {r['hypervolume']:.4f} (true front: 0.8767, ratio {r['hypervolume'] / 0.876667:.3f}), "
      f"{r['evaluations']} evaluations on {r['islands']} island(s), {len(r['pareto'])} points",
      file=sys.stderr)
print(r["study"])
PY
)
say "catalytic evolve status $study"
catalytic evolve status "$study"
say "catalytic evolve pareto $study --plot front.svg (first rows)"
catalytic evolve pareto "$study" --plot "$work/front.svg" > "$work/front.txt"
head -8 "$work/front.txt"
echo "... plot written ($(wc -c < "$work/front.svg") bytes of SVG)"

say "ask/tell from Python: the client evaluates, the daemon evolves (a 2-gene toy)"
python - <<'PY'
from catalytic.client import Client
from catalytic.plugins.evolve.study_client import Study

with Client() as c:
    study = Study.create(c, genes=[{"name": "x", "type": "real", "low": -5, "high": 5},
                                   {"name": "layers", "type": "int", "low": 1, "high": 8}],
                         objectives=[{"name": "loss"}], population=20, seed=1,
                         termination={"evaluations": 400})
    best = study.optimize(lambda g: (g["x"] - 1.5) ** 2 + abs(g["layers"] - 3), batch=10)
    print("best after 400 evaluations:", best["genes"], "loss %.5f" % best["values"][0])
    c.call("evolve.delete", {"study": study.id})
PY
