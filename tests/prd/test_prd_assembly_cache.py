"""Incremental placement: a re-decomposition through an AssemblyCache equals a cold one."""

from __future__ import annotations

import copy
from pathlib import Path

from catalytic.plugins.prd.assemble import AssemblyCache
from catalytic.plugins.prd.engine import Decomposition, decompose
from catalytic.plugins.prd.memo import Memo
from catalytic.plugins.prd.rules import RuleDecomposer

DATA = Path(__file__).resolve().parents[1] / "data" / "prd"
SAMPLE = (DATA / "taskmaster__tests_fixtures_sample-prd.txt").read_text()


def doc(n: int) -> str:
    parts = ["# Product\n"]
    for s in range(n):
        parts.append(f"## Area {s}\n\nArea {s} MUST work.\n")
        for f in range(3):
            parts.append(f"### Feature {s}.{f}\n")
            parts += [f"- FR-{s}{f}{i} Build part {i} of feature {s}.{f}"
                      + (f", depends on FR-{s}{f}{i - 1}" if i else "") for i in range(4)]
            parts.append("")
    parts.append("## Integration\n\n- Wire everything together, depends on FR-300\n")
    return "\n".join(parts)


def same(warm: Decomposition, text: str) -> None:
    cold = decompose(text, RuleDecomposer())
    assert len(warm.tasks) == len(cold.tasks)
    for a, b in zip(warm.tasks, cold.tasks, strict=True):
        assert a == b
    assert warm.problems == cold.problems


def test_every_edit_through_the_cache_equals_a_cold_decomposition() -> None:
    memo, cache = Memo(None, 1 << 26), AssemblyCache()
    text = doc(6) + "\n" + SAMPLE
    first = decompose(text, RuleDecomposer(), memo, cache=cache)
    kept = [(first.tasks, copy.deepcopy(first.tasks))]
    edits = [
        # a typo in one leaf: only its path to the root is placed again, nothing moves
        ("Build part 2 of feature 3.1", "Build part 2 of feature 3.1 quickly"),
        # in place, no line moves: FR-510 is now declared first in Area 0, so the
        # untouched Area 5 task that depends on it must point there (a copy, not a change)
        ("- FR-000 Build part 0", "- FR-510 Build part 0"),
        # in place: the target of the untouched Integration task disappears
        ("- FR-300 Build part 0", "- FR-399 Build part 0"),
        # a line inserted near the top: every later section moves
        ("Area 0 MUST work.\n", "Area 0 MUST work.\nIt SHOULD be small.\n"),
        # a new line declares an ID that wins resolution for tasks far away
        ("- FR-001 Build part 1", "- FR-421 shadow task\n- FR-001 Build part 1"),
        # a dependency target disappears: reported missing, dependants change
        ("- FR-421 Build part 1 of feature 4.2, depends on FR-420\n", ""),
        # a heading rename re-places that subtree under new IDs
        ("## Area 2\n", "## Region two\n"),
        # an ordering section of the sample gets a new phase
        ("# Logical Dependency Chain", "# Logical Dependency Chain\n- Prepare the ground"),
    ]
    for old, new in edits:
        assert old in text
        before = {t["id"]: t for t in decompose(text, RuleDecomposer()).tasks}
        text = text.replace(old, new, 1)
        warm = decompose(text, RuleDecomposer(), memo, cache=cache)
        same(warm, text)
        after = {t["id"]: t for t in warm.tasks}
        if old.startswith("- FR-000"):
            far = "product/area-5/feature-5-1/fr-511"
            assert before[far]["dependencies"] == ["product/area-5/feature-5-1/fr-510"]
            assert after[far]["dependencies"] == ["product/area-0/feature-0-0/fr-510"]
        if old.startswith("- FR-300"):
            wire = "product/integration/wire-everything-together-depends-on-fr"
            assert before[wire]["dependencies"] and not after[wire]["dependencies"]
            assert {"task": wire, "ref": "FR-300"} in warm.problems["missing"]
        kept.append((warm.tasks, copy.deepcopy(warm.tasks)))
        if old.startswith("Build part 2"):
            # the leaf and its ancestors (Area 3, Product, the root): O(depth)
            assert warm.stats["sections_placed"] <= 4
            assert warm.stats["sections_shifted"] == 0
        if old.startswith("Area 0"):
            assert warm.stats["sections_shifted"] > warm.stats["sections_total"] // 2
            assert warm.stats["sections_placed"] <= 3
    # results handed out earlier were never changed behind the caller's back
    for live, snapshot in kept:
        assert live == snapshot


def test_undoing_an_edit_gives_back_the_original_tasks() -> None:
    memo, cache = Memo(None, 1 << 26), AssemblyCache()
    text = doc(4)
    before = decompose(text, RuleDecomposer(), memo, cache=cache).tasks
    edited = text.replace("- FR-100 Build part 0", "- FR-100 Build part zero")
    decompose(edited, RuleDecomposer(), memo, cache=cache)
    after = decompose(text, RuleDecomposer(), memo, cache=cache)
    assert after.tasks == before
    assert after.stats["sections_recomputed"] == 0
