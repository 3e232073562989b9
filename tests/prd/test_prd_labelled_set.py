"""The labelled evaluation set (tests/data/prd/labelled) meets its targets.

A correctness test, not a timed one: task recall, edge recall and precision
over the hand-labelled documents, every unresolved reference the labels name
reported, and no duplicate ID on any labelled document (nor on the shared corpus
when it is present next to the repository).
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

import pytest

ROOT = Path(__file__).resolve().parents[2]
LABELLED = ROOT / "tests" / "data" / "prd" / "labelled"


def _prd_eval() -> ModuleType:
    spec = importlib.util.spec_from_file_location("prd_eval", ROOT / "bench" / "prd_eval.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules.setdefault("prd_eval", module)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def result() -> dict:
    return _prd_eval().evaluate(LABELLED)


def test_the_set_is_large_and_varied_enough(result: dict) -> None:
    docs = result["per_document"]
    assert len(docs) >= 25
    assert len(result["held_out"]) >= 5
    styles = {p.name.split("_")[0] for p in LABELLED.iterdir() if p.suffix in (".md", ".txt")}
    assert {"md", "txt", "ears", "stories", "speckit", "kiro"} <= styles


def test_targets_over_the_labelled_set(result: dict) -> None:
    misses = {d["name"]: (d["missed_tasks"], d["missed_edges"], d["wrong_edges"])
              for d in result["per_document"]
              if d["missed_tasks"] or d["missed_edges"] or d["wrong_edges"]}
    assert result["task_recall"] >= 0.95, misses
    assert result["edge_recall"] >= 0.95, misses
    assert result["edge_precision"] >= 0.95, misses
    assert result["unresolved_reported"] == 1.0


def test_no_duplicate_ids_anywhere(result: dict) -> None:
    assert result["duplicate_ids"] == 0, {d["name"]: d["duplicate_ids"]
                                          for d in result["per_document"] if d["duplicate_ids"]}
    assert not any(result["corpus_duplicate_ids"].values())


def test_held_out_documents_alone_meet_the_targets() -> None:
    held = _prd_eval().evaluate(LABELLED, corpus_dir=None, held_out=True)
    assert held["documents"] >= 5
    assert held["task_recall"] >= 0.95 and held["edge_recall"] >= 0.95
    assert held["edge_precision"] >= 0.9
