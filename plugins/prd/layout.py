"""One section's tasks as the document sees them, built once per context and kept.

A `Block` is what `assemble` gets from one section: its task dicts with absolute
IDs, lines and inherited priority, plus what resolution needs (declared IDs,
names, unresolved references). It depends on the section's result and on the
context key `assemble` computes; a block whose section only moved is shifted
(new dicts, same tasks) instead of rebuilt.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from catalytic.plugins.prd.model import SectionResult
from catalytic.plugins.prd.split import Section

Ref = tuple[bool, int, str, str, str]
"""(is a dependency, how to look it up, key, second key, the reference as written).
Lookups: LOCAL (key is the target), ID (key, then key without dashes), NAME, NONE, and
ALT: candidates tried in order (key: "\x1e"-joined, alt: the line relative to the section;
see `refs.py`)."""
LOCAL, ID, NAME, NONE, ALT = range(5)


@dataclass(slots=True, eq=False)
class Block:
    tasks: list[dict[str, Any]]
    start: int
    """The section's first line (0-based) the tasks' lines were computed for."""
    base: str
    owner: str | None
    """The task that stands for the section once its tasks are placed."""
    prio: str
    """Priority of `owner`, inherited by the subsections' tasks."""
    ids: dict[str, str]
    """Requirement ID → task ID, first declaration first."""
    names: dict[str, str]
    """"a:<anchor>" / "n:<name slug>" → task ID, first declaration first."""
    refs: list[tuple[int, tuple[Ref, ...]]]
    """(task index, its references parsed once) for the tasks that reference anything."""
    fresh: bool = True
    """Built in this run: its dicts are not handed out yet and may be filled in place."""
    linked: set[int] = field(default_factory=set)
    """Indices of tasks whose dependencies/references lists are not empty."""
    _tids: dict[str, int] | None = None
    titles: list[tuple[str, str]] | None = None
    """(title as lower-case words, task ID), filled the first time a title is looked up
    (`resolve.py`) and kept while the block is reused or shifted."""

    def tid_index(self) -> dict[str, int]:
        """Task ID → index of its last task in the block."""
        if self._tids is None:
            self._tids = {t["id"]: k for k, t in enumerate(self.tasks)}
        return self._tids


class AssemblyCache:
    """The blocks of a document's last assembly, keyed by context (one per document)."""

    def __init__(self) -> None:
        self.blocks: dict[tuple[Any, ...], Block] = {}
        self.built = self.shifted = self.kept = 0
        """What the last assembly did: sections placed anew, moved, reused as they were."""


def build_block(sec: Section, res: SectionResult, key: tuple[Any, ...], last: int) -> Block:
    """Place `res` with the context in `key`; `last` is the subtree's last line (0-based)."""
    _, is_title, base, owner_in, prio_in, depth, _ = key
    owner: str | None = owner_in
    prio: dict[str | None, str] = {owner_in: prio_in}
    tasks: list[dict[str, Any]] = []
    refs: list[tuple[int, tuple[Ref, ...]]] = []
    ids: dict[str, str] = {}
    names: dict[str, str] = {}
    for t in res.tasks:
        if t.lid == "":
            if is_title:
                continue
            tid = base
            parent = owner
            first, end = sec.start + 1, last + 1
            kind = t.kind or ("epic" if depth <= 1 else "feature")
            owner = tid
            names.setdefault("a:" + res.summary.anchor, tid)
            names.setdefault("n:" + res.summary.slug, tid)
        else:
            tid = f"{base}/{t.lid}" if base else t.lid
            parent = owner if t.parent == "" else (f"{base}/{t.parent}" if base else t.parent)
            first, end = sec.start + t.lines[0] + 1, sec.start + t.lines[1] + 1
            kind = t.kind
            names.setdefault("n:" + t.name, tid)
        if t.outline:
            names.setdefault("o:" + t.outline, tid)
            if parent is not None:  # `(Loans, item 1)`: item 1 of the task titled "Loans"
                names.setdefault(f"c:{parent}\x1d{t.outline.rsplit('.', 1)[-1]}", tid)
        priority = t.priority or prio.get(parent, "medium")
        prio[tid] = priority
        for rid in t.ids:
            ids.setdefault(rid, tid)
        if t.deps or t.mentions:
            refs.append((len(tasks), tuple(_parse(r, k < len(t.deps), base)
                                           for k, r in enumerate(t.deps + t.mentions))))
        tasks.append({"id": tid, "title": t.title, "description": t.description,
                      "parent": parent, "lines": [first, end], "dependencies": [],
                      "priority": priority, "kind": kind, "complexity": t.complexity,
                      "complexity_reasons": list(t.reasons),
                      "acceptance_criteria": list(t.acceptance), "test_strategy": t.test,
                      "requirement_ids": list(t.ids), "references": [],
                      "checked": t.checked, "content_hash": t.digest})
    return Block(tasks, sec.start, base, owner, prio.get(owner, "medium"), ids, names, refs)


def _parse(ref: str, is_dep: bool, base: str) -> Ref:
    kind, _, value = ref.partition(":")
    if kind == "local":
        return (is_dep, LOCAL, f"{base}/{value}" if base else value, "", value)
    if kind == "id":
        return (is_dep, ID, value, value.replace("-", ""), value)
    if kind == "anchor":
        return (is_dep, NAME, "a:" + value, "", value)
    if kind == "name":
        return (is_dep, NAME, "n:" + value, "", value)
    if kind == "ref":
        line, quote, *cands = value.split("\x1f")
        cands = [f"local:{base}/{c[6:]}" if c.startswith("local:") and base else c for c in cands]
        return (is_dep, ALT, "\x1e".join(cands), line, quote)
    return (is_dep, NONE, "", "", value)


def shifted(block: Block, start: int) -> Block:
    """The same tasks for a section that now begins at `start`."""
    d = start - block.start
    tasks = [{**t, "lines": [t["lines"][0] + d, t["lines"][1] + d]} for t in block.tasks]
    return Block(tasks, start, block.base, block.owner, block.prio, block.ids, block.names,
                 block.refs, True, set(block.linked), None, block.titles)
