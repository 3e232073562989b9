"""prd benchmark: an edit through the socket vs the cold call; linear cold cost, incremental
edits in the engine, warm daemon vs one-shot, parallel speedup; the labelled set's scores.

Run: .venv/bin/python bench/prd.py [--quick] [--socket-only]
Everything is measured side by side in this one run. The headline is the socket: the
real client on a real daemon, a one-line edit of a ~10k-task document with `since`
(delta answer) and without (whole answer) against the cold call of the same size,
and the same edit at ~100k tasks. The last line is
`prd: delta_edit_speedup=.. whole_edit_speedup=.. edit_100k_vs_cold=.. edge_recall=..
edge_precision=.. task_recall=.. duplicate_ids=..` (the last four from `prd_eval.py`
over tests/data/prd/labelled; `n/a` when that set is absent).
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


def generate(tasks: int, salt: str = "") -> str:
    """Nested sections, lists with subtasks, requirement IDs and cross-references.

    A `salt` changes every section's text (nothing memoized for one text serves another)."""
    per_leaf = 10
    leaves = max(1, tasks // per_leaf)
    per_area = 10
    out = ["# Generated product\n"]
    n = 0
    for leaf in range(leaves):
        if leaf % per_area == 0:
            area = leaf // per_area
            out.append(f"## Area {area}\n\nArea {area} MUST be delivered as one piece{salt}.\n")
        out.append(f"### Feature {leaf}\n\nThe feature {leaf} SHOULD be fast{salt}.\n")
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
    print(f"  the same call after a leaf edit (whole answer): {min(edited) * 1000:.1f} ms "
          f"→ {cold / min(edited):.1f}×")
    return cold / warm


EDITED = "Implement step 4 of feature 7\n"


def socket_edits(n: int, repeat: int, edits_each: int = 5) -> dict[str, float]:
    """Through the real client on a fresh daemon (2 pool workers): the cold call (a new
    document whose every section is new to the memo, best of `repeat`) and a one-line
    edit answered as changes (`since`) and whole (no `since`), alternated, best of
    `edits_each`. Returns seconds, and what the delta answer held."""
    sys.path.insert(0, str(ROOT / "tests"))
    from daemon_process import DaemonProcess

    base = generate(n)
    assert EDITED in base
    d = DaemonProcess({"daemon": {"plugins": ["prd"], "workers": 2},
                       "prd": {"max_bytes": 64 << 20, "memo_max_bytes": 2 << 30}})
    d.start()
    try:
        with d.client(timeout=900) as c:
            cold = float("inf")
            for k in range(repeat):
                salted = generate(n, salt=f" (run {k})")
                t = time.perf_counter()
                r = c.call("prd.decompose", text=salted, document=f"cold-{k}")
                cold = min(cold, time.perf_counter() - t)
            tasks = len(r["tasks"])
            rev = c.call("prd.decompose", text=base, document="edited")["revision"]
            delta = whole = float("inf")
            held: dict[str, int] = {}
            for k in range(edits_each):
                text = base.replace(EDITED, f"Implement step 4 of feature 7 now {k}\n")
                t = time.perf_counter()
                r = c.call("prd.decompose", text=text, document="edited", since=rev)
                delta = min(delta, time.perf_counter() - t)
                assert r["since_current"] and "tasks" not in r
                held = {key: len(v) for key, v in r["changes"].items()}
                text = base.replace(EDITED, f"Implement step 4 of feature 7 again {k}\n")
                t = time.perf_counter()
                r = c.call("prd.decompose", text=text, document="edited")
                whole = min(whole, time.perf_counter() - t)
                rev = r["revision"]
    except Exception:
        print(d.log()[-3000:])
        raise
    finally:
        d.cleanup()
    print(f"  {tasks:>7} tasks ({len(base) / 1e6:.1f} MB): cold call {cold * 1000:8.1f} ms; "
          f"one-line edit with since {delta * 1000:7.1f} ms (→ {cold / delta:6.1f}×, "
          f"{delta / cold * 100:.1f}% of cold; answer held {held}), "
          f"without since {whole * 1000:7.1f} ms (→ {cold / whole:5.1f}×)")
    return {"cold": cold, "delta": delta, "whole": whole, "tasks": tasks}


def profile_edit(n: int) -> float:
    """The same one-line edit inside the service (the daemon's worker-thread part of the
    call), timed (best of 5) and then profiled, to see what the socket figure is made of.
    Returns the timed seconds."""
    import cProfile
    import pstats

    from catalytic.plugins.prd.service import PrdService

    base = generate(n)
    with tempfile.TemporaryDirectory() as tmp:
        svc = PrdService(Path(tmp), RuleDecomposer(), 2 << 30)
        rev = svc.decompose("p", base)["revision"]
        best = float("inf")
        for k in range(5):
            text = base.replace(EDITED, f"Implement step 4 of feature 7 now {k}\n")
            t = time.perf_counter()
            rev = svc.decompose("p", text, since=rev)["revision"]
            best = min(best, time.perf_counter() - t)
        prof = cProfile.Profile()
        prof.enable()
        svc.decompose("p", base, since=rev)
        prof.disable()
        print(f"  service part of the edit, in process: {best * 1000:.1f} ms (best of 5); "
              "profiled, by cumulative time:")
        pstats.Stats(prof).sort_stats("cumulative").print_stats(14)
        svc.close()
    return best


def labelled() -> dict[str, Any] | None:
    """The parsing scores over the labelled set (bench/prd_eval.py), or None without it."""
    try:
        from prd_eval import LABELLED, evaluate
    except ImportError:
        return None
    if not LABELLED.is_dir():
        return None
    return evaluate()


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
    ap.add_argument("--socket-only", action="store_true",
                    help="only the socket figures and the labelled set")
    ap.add_argument("--profile", action="store_true",
                    help="also profile the service part of a one-line edit (10k tasks)")
    args = ap.parse_args()
    sizes = [1000, 3000, 10000] if args.quick else [1000, 3000, 10000, 30000, 100000]
    repeat = 1 if args.quick else 3
    print("through the socket (real client, real daemon, 2 pool workers):")
    ten = socket_edits(10000, repeat)
    big = socket_edits(100000, 1, 3)
    if args.profile:
        service = profile_edit(10000)
        print(f"  the rest of the socket call (client, framing, dispatch, thread hops, reply): "
              f"about {(ten['delta'] - service) * 1000:.1f} ms of {ten['delta'] * 1000:.1f} ms")
    if not args.socket_only:
        engine(sizes, repeat)
    scores = labelled()
    if scores is None:
        print("labelled set: tests/data/prd/labelled or bench/prd_eval.py absent: n/a")
        tail = "edge_recall=n/a edge_precision=n/a task_recall=n/a duplicate_ids=n/a"
    else:
        print(f"labelled set: {scores['documents']} documents; task precision "
              f"{scores['task_precision']:.3f}; corpus checked for duplicates: "
              f"{scores['corpus_checked']}")
        tail = (f"edge_recall={scores['edge_recall']:.3f} "
                f"edge_precision={scores['edge_precision']:.3f} "
                f"task_recall={scores['task_recall']:.3f} "
                f"duplicate_ids={scores['duplicate_ids']}")
    print(f"prd: delta_edit_speedup={ten['cold'] / ten['delta']:.1f} "
          f"whole_edit_speedup={ten['cold'] / ten['whole']:.1f} "
          f"edit_100k_vs_cold={big['delta'] / big['cold']:.3f} {tail}")


def engine(sizes: list[int], repeat: int) -> None:
    """The engine alone, and the daemon against a one-shot process."""
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
    print(f"prd engine: linear_r2={r2:.4f} edit_speedup={edit:.1f} warm_vs_cold={wvc:.1f} "
          f"parallel_speedup={par:.2f}")

if __name__ == "__main__":
    main()
