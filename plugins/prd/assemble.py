"""Place each section's local tasks into the document: absolute IDs, lines, inheritance, links.

IDs are the path of heading slugs (numbered only among same-slug siblings) plus
the task's local ID. Priority is inherited from the nearest ancestor that says
one. References are resolved here, across sections, and every one that cannot
be resolved is reported, never dropped silently.

The tasks a section contributes depend only on its result and a small context
(path, owner task, depth, inherited priority, title flag, subtree line span),
so each section's built tasks are kept in an `AssemblyCache` under that context
(`blocks.py`). A re-decomposition rebuilds only sections whose result or context
changed, shifts the lines of sections that merely moved, and redoes reference
resolution (global by nature) only over the tasks that carry references.
Task dicts are never mutated once returned: a changed one is replaced by a copy.
"""

from __future__ import annotations

from typing import Any

from catalytic.plugins.prd.breathe import point
from catalytic.plugins.prd.ids import number_slugs
from catalytic.plugins.prd.layout import AssemblyCache, Block, build_block, shifted
from catalytic.plugins.prd.model import SectionResult
from catalytic.plugins.prd.resolve import resolve_all
from catalytic.plugins.prd.split import Section

__all__ = ["AssemblyCache", "assemble"]


def assemble(sections: list[Section], results: list[SectionResult], lines: list[str],
             cache: AssemblyCache | None = None
             ) -> tuple[list[dict[str, Any]], dict[str, list[Any]]]:
    """All tasks in document order, and the problems found (missing refs, self deps)."""
    n = len(sections)
    path = [""] * n
    owner: list[str | None] = [None] * n
    """The task ID that stands for each section (its heading task or nearest ancestor's)."""
    prio = ["medium"] * n
    """Priority of `owner[i]`, which tasks without their own inherit."""
    info = [False] * n
    depth = [0] * n
    title_sec = _document_title(sections, results)
    own = _own_slugs(sections, results)
    subtree_end = _subtree_ends(sections, lines)
    old = cache.blocks if cache is not None else {}
    kept: dict[tuple[Any, ...], Block] = {}
    blocks: list[Block] = []
    offsets: list[int] = []
    tasks: list[dict[str, Any]] = []
    ordering: list[int] = []
    built = moved = 0
    for sec in sections:
        point()
        i = sec.index
        res = results[i]
        p = sec.parent
        if i and p >= 0:
            info[i] = info[p] or res.summary.info
            if i == title_sec:
                path[i], owner[i], depth[i], prio[i] = "", None, 0, "medium"
            else:
                path[i] = f"{path[p]}/{own[i]}" if path[p] else own[i]
                owner[i], depth[i], prio[i] = owner[p], depth[p] + 1, prio[p]
        if info[i]:
            continue
        if res.child_deps:
            ordering.append(i)
        key = (sec.key, i == title_sec, path[i], owner[i], prio[i], depth[i],
               subtree_end[i] - sec.start)
        block = old.get(key)
        if block is None or key in kept:
            block = build_block(sec, res, key, subtree_end[i])
            built += 1
        elif block.start != sec.start:
            block = shifted(block, sec.start)
            moved += 1
        if key not in kept:
            kept[key] = block
        owner[i], prio[i] = block.owner, block.prio
        blocks.append(block)
        offsets.append(len(tasks))
        tasks.extend(block.tasks)
    links, problems = _resolve_all(blocks)
    if ordering:
        _child_order(sections, results, owner, blocks, ordering, links)
    _apply(blocks, offsets, links, tasks)
    if cache is not None:
        cache.blocks = kept
        cache.built, cache.shifted, cache.kept = built, moved, len(blocks) - built - moved
    return tasks, problems


Links = dict[tuple[int, int], tuple[list[str], list[str]]]
"""(block position, task index) → (dependencies, references) for tasks that have any."""


def _resolve_all(blocks: list[Block]) -> tuple[Links, dict[str, list[Any]]]:
    return resolve_all(blocks)


def _child_order(sections: list[Section], results: list[SectionResult],
                 owner: list[str | None], blocks: list[Block], ordering: list[int],
                 links: Links) -> None:
    """Sibling sections the document orders (phases, dependency chains) depend on each other."""
    index: dict[str, tuple[int, int]] = {}
    for pos, block in enumerate(blocks):  # the last task with an ID stands for it
        index.update({tid: (pos, k) for tid, k in block.tid_index().items()})
    for i in ordering:
        sec = sections[i]
        for child, before in results[i].child_deps:
            a = owner[sections[sec.children[child]].index]
            b = owner[sections[sec.children[before]].index]
            if a and b and a != b and a in index:
                deps, _ = links.setdefault(index[a], ([], []))
                if b not in deps:
                    deps.append(b)


def _apply(blocks: list[Block], offsets: list[int], links: Links,
           tasks: list[dict[str, Any]]) -> None:
    """Give every task its dependencies and references, copying a handed-out dict to change it."""
    touched: dict[int, set[int]] = {}
    for pos, idx in links:
        touched.setdefault(pos, set()).add(idx)
    for pos, b in enumerate(blocks):
        want = touched.get(pos, set())
        if not want and not b.linked:
            continue
        for idx in want | b.linked:
            deps, refs = links.get((pos, idx), ([], []))
            t = b.tasks[idx]
            if t["dependencies"] == deps and t["references"] == refs:
                continue
            if b.fresh:
                t["dependencies"], t["references"] = deps, refs
            else:
                t = {**t, "dependencies": deps, "references": refs}
                b.tasks[idx] = t
                tasks[offsets[pos] + idx] = t
        b.linked = want
    for b in blocks:
        b.fresh = False


def _own_slugs(sections: list[Section], results: list[SectionResult]) -> list[str]:
    """Each section's slug, numbered only among siblings with the same slug."""
    out = [""] * len(sections)
    for sec in sections:
        names = number_slugs([results[c].summary.slug for c in sec.children])
        for c, name in zip(sec.children, names, strict=True):
            out[c] = name
    return out


def _document_title(sections: list[Section], results: list[SectionResult]) -> int:
    """The index of a lone top heading that only titles the document, or -1."""
    root = sections[0]
    if len(root.children) == 1 and not results[0].tasks:
        top = sections[root.children[0]]
        if top.level == 1 and top.children:
            return top.index
    return -1


def _subtree_ends(sections: list[Section], lines: list[str]) -> list[int]:
    """0-based last non-blank line of each section's whole subtree."""
    end = [s.end for s in sections]
    for sec in reversed(sections):
        if sec.children:
            end[sec.index] = max(end[sec.index], end[sec.children[-1]])
    out = []
    for sec in sections:
        last = end[sec.index] - 1
        while last > sec.start and not lines[last].strip():
            last -= 1
        out.append(last)
    return out
