"""Merkle memo, stable IDs, status carry-over, graph, parallel = sequential, exports."""

from __future__ import annotations

import json
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

from catalytic.daemon.store import open_store
from catalytic.plugins.prd.engine import decompose
from catalytic.plugins.prd.export import import_taskmaster, to_mermaid, to_taskmaster
from catalytic.plugins.prd.graph import analyse, next_tasks
from catalytic.plugins.prd.memo import MIGRATIONS as MEMO_MIGRATIONS
from catalytic.plugins.prd.memo import Memo
from catalytic.plugins.prd.rules import RuleDecomposer
from catalytic.plugins.prd.service import PrdService

DATA = Path(__file__).resolve().parents[1] / "data" / "prd"
SAMPLE = (DATA / "taskmaster__tests_fixtures_sample-prd.txt").read_text()


def doc(n: int, extra: str = "") -> str:
    parts = ["# Product\n"]
    for s in range(n):
        parts.append(f"## Area {s}\n\nArea {s} MUST work.\n")
        for f in range(3):
            parts.append(f"### Feature {s}.{f}\n")
            parts += [f"- Build part {i} of feature {s}.{f}" for i in range(4)]
            parts.append("")
    return "\n".join(parts) + extra


def ids(tasks: list[dict[str, Any]]) -> set[str]:
    return {t["id"] for t in tasks}


def test_editing_one_leaf_recomputes_only_it_and_keeps_every_id() -> None:
    memo = Memo(None, 1 << 26)
    text = doc(10)
    cold = decompose(text, RuleDecomposer(), memo)
    assert cold.stats["sections_recomputed"] == cold.stats["sections_total"]
    edited = text.replace("- Build part 2 of feature 4.1", "- Build part 2 of feature 4.1 fast")
    warm = decompose(edited, RuleDecomposer(), memo)
    # the leaf and at most its ancestors (Area 4, the title, the root) are redone
    assert 1 <= warm.stats["sections_recomputed"] <= 4
    assert warm.stats["sections_reused"] >= warm.stats["sections_total"] - 4
    assert ids(warm.tasks) == ids(cold.tasks)
    assert warm.tasks == decompose(edited, RuleDecomposer()).tasks


def test_inserting_a_section_renumbers_nothing_else() -> None:
    text = doc(4)
    before = decompose(text, RuleDecomposer()).tasks
    inserted = text.replace("## Area 2\n", "## Brand new area\n\n- Something new\n\n## Area 2\n")
    after = decompose(inserted, RuleDecomposer()).tasks
    assert ids(before) <= ids(after)
    assert ids(after) - ids(before) == {"brand-new-area", "brand-new-area/something-new"}
    old = {t["id"]: t["lines"][0] for t in before}
    moved = [t for t in after if t["id"] in old and t["lines"][0] != old[t["id"]]]
    assert moved and all(t["lines"][0] == old[t["id"]] + 4 for t in moved)


def test_same_slug_siblings_are_numbered_by_position() -> None:
    tasks = decompose("## Setup\n- a\n## Setup\n- b\n", RuleDecomposer()).tasks
    assert [t["id"] for t in tasks] == ["setup", "setup/a", "setup-2", "setup-2/b"]


def test_status_is_carried_by_id_and_rematched_by_content_after_rename(tmp_path: Path) -> None:
    svc = PrdService(tmp_path, RuleDecomposer(), 1 << 26)
    svc.decompose("d", SAMPLE)
    svc.status("d", "core-features/url-redirection", "done")
    svc.status("d", "logical-dependency-chain/short-code-generation-logic", "in-progress")
    edited = SAMPLE.replace("Future Enhancements:", "Later Enhancements:").replace(
        "# Logical Dependency Chain", "# Build Order")
    r = svc.decompose("d", edited)
    status = {t["id"]: t["status"] for t in r["tasks"]}
    assert status["core-features/url-redirection"] == "done"
    assert status["build-order/short-code-generation-logic"] == "in-progress"
    assert {"from": "logical-dependency-chain/short-code-generation-logic",
            "to": "build-order/short-code-generation-logic"} in r["moved"]
    svc.close()


def test_cycles_are_reported_by_name_and_never_offered() -> None:
    text = ("## Work\n\n- Alpha task, depends on [beta]\n- beta: second step, requires [gamma]\n"
            "- gamma: third step, blocked by [alpha task]\n- Delta task standing alone\n"
            "- Epsilon, depends on FR-404\n")
    d = decompose(text, RuleDecomposer())
    g = analyse(d.tasks)
    assert not g["valid"]
    names = {c["title"] for comp in g["cycles"] for c in comp}
    assert any(n.startswith("Alpha") for n in names) and any(n.startswith("gamma") for n in names)
    assert d.problems["missing"] == [{"task": "work/epsilon-depends-on-fr-404", "ref": "FR-404"}]
    nxt = next_tasks(d.tasks, {}, 10)
    assert [t["title"] for t in nxt][:1] == ["Delta task standing alone"]
    assert not any(t["title"].startswith(("Alpha", "beta", "gamma")) for t in nxt)


def test_graph_order_levels_critical_path_and_next() -> None:
    tasks = decompose(SAMPLE, RuleDecomposer()).tasks
    g = analyse(tasks)
    pos = {t: i for i, t in enumerate(g["order"])}
    for t in tasks:
        for d in t["dependencies"]:
            assert pos[d] < pos[t["id"]]
    assert sum(len(level) for level in g["levels"]) == len(tasks)
    chain = g["critical_path"]
    assert "logical-dependency-chain/frontend-display-logic" in chain
    status = {t["id"]: "done" for t in tasks if t["id"].startswith("core-features/")}
    first = next_tasks(tasks, status)[0]
    assert first["id"] == "core-features"  # its children are done: the epic is next


def test_parallel_decomposition_is_identical_to_sequential() -> None:
    text = doc(12) + "\n" + SAMPLE
    seq = decompose(text, RuleDecomposer(), Memo(None, 1 << 26))
    with ProcessPoolExecutor(2) as pool:
        par = decompose(text, RuleDecomposer(), Memo(None, 1 << 26),
                        parallel_map=lambda fn, items: list(pool.map(fn, items)),
                        parallel_min_sections=1)
    assert par.tasks == seq.tasks and par.problems == seq.problems


def test_memo_is_bounded_by_bytes_and_persisted(tmp_path: Path) -> None:
    small = Memo(open_store(tmp_path / "m.sqlite", MEMO_MIGRATIONS), 20_000)
    decompose(doc(20), RuleDecomposer(), small)
    assert small.bytes <= 20_000 and small.evictions > 0
    small.close()
    again = Memo(open_store(tmp_path / "m.sqlite", MEMO_MIGRATIONS), 1 << 26)
    d = decompose(doc(20), RuleDecomposer(), again)
    assert d.stats["sections_recomputed"] == 0
    assert again.stats()["disk_hits"] == d.stats["sections_total"]


def test_decomposer_version_is_part_of_the_key() -> None:
    memo = Memo(None, 1 << 26)
    decompose(SAMPLE, RuleDecomposer(), memo)
    d = decompose(SAMPLE, RuleDecomposer(max_title=40), memo)
    assert d.stats["sections_reused"] == 0


def test_taskmaster_export_matches_its_schema_and_imports_back() -> None:
    tasks = decompose(SAMPLE, RuleDecomposer()).tasks
    data = json.loads(json.dumps(to_taskmaster(tasks, {"core-features/url-redirection": "done"})))
    section = data["master"]
    assert set(section["metadata"]) >= {"created", "updated", "description"}
    top_ids = [t["id"] for t in section["tasks"]]
    assert top_ids == list(range(1, len(top_ids) + 1))
    for t in section["tasks"]:
        assert set(t) == {"id", "title", "description", "details", "testStrategy", "priority",
                          "dependencies", "status", "subtasks"}
        assert t["title"] and t["priority"] in ("high", "medium", "low")
        assert t["status"] in ("pending", "in-progress", "done", "review", "deferred",
                               "cancelled", "blocked")
        assert all(isinstance(d, int) and d in top_ids and d != t["id"]
                   for d in t["dependencies"])
        sub_ids = [s["id"] for s in t["subtasks"]]
        assert sub_ids == list(range(1, len(sub_ids) + 1))
        for s in t["subtasks"]:
            assert all(isinstance(d, int) and d in sub_ids for d in s["dependencies"])
    chain = next(t for t in section["tasks"] if t["title"] == "Logical Dependency Chain")
    assert any(s["dependencies"] for s in chain["subtasks"])
    data["master"]["tasks"][0]["status"] = "in-progress"
    found, unmatched = import_taskmaster(data, tasks)
    assert found["core-features/url-redirection"] == "done"
    assert found["core-features"] == "in-progress" and unmatched == []


def test_mermaid_has_an_edge_per_dependency() -> None:
    tasks = decompose(SAMPLE, RuleDecomposer()).tasks
    text = to_mermaid(tasks, {})
    assert text.startswith("flowchart TD")
    assert text.count(" --> ") == sum(len(t["dependencies"]) for t in tasks)


def test_diff_reports_added_removed_changed_moved_kept(tmp_path: Path) -> None:
    svc = PrdService(tmp_path, RuleDecomposer(), 1 << 26)
    new = SAMPLE.replace("Basic Persistence:", "Durable Persistence:").replace(
        "3.  Backend Storage Module (in-memory first).", "3.  Backend Storage Module (SQLite).")
    new += "\n# Extra\n- One more thing\n"
    d = svc.diff_texts(SAMPLE, new)
    # a task whose first words change is a new task (its slug is its ID)
    assert set(d["added"]) == {"extra", "extra/one-more-thing", "core-features/durable-persistence",
                               "logical-dependency-chain/backend-storage-module-sqlite"}
    assert "core-features/basic-persistence" in d["removed"]
    assert {c["id"] for c in d["changed"]} >= {"core-features"}
    assert d["summary"]["kept"] > 20
    svc.close()
