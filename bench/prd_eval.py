"""Precision and recall of task detection and dependency edges over the labelled PRD set.

Each document in `tests/data/prd/labelled/` has a `<name>.labels.json` beside it,
written by reading the document (see the README there for the format and the
matching rule). Also counts duplicate task IDs over the labelled set and, when
present, over `../shared/corpus/prd` (a clone without it says so).

Run: .venv/bin/python bench/prd_eval.py [--held-out-only | --tuning-only] [-v] [--corpus DIR]
The last line is `prd_eval: edge_recall=.. edge_precision=.. task_recall=..
task_precision=.. duplicate_ids=..`.
"""

from __future__ import annotations

import argparse
import json
import re
from collections import Counter
from pathlib import Path
from typing import Any

from catalytic.plugins.prd.engine import decompose
from catalytic.plugins.prd.rules import RuleDecomposer

ROOT = Path(__file__).resolve().parents[1]
LABELLED = ROOT / "tests" / "data" / "prd" / "labelled"
CORPUS = ROOT.parent / "shared" / "corpus" / "prd"
SUFFIXES = (".md", ".txt")


def norm(text: str) -> str:
    """Lower case, markup and punctuation folded to single spaces (titles are compared so)."""
    return " ".join(re.findall(r"[a-z0-9]+", text.lower()))


def matches(label: dict[str, Any], task: dict[str, Any]) -> bool:
    """A task matches a label by its first line when the label gives one, else by title.

    By title: the task's normalised title starts with the label's, or the label
    is one of the requirement IDs the task declares.
    """
    if label.get("line") is not None:
        return bool(task["lines"][0] == label["line"])
    want = norm(label["title"])
    if norm(task["title"]).startswith(want):
        return True
    return any(norm(r) == want for r in task.get("requirement_ids", ()))


def documents(directory: Path) -> list[Path]:
    return sorted(p for p in directory.iterdir()
                  if p.suffix in SUFFIXES and p.with_suffix(".labels.json").exists())


def duplicates(tasks: list[dict[str, Any]]) -> int:
    return sum(n - 1 for n in Counter(t["id"] for t in tasks).values() if n > 1)


def score_document(path: Path) -> dict[str, Any]:
    """Counts for one labelled document, and what was missed or wrongly found."""
    spec = json.loads(path.with_suffix(".labels.json").read_text())
    labels = [t if isinstance(t, dict) else {"title": t} for t in spec["tasks"]]
    result = decompose(path.read_text(), RuleDecomposer())
    tasks = result.tasks
    owner: dict[str, int] = {}
    for k, label in enumerate(labels):
        hit = next((t for t in tasks if t["id"] not in owner and matches(label, t)), None)
        if hit is not None:
            owner[hit["id"]] = k
    by_title: dict[str, int] = {}
    for k, label in enumerate(labels):
        by_title.setdefault(label["title"], k)
    want = {(by_title[a], by_title[b]) for a, b in spec["edges"]}
    parent = {t["id"]: t["parent"] for t in tasks}

    def source(tid: str) -> str:
        """An unlabelled task's edge counts for its nearest labelled ancestor (the
        requirement sentence under a labelled heading speaks for that heading)."""
        cur: str | None = tid
        while cur is not None and cur not in owner:
            cur = parent.get(cur)
        return cur if cur is not None else tid

    found = [(source(t["id"]), d) for t in tasks for d in t["dependencies"]]
    got = {(owner[a], owner[b]) for a, b in found if a in owner and b in owner}
    missing_refs = " ".join(str(m.get("ref", "")) for m in result.problems.get("missing", []))
    unresolved = spec.get("unresolved", [])
    return {
        "name": path.name, "held_out": bool(spec.get("held_out")),
        "labels": len(labels), "matched": len(owner), "tasks": len(tasks),
        "edges": len(want), "edges_found": len(found), "edges_right": len(want & got),
        "unresolved": len(unresolved),
        "unresolved_reported": sum(1 for u in unresolved if u in missing_refs),
        "duplicate_ids": duplicates(tasks),
        "missed_tasks": [labels[k]["title"] for k in range(len(labels))
                         if k not in owner.values()],
        "missed_edges": [(labels[a]["title"], labels[b]["title"]) for a, b in want - got],
        "wrong_edges": [(a, b) for a, b in found
                        if not (a in owner and b in owner and (owner[a], owner[b]) in want)],
    }


def _ratio(num: int, den: int) -> float:
    return num / den if den else 1.0


def evaluate(labelled_dir: Path = LABELLED, corpus_dir: Path | None = CORPUS,
             held_out: bool | None = None) -> dict[str, Any]:
    """Totals over the labelled set (optionally only the held-out or tuning documents)."""
    docs = [score_document(p) for p in documents(labelled_dir)]
    if held_out is not None:
        docs = [d for d in docs if d["held_out"] == held_out]
    corpus_dups: dict[str, int] = {}
    if corpus_dir is not None and corpus_dir.is_dir():
        for p in sorted(corpus_dir.iterdir()):
            if p.suffix in SUFFIXES and p.name != "SOURCES.txt":
                corpus_dups[p.name] = duplicates(decompose(p.read_text(), RuleDecomposer()).tasks)
    total = {k: sum(d[k] for d in docs) for k in
             ("labels", "matched", "tasks", "edges", "edges_found", "edges_right",
              "unresolved", "unresolved_reported", "duplicate_ids")}
    return {
        "documents": len(docs),
        "held_out": [d["name"] for d in docs if d["held_out"]],
        "task_recall": _ratio(total["matched"], total["labels"]),
        "task_precision": _ratio(total["matched"], total["tasks"]),
        "edge_recall": _ratio(total["edges_right"], total["edges"]),
        "edge_precision": _ratio(total["edges_right"], total["edges_found"]),
        "unresolved_reported": _ratio(total["unresolved_reported"], total["unresolved"]),
        "duplicate_ids": total["duplicate_ids"] + sum(corpus_dups.values()),
        "corpus_checked": corpus_dir is not None and corpus_dir.is_dir(),
        "corpus_duplicate_ids": corpus_dups,
        "totals": total,
        "per_document": docs,
    }


def summary_line(res: dict[str, Any]) -> str:
    return (f"prd_eval: edge_recall={res['edge_recall']:.3f} "
            f"edge_precision={res['edge_precision']:.3f} task_recall={res['task_recall']:.3f} "
            f"task_precision={res['task_precision']:.3f} duplicate_ids={res['duplicate_ids']}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--held-out-only", action="store_true", help="only the held-out documents")
    ap.add_argument("--tuning-only", action="store_true", help="only the tuning documents")
    ap.add_argument("-v", "--verbose", action="store_true", help="misses per document")
    ap.add_argument("--corpus", type=Path, default=CORPUS,
                    help="documents checked for duplicate IDs (default: ../shared/corpus/prd)")
    args = ap.parse_args()
    which = True if args.held_out_only else False if args.tuning_only else None
    res = evaluate(corpus_dir=args.corpus, held_out=which)
    for d in res["per_document"]:
        print(f"{d['name']:48s} tasks {d['matched']}/{d['labels']} (found {d['tasks']}) "
              f"edges {d['edges_right']}/{d['edges']} (found {d['edges_found']}) "
              f"dup {d['duplicate_ids']}")
        if args.verbose:
            for key in ("missed_tasks", "missed_edges", "wrong_edges"):
                if d[key]:
                    print(f"    {key}: {d[key]}")
    print(f"documents: {res['documents']}; held out: {', '.join(res['held_out']) or '-'}")
    if res["corpus_checked"]:
        bad = {k: v for k, v in res["corpus_duplicate_ids"].items() if v}
        print(f"corpus: {len(res['corpus_duplicate_ids'])} documents, duplicate ids: {bad or 0}")
    else:
        print(f"corpus: {args.corpus} is absent; "
              "duplicate ids counted on the labelled set only")
    print(f"unresolved references reported: {res['unresolved_reported']:.3f}")
    print(summary_line(res))


if __name__ == "__main__":
    main()
