"""prd benchmark: linear cold cost, incremental edits, warm daemon vs one-shot, parallel speedup.

Run: .venv/bin/python bench/prd.py [--quick]
Everything is measured side by side in this one run; the last line is
`prd: linear_r2=.. edit_speedup=.. warm_vs_cold=.. parallel_speedup=..`.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np
from prd_parallel import autogroup, parallel

from catalytic.plugins.prd.assemble import AssemblyCache
from catalytic.plugins.prd.engine import decompose
from catalytic.plugins.prd.memo import Memo
from catalytic.plugins.prd.rules import RuleDecomposer

ROOT = Path(__file__).resolve().parents[1]
CORPUS = ROOT.parent / "shared" / "corpus" / "prd"


def generate(tasks: int) -> str:
    """Nested sections, lists with subtasks, requirement IDs and cross-references."""
    per_leaf = 10
    leaves = max(1, tasks // per_leaf)
    per_area = 10
    out = ["# Generated product\n"]
    n = 0
    for leaf in range(leaves):
        if leaf % per_area == 0:
            area = leaf // per_area
            out.append(f"## Area {area}\n\nArea {area} MUST be delivered as one piece.\n")
        out.append(f"### Feature {leaf}\n\nThe feature {leaf} SHOULD be fast.\n")
        for i in range(per_leaf - 2):
            n += 1
            ref = f", depends on FR-{n - 3}" if i % 3 == 2 and n > 3 else ""
            out.append(f"- FR-{n} Implement step {i} of feature {leaf}{ref}")
        out.append(f"  - Write tests for step {per_leaf - 3} of feature {leaf}\n")
    return "\n".join(out)


def timed(fn: Any, repeat: int = 1) -> float:
    best = float("inf")
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t)
    return best


def linear(sizes: list[int], repeat: int) -> tuple[float, float, float, float]:
    """Best wall and CPU time per size (best of `repeat`, more for small sizes, so each
    size gets a few seconds of tries); R² of a line and per-task cost ratio."""
    wall: dict[int, float] = {}
    cpu: dict[int, float] = {}
    counts: dict[int, int] = {}
    for n in sizes:
        text = generate(n)
        counts[n] = len(decompose(text, RuleDecomposer()).tasks)
        wall[n] = cpu[n] = float("inf")
        for _ in range(max(repeat, 30000 // n)):  # small sizes are cheap: more tries
            t, c = time.perf_counter(), time.process_time()
            decompose(text, RuleDecomposer())
            wall[n] = min(wall[n], time.perf_counter() - t)
            cpu[n] = min(cpu[n], time.process_time() - c)
        print(f"  cold {counts[n]:>7} tasks: {wall[n] * 1000:9.1f} ms wall "
              f"({wall[n] / counts[n] * 1e6:6.1f} µs/task), {cpu[n] * 1000:9.1f} ms CPU "
              f"({cpu[n] / counts[n] * 1e6:6.1f} µs/task)")
    x = np.array([counts[n] for n in sizes], float)
    out: list[float] = []
    for times in (wall, cpu):
        y = np.array([times[n] for n in sizes])
        slope, icept = np.polyfit(x, y, 1)
        out.append(float(1 - ((y - (slope * x + icept)) ** 2).sum() / ((y - y.mean()) ** 2).sum()))
        per = {n: times[n] / counts[n] for n in sizes}
        out.append(per[sizes[-1]] / per[sizes[0]])
    return out[0], out[1], out[2], out[3]


def edits(n: int, repeat: int) -> tuple[float, float, dict[str, Any]]:
    text = generate(n)
    cold = timed(lambda: decompose(text, RuleDecomposer(), Memo(None, 1 << 30)), repeat)
    memo, cache = Memo(None, 1 << 30), AssemblyCache()
    base = decompose(text, RuleDecomposer(), memo, cache=cache)
    leaf = text.replace("Implement step 4 of feature 7\n", "Implement step 4 of feature 7 now\n")
    assert leaf != text
    warm = []
    for k in range(repeat):
        variant = leaf.replace("now", f"now{k}")
        t = time.perf_counter()
        r = decompose(variant, RuleDecomposer(), memo, cache=cache)
        warm.append(time.perf_counter() - t)
    leaf_stats = r.stats
    head = text.replace("## Area 3\n", "## Area three\n")
    t = time.perf_counter()
    h = decompose(head, RuleDecomposer(), memo, cache=cache)
    head_time = time.perf_counter() - t
    print(f"  10k doc ({len(base.tasks)} tasks, {base.stats['sections_total']} sections): "
          f"cold {cold * 1000:.1f} ms; leaf edit {min(warm) * 1000:.1f} ms "
          f"(recomputed {leaf_stats['sections_recomputed']}, placed "
          f"{leaf_stats['sections_placed']}, shifted {leaf_stats['sections_shifted']}) "
          f"→ {cold / min(warm):.1f}×")
    print(f"  top-level heading edit: {head_time * 1000:.1f} ms, recomputed "
          f"{h.stats['sections_recomputed']} of {h.stats['sections_total']} sections, placed "
          f"{h.stats['sections_placed']} "
          f"→ {cold / head_time:.1f}×")
    shift = head.replace("Area 0 MUST be delivered as one piece.\n",
                         "Area 0 MUST be delivered as one piece.\nIt SHOULD be small.\n")
    t = time.perf_counter()
    m = decompose(shift, RuleDecomposer(), memo, cache=cache)
    shift_time = time.perf_counter() - t
    print(f"  line inserted near the top: {shift_time * 1000:.1f} ms, recomputed "
          f"{m.stats['sections_recomputed']}, placed {m.stats['sections_placed']}, shifted "
          f"{m.stats['sections_shifted']} (every later section moves) → {cold / shift_time:.1f}×")
    return cold / min(warm), cold / head_time, {"leaf": leaf_stats, "heading": h.stats}


def warm_vs_cold(n: int, repeat: int) -> float:
    """A call to a warm daemon vs a fresh process that imports and decomposes the same file."""
    sys.path.insert(0, str(ROOT / "tests"))
    from daemon_process import DaemonProcess

    text = generate(n)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "doc.md"
        path.write_text(text)
        code = ("import sys; from catalytic.plugins.prd.engine import decompose; "
                "from catalytic.plugins.prd.rules import RuleDecomposer; "
                "decompose(open(sys.argv[1]).read(), RuleDecomposer())")
        cold = timed(lambda: subprocess.run([sys.executable, "-c", code, str(path)], check=True),
                     repeat)
        d = DaemonProcess({"daemon": {"plugins": ["prd"]}})
        d.start()
        try:
            with d.client() as c:
                c.call("prd.decompose", text=text, document="bench")
                warm = timed(lambda: c.call("prd.decompose", text=text, document="bench"),
                             repeat)
                edited = []
                for k in range(repeat):
                    variant = text.replace("Implement step 4 of feature 7\n",
                                           f"Implement step 4 of feature 7 now{k}\n")
                    edited.append(timed(lambda v=variant: c.call(
                        "prd.decompose", text=v, document="bench"), 1))
        finally:
            d.cleanup()
    print(f"  one-shot process {cold * 1000:.0f} ms vs warm daemon call {warm * 1000:.1f} ms "
          f"→ {cold / warm:.1f}×")
    print(f"  the same call after a leaf edit (the whole answer, 11k tasks, is still built, "
          f"stored and sent): {min(edited) * 1000:.1f} ms → {cold / min(edited):.1f}×")
    return cold / warm


def corpus() -> None:
    if not CORPUS.is_dir():
        print(f"  corpus not found at {CORPUS} (it sits beside the repository): skipped")
        return
    for path in sorted(CORPUS.iterdir()):
        if path.name == "SOURCES.txt":
            continue
        text = path.read_bytes().decode("utf-8", "replace")
        t = time.perf_counter()
        d = decompose(text, RuleDecomposer())
        dt = time.perf_counter() - t
        edges = sum(len(x["dependencies"]) for x in d.tasks)
        print(f"  {path.name[:64]:64} {len(d.tasks):5} tasks {edges:4} edges "
              f"{dt * 1000:7.1f} ms")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true", help="smaller sizes, one repeat")
    args = ap.parse_args()
    sizes = [1000, 3000, 10000] if args.quick else [1000, 3000, 10000, 30000, 100000]
    repeat = 1 if args.quick else 3
    print("cold decomposition vs size (no memo):")
    r2, per_ratio, r2_cpu, per_cpu = linear(sizes, repeat)
    print(f"  linear fit, wall: R² = {r2:.4f}; per-task cost at {sizes[-1]} / at {sizes[0]} = "
          f"{per_ratio:.2f}")
    print(f"  linear fit, CPU:  R² = {r2_cpu:.4f}; per-task cost at {sizes[-1]} / at {sizes[0]} = "
          f"{per_cpu:.2f}")
    print("incremental re-decomposition:")
    edit, _head, _ = edits(10000, repeat)
    print("warm daemon vs cold process (10k tasks):")
    wvc = warm_vs_cold(10000, repeat)
    print(f"parallel decomposition (2 workers, chunked) vs sequential, best of {repeat}, "
          f"interleaved; autogroup scheduling {autogroup()}:")
    runs = parallel([100, 300, *sizes], repeat, generate)
    par = runs[sizes[-1]]["seq"] / runs[sizes[-1]]["par"]
    for label, a, b in (("wall clock", "seq", "par"), ("CPU critical path", "seq_cpu", "par_cpu")):
        pays = next((int(r["sections"]) for _, r in sorted(runs.items()) if r[a] / r[b] > 1.1),
                    None)
        print(f"  by {label}: parallelism pays (>1.1×) from about {pays} sections" if pays else
              f"  by {label}: parallelism did not pay at any measured size")
    print("corpus documents:")
    corpus()
    print(f"prd: linear_r2={r2:.4f} edit_speedup={edit:.1f} warm_vs_cold={wvc:.1f} "
          f"parallel_speedup={par:.2f}")



if __name__ == "__main__":
    main()
