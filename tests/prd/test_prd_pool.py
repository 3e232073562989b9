"""Chunked parallel decomposition: few large jobs, same result as sequential."""

from __future__ import annotations

from typing import Any

from catalytic.plugins.prd.engine import decompose
from catalytic.plugins.prd.memo import Memo
from catalytic.plugins.prd.pool import _chunks
from catalytic.plugins.prd.rules import RuleDecomposer


def doc(n: int) -> str:
    parts = ["# Product\n"]
    for s in range(n):
        parts.append(f"## Area {s}\n\nArea {s} MUST work.\n")
        for f in range(1 + s % 3):
            parts.append(f"### Feature {s}.{f}\n")
            parts += [f"- Build part {i} of {s}.{f}, depends on [build part 0 of {s}.{f}]"
                      for i in range(2 + s % 4)]
            parts.append("")
    return "\n".join(parts)


def test_chunks_are_contiguous_balanced_and_cover_every_subtree() -> None:
    work: list[tuple[Any, int]] = [(i, c) for i, c in enumerate([5, 1, 1, 1, 1, 1, 4, 4])]
    chunks = _chunks(work, 2)
    assert [x for ch in chunks for x in ch] == list(range(8))
    assert len(chunks) == 2
    assert chunks == [[0, 1, 2, 3, 4], [5, 6, 7]]  # 9 and 9 lines of 18
    assert _chunks(work[:1], 4) == [[0]]
    assert _chunks(work[:3], 5) == [[0], [1], [2]]


def test_chunked_jobs_with_a_half_warm_memo_equal_sequential() -> None:
    sent: list[int] = []

    def serial_map(fn: Any, jobs: list[Any]) -> list[Any]:
        sent.append(len(jobs))
        return [fn(j) for j in jobs]

    memo = Memo(None, 1 << 26)
    decompose(doc(20), RuleDecomposer(), memo)
    text = doc(40).replace("Area 3 MUST work.", "Area 3 MUST work well.")
    for jobs in (2, 3, 7):
        par = decompose(text, RuleDecomposer(), Memo(None, 1 << 26), parallel_map=serial_map,
                        parallel_min_sections=1, parallel_jobs=jobs)
        seq = decompose(text, RuleDecomposer())
        assert par.tasks == seq.tasks and par.problems == seq.problems
        assert sent[-1] == jobs
    warm = decompose(text, RuleDecomposer(), memo, parallel_map=serial_map,
                     parallel_min_sections=1, parallel_jobs=2)
    assert warm.tasks == decompose(text, RuleDecomposer()).tasks
    assert sent[-1] == 2 and warm.stats["sections_reused"] > 40
