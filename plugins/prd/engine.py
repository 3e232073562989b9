"""Decompose a document section by section, reusing every memoized subtree.

Sections are visited children first. A section whose Merkle key is in the memo
is reused as is; otherwise its cutoff key (own text + children's summaries) is
tried, so a change that leaves a child's summary alone stops there; only then is
the section decomposed. Top-level subtrees with work to do can be sent to a
process pool in a few large chunks (`pool.py`), computed by the same loop as the
sequential path, so both give identical results.

The engine does no I/O and knows no executor: `decompose_steps` is a generator
that yields the pool work it needs (`PoolWork`: a function and its items) and is
sent back the results, and yields `None` now and then during long sequential
work. Whoever drives it decides how the work runs and may stop between steps:
`decompose` drives it with a plain function; the plugin awaits each piece on the
daemon's executor, so cancelling the call stops the jobs and the decomposition.
"""

from __future__ import annotations

import gc
from collections.abc import Callable, Generator
from dataclasses import dataclass, field
from hashlib import blake2b
from typing import Any, Protocol, TypeVar

from catalytic.plugins.prd.assemble import AssemblyCache, assemble
from catalytic.plugins.prd.breathe import point
from catalytic.plugins.prd.model import Decomposer, SectionResult, Summary
from catalytic.plugins.prd.pool import MapFn, PoolWork, drive, run_parallel
from catalytic.plugins.prd.split import Section, build_tree, hash_tree
from catalytic.plugins.prd.text import clean

R = TypeVar("R")
Steps = Generator[PoolWork | None, list[Any] | None, R]
"""Steps[result]: yields pool work (or None at a checkpoint), is sent its results."""
CHECKPOINT_SECTIONS = 128
"""Sections computed in a row before the sequential loop yields a checkpoint."""


class MemoLike(Protocol):
    def get(self, key: bytes) -> SectionResult | None: ...

    def put(self, key: bytes, value: SectionResult) -> None: ...


@dataclass
class Decomposition:
    tasks: list[dict[str, Any]]
    stats: dict[str, int]
    warnings: list[str] = field(default_factory=list)
    problems: dict[str, list[Any]] = field(default_factory=dict)
    front_matter: dict[str, str] = field(default_factory=dict)


def cutoff_key(fingerprint: bytes, sec: Section, summaries: list[Summary]) -> bytes:
    """Key of a section's own work given what its children say (early cutoff)."""
    h = blake2b(b"cut\x00" + fingerprint, digest_size=16)
    h.update(sec.own_hash)
    h.update(repr(summaries).encode("utf-8", "surrogatepass"))
    return h.digest()


def decompose(text: str, decomposer: Decomposer, memo: MemoLike | None = None, *,
              parallel_map: MapFn | None = None, parallel_min_sections: int = 64,
              parallel_jobs: int = 2, warnings: list[str] | None = None,
              progress: Callable[[int, int, str], None] | None = None,
              cache: AssemblyCache | None = None) -> Decomposition:
    """Decompose `text`; `memo` (if given) is read and filled; pool work goes to
    `parallel_map` (without it, everything runs here).

    `cache` (one per document, if given) keeps each section's placed tasks, so a
    re-decomposition places only the sections whose result or position changed.
    """
    return drive(decompose_steps(text, decomposer, memo, parallel=parallel_map is not None,
                                 parallel_min_sections=parallel_min_sections,
                                 parallel_jobs=parallel_jobs, warnings=warnings,
                                 progress=progress, cache=cache), parallel_map)


def decompose_steps(text: str, decomposer: Decomposer, memo: MemoLike | None = None, *,
                    parallel: bool = False, parallel_min_sections: int = 64,
                    parallel_jobs: int = 2, warnings: list[str] | None = None,
                    progress: Callable[[int, int, str], None] | None = None,
                    cache: AssemblyCache | None = None) -> Steps[Decomposition]:
    """The decomposition as steps (see the module doc); `parallel` allows pool work.

    The cyclic garbage collector is paused meanwhile: a decomposition allocates
    many small containers and no cycles, and full collections over a large warm
    memo otherwise cost more than the incremental work itself.
    """
    paused = gc.isenabled()
    gc.disable()
    try:
        return (yield from _decompose(text, decomposer, memo, parallel, parallel_min_sections,
                                      parallel_jobs, warnings, progress, cache))
    finally:
        if paused:
            gc.enable()


def _decompose(text: str, decomposer: Decomposer, memo: MemoLike | None,
               parallel: bool, parallel_min_sections: int, parallel_jobs: int,
               warnings: list[str] | None,
               progress: Callable[[int, int, str], None] | None,
               cache: AssemblyCache | None) -> Steps[Decomposition]:
    cleaned = clean(text)
    lines = cleaned.text.split("\n")
    sections = build_tree(lines, cleaned.text)
    fp = decomposer.fingerprint()
    hash_tree(sections, lines, fp)
    results: list[SectionResult | None] = [None] * len(sections)
    reused = 0
    if memo is not None:
        for sec in sections:
            point()
            hit = memo.get(sec.key)
            if hit is not None:
                results[sec.index] = hit
                reused += 1
    missing = [s for s in sections if results[s.index] is None]
    if progress:
        progress(len(sections) - len(missing), len(sections), "memo looked up")
    pooled: set[int] = set()
    if missing and parallel and len(missing) >= parallel_min_sections:
        pooled = yield from run_parallel(sections, lines, results, decomposer, parallel_jobs)
        if memo is not None:
            for i in pooled:
                point()
                memo.put(sections[i].key, _res(results, i))
    recomputed_keys: set[int] = set()
    for sec in reversed(sections):
        point()
        if results[sec.index] is not None:
            continue
        summaries = [_res(results, c).summary for c in sec.children]
        ck = cutoff_key(fp, sec, summaries)
        hit = memo.get(ck) if memo is not None else None
        if hit is not None:
            results[sec.index] = hit
            reused += 1
        else:
            results[sec.index] = decomposer.decompose_section(
                sec.title, sec.level, lines[sec.start:sec.end], sec.body - sec.start, summaries)
            recomputed_keys.add(sec.index)
            if memo is not None:
                memo.put(ck, _res(results, sec.index))
            if len(recomputed_keys) % CHECKPOINT_SECTIONS == 0:
                yield None
        if memo is not None:
            memo.put(sec.key, _res(results, sec.index))
    computed = len(pooled) + len(recomputed_keys)
    if progress:
        progress(len(sections), len(sections), "assembling")
    done = [_res(results, s.index) for s in sections]
    if cache is None:
        cache = AssemblyCache()
    tasks, problems = assemble(sections, done, lines, cache)
    stats = {"sections_total": len(sections), "sections_reused": reused,
             "sections_recomputed": computed, "sections_placed": cache.built,
             "sections_shifted": cache.shifted, "tasks": len(tasks),
             "placeholders_blanked": cleaned.placeholders}
    return Decomposition(tasks, stats, [*(warnings or []), *cleaned.warnings], problems,
                         cleaned.front_matter)


def _res(results: list[SectionResult | None], i: int) -> SectionResult:
    r = results[i]
    assert r is not None
    return r
