"""Send the sections that need work to the process pool in a few large jobs.

The top-level subtrees (below a lone title heading) that have sections to
compute are cut into `jobs` contiguous chunks of about the same amount of text,
one per worker: a few large jobs instead of one per subtree, because each job
costs a round trip and a pickled copy of its results. Each chunk is computed by
the same loop as the sequential path, so the results are identical.
"""

from __future__ import annotations

import gc
from collections.abc import Callable, Generator
from typing import Any, NamedTuple

from catalytic.plugins.prd.breathe import point
from catalytic.plugins.prd.memo import pack, unpack
from catalytic.plugins.prd.model import Decomposer, SectionResult
from catalytic.plugins.prd.split import Section

MapFn = Callable[[Callable[..., Any], list[Any]], list[Any]]
"""Runs `fn(item)` for every item (e.g. on a process pool); results in item order."""


class PoolWork(NamedTuple):
    """Work the engine asks its driver to run: `fn(item, report=...)` for every item."""

    fn: Callable[..., Any]
    items: list[Any]


def drive(steps: Generator[PoolWork | None, list[Any] | None, Any],
          parallel_map: MapFn | None = None) -> Any:
    """Run a step generator to its end in this thread; pool work goes to `parallel_map`
    (or runs here without one). Returns what the generator returns."""
    sent: list[Any] | None = None
    while True:
        try:
            work = steps.send(sent)
        except StopIteration as stop:
            return stop.value
        if work is None:
            sent = None
        elif parallel_map is not None:
            sent = parallel_map(work.fn, work.items)
        else:
            sent = [work.fn(item) for item in work.items]
Subtree = tuple[list[Section], list[str], dict[int, SectionResult]]
"""Sections with lines relative to `lines`, the subtree's lines, results already known."""


def compute_chunk(job: tuple[Any, ...], report: Any = None) -> list[tuple[int, bytes]]:
    """Decompose every section of the chunk's subtrees that has no result yet (picklable).

    With `report` (the executor's `Reporter`), progress is reported per subtree, which
    is also where a cancelled call stops the job. Runs in a pool worker, which does not
    take the CPU from the daemon's loop (`daemon/executor.py`). Results come back packed
    as the memo stores them: unpickling 500 sections' named tuples in the daemon held
    the GIL (and so the event loop) for 20-25 ms in one go; bytes unpickle at once and
    are unpacked by the engine's thread one section at a time."""
    factory, options, subtrees = job
    decomposer = factory(**options)
    out: list[tuple[int, bytes]] = []
    total = len(subtrees)
    paused = gc.isenabled()
    gc.disable()  # many small containers and no cycles: as in the sequential path
    try:
        for done, (sections, lines, known) in enumerate(subtrees):
            if report is not None:
                report.report(done, total, "sections")
            results: dict[int, SectionResult] = dict(known)
            for sec in reversed(sections):
                if sec.index in results:
                    continue
                summaries = [results[c].summary for c in sec.children]
                res = decomposer.decompose_section(sec.title, sec.level,
                                                   lines[sec.start:sec.end],
                                                   sec.body - sec.start, summaries)
                results[sec.index] = res
                out.append((sec.index, pack(res)))
    finally:
        if paused:
            gc.enable()
    return out


def run_parallel(sections: list[Section], lines: list[str],
                 results: list[SectionResult | None], decomposer: Decomposer,
                 jobs: int) -> Generator[PoolWork, list[Any], set[int]]:
    """Compute the missing sections below the top level in `jobs` chunks (yielded as one
    `PoolWork`, sent back its results); fill `results`."""
    split = sections[0]
    while len(split.children) == 1:  # a lone title heading: split below it
        split = sections[split.children[0]]
    work: list[tuple[Subtree, int]] = []
    for top in split.children:
        point()
        sub = _subtree(sections, top)
        missing = [s for s in sub if results[s.index] is None]
        if not missing:
            continue
        known = {s.index: r for s in sub if (r := results[s.index]) is not None}
        lo, hi = sub[0].start, max(s.end for s in sub)
        local = [Section(s.index, s.level, s.title, s.start - lo, s.body - lo, s.end - lo,
                         s.parent, s.children) for s in sub]
        work.append(((local, lines[lo:hi], known), sum(s.end - s.start for s in missing)))
    if len(work) < 2 or jobs < 2:
        return set()
    chunks = _chunks(work, jobs)
    done: set[int] = set()
    payload = [(type(decomposer), decomposer.options, chunk) for chunk in chunks]
    outs = yield PoolWork(compute_chunk, payload)
    for out in outs:
        for idx, data in out:
            point()
            results[idx] = unpack(data)
            done.add(idx)
    return done


def _chunks(work: list[tuple[Subtree, int]], jobs: int) -> list[list[Subtree]]:
    """Contiguous runs of subtrees, each close to an equal share of the lines to compute."""
    total = sum(cost for _, cost in work)
    n = min(jobs, len(work))
    out: list[list[Subtree]] = [[]]
    acc = 0
    for k, (sub, cost) in enumerate(work):
        left = len(work) - k
        if out[-1] and len(out) < n and (acc >= total * len(out) / n or left <= n - len(out)):
            out.append([])
        out[-1].append(sub)
        acc += cost
    return out


def _subtree(sections: list[Section], top: int) -> list[Section]:
    out = []
    stack = [top]
    while stack:
        i = stack.pop()
        out.append(sections[i])
        stack.extend(reversed(sections[i].children))
    out.sort(key=lambda s: s.index)
    return out
