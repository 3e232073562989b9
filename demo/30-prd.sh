#!/usr/bin/env bash
# prd: decompose a requirements document into a task graph, then re-run it incrementally.
set -euo pipefail
cd "$(dirname "$0")/.."
say() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
doc=demo/sample-prd.md
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

say "catalytic prd decompose $doc (cold: every section is decomposed)"
catalytic prd decompose "$doc" --document demo-recipes

say "catalytic prd graph (order, parallel levels, critical path)"
catalytic prd graph --document demo-recipes

say "catalytic prd next (dependencies done, then priority, fewest deps, position)"
catalytic prd next --document demo-recipes -n 3

first=$(catalytic --json prd next --document demo-recipes | python -c 'import json,sys; print(json.load(sys.stdin)["tasks"][0]["id"])')
say "catalytic prd status $first done"
catalytic prd status "$first" done --document demo-recipes
catalytic prd next --document demo-recipes

say "Edit one leaf section and decompose again (only that section and its ancestors are redone)"
sed 's/Let a user tick items off while shopping/Let a user tick items off while shopping, even offline/' "$doc" > "$work/edited.md"
catalytic --json prd decompose "$work/edited.md" --document demo-recipes > "$work/out.json"
python - "$work/out.json" "$first" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
s = r["stats"]
print(f"sections: {s['sections_total']} total, {s['sections_reused']} reused, "
      f"{s['sections_recomputed']} recomputed, {s['sections_placed']} placed anew, "
      f"{s['sections_shifted']} shifted")
print(f"{sys.argv[2]} is still:", [t["status"] for t in r["tasks"] if t["id"] == sys.argv[2]][0])
PY

say "catalytic prd diff (what changed between the two versions)"
catalytic prd diff "$doc" "$work/edited.md"

say "catalytic prd decompose --format mermaid (first lines)"
catalytic prd decompose "$work/edited.md" --document demo-recipes --format mermaid | head -12
