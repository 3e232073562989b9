"""Resolve the references of every placed section against the whole document.

Lookups by declared ID, heading anchor, name slug and outline number come from
the blocks (`layout.py`); titles are indexed only when some reference needs
them (a prefix or close match of a task's title). A reference that finds
nothing is reported in `problems["missing"]` (task and reference as written,
as before) and in `problems["unresolved"]`, which adds its line and a sentence
quoting it; it is never dropped silently.
"""

from __future__ import annotations

import difflib
from bisect import bisect_left
from typing import Any

from catalytic.plugins.prd.layout import ALT, ID, LOCAL, NAME, Block
from catalytic.plugins.prd.refs import REVERSE, SUBJECT, words

Links = dict[tuple[int, int], tuple[list[str], list[str]]]
"""(block position, task index) → (dependencies, references) for tasks that have any."""
CLOSE_MATCH_LIMIT = 20000
"""Above this many tasks a title is looked up by exact match and prefix only."""


class Titles:
    """Task titles as lower-case words: exact, unambiguous prefix, close match."""

    def __init__(self, blocks: list[Block]) -> None:
        exact: dict[str, list[str]] = {}
        for b in blocks:
            if b.titles is None:  # kept on the block: an edit recomputes only new blocks'
                b.titles = [(words(t["title"]), t["id"]) for t in b.tasks]
            for w, tid in b.titles:
                exact.setdefault(w, []).append(tid)
        self.exact = exact
        self._sorted: list[str] | None = None

    @property
    def sorted(self) -> list[str]:
        """All titles in order, for prefix and close matches (sorted only when one is needed)."""
        if self._sorted is None:
            self._sorted = sorted(self.exact)
        return self._sorted

    def naming(self, key: str) -> list[str]:
        """Tasks whose title is, starts with or ends with these words (`Loans` finds
        "Epic B: Loans"); a linear scan, only for `(<name>, item n)` references."""
        out: list[str] = []
        for title, ids in self.exact.items():
            if (title == key or title.startswith(key + " ") or title.endswith(" " + key)):
                out.extend(ids)
        return out

    def find(self, key: str, exact_only: bool, me: str) -> str | None:
        hits = [t for t in self.exact.get(key, ()) if t != me]
        if hits:
            return hits[0] if len(hits) == 1 else _nearest(hits, me)
        if exact_only or " " not in key:  # one word ("pull") is too little to go by
            return None
        found: list[str] = []
        i = bisect_left(self.sorted, key)
        while i < len(self.sorted) and self.sorted[i].startswith(key):
            title = self.sorted[i]
            if len(title) == len(key) or title[len(key)] == " ":
                found.extend(t for t in self.exact[title] if t != me)
            if len(found) > 16:
                return None
            i += 1
        if found:
            return found[0] if len(found) == 1 else _nearest(found, me)
        if len(self.sorted) > CLOSE_MATCH_LIMIT or len(key) < 6:
            return None
        close = difflib.get_close_matches(key, self.sorted, n=2, cutoff=0.85)
        if len(close) == 2 and _ratio(key, close[0]) == _ratio(key, close[1]):
            return None
        if close:
            ids = [t for t in self.exact[close[0]] if t != me]
            return ids[0] if len(ids) == 1 else (_nearest(ids, me) if ids else None)
        return None


def _nearest(hits: list[str], me: str) -> str | None:
    """Of several tasks with the same title, the one in the same section as `me`, if one is."""
    mine = me.split("/")

    def shared(tid: str) -> int:
        n = 0
        for a, b in zip(tid.split("/"), mine, strict=False):
            if a != b:
                break
            n += 1
        return n

    best = max(shared(t) for t in hits)
    top = [t for t in hits if shared(t) == best]
    return top[0] if len(top) == 1 and best > 0 else None


def _ratio(a: str, b: str) -> float:
    return difflib.SequenceMatcher(None, a, b).ratio()


class Lookups:
    """Every way a reference can find its target in one assembled document."""

    def __init__(self, blocks: list[Block]) -> None:
        self.blocks = blocks
        self.by_id: dict[str, str] = {}
        self.by_name: dict[str, str] = {}
        for b in reversed(blocks):  # earlier blocks overwrite: the first declaration wins
            if b.ids:
                self.by_id.update(b.ids)
            if b.names:
                self.by_name.update(b.names)
        self._titles: Titles | None = None

    @property
    def titles(self) -> Titles:
        if self._titles is None:  # built only when some reference needs a title
            self._titles = Titles(self.blocks)
        return self._titles

    def find(self, cands: str, me: str) -> tuple[list[str], list[str]]:
        """(targets, title pieces not found) of the first candidate that finds anything."""
        for cand in cands.split("\x1e"):
            kind, _, value = cand.partition(":")
            target: str | None = None
            if kind == "local":
                target = value
            elif kind == "id":
                target = self.by_id.get(value) or self.by_id.get(value.replace("-", ""))
            elif kind in ("a", "n", "o"):
                target = self.by_name.get(cand)
            elif kind in ("t", "T"):
                target = self.titles.find(value, kind == "T", me)
            elif kind == "e":  # item n of a task named by (the end of) its title
                name, _, n = value.partition("\x1d")
                owners = {h for h in self.titles.naming(name)
                          if f"c:{h}\x1d{n}" in self.by_name}
                if len(owners) == 1:
                    target = self.by_name[f"c:{owners.pop()}\x1d{n}"]
            elif kind == "&":  # titles joined by "and": each found counts, the rest are reported
                pieces = value.split("\x1d")
                found = [self.titles.find(v, False, me) for v in pieces]
                hits = [f for f in found if f is not None]
                if hits:
                    return hits, [v for v, f in zip(pieces, found, strict=True) if f is None]
            if target is not None and target != me:
                return [target], []
        return [], []


def _report(problems: dict[str, list[Any]], task: dict[str, Any], ref: str, line: int,
            within: str = "") -> None:
    problems["missing"].append({"task": task["id"], "ref": ref})
    where = f" (in {within!r})" if within else ""
    problems["unresolved"].append({
        "task": task["id"], "ref": ref, "line": line,
        "message": f"unresolved reference {ref!r}{where} on line {line} "
                   f"(in {task['title'][:60]!r})"})


def resolve_all(blocks: list[Block]) -> tuple[Links, dict[str, list[Any]]]:
    look = Lookups(blocks)
    problems: dict[str, list[Any]] = {"missing": [], "unresolved": [], "self": [],
                                      "duplicate_ids": []}
    links: Links = {}
    reverse: list[tuple[str, str]] = []
    """(waiting task, task it waits for) from references that point the other way."""
    for pos, b in enumerate(blocks):
        for idx, refs in b.refs:
            task = b.tasks[idx]
            tid = task["id"]
            dep_out: list[str] = []
            ref_out: list[str] = []
            for is_dep, how, key, alt, shown in refs:
                targets: list[str] = []
                lost: list[str] = []
                if how == LOCAL:
                    targets = [key]
                elif how == ID:
                    targets = [t for t in (look.by_id.get(key) or look.by_id.get(alt),) if t]
                elif how == NAME:
                    targets = [t for t in (look.by_name.get(key),) if t]
                elif how == ALT:
                    targets, lost = look.find(key, tid)
                line = b.start + int(alt) + 1 if how == ALT else task["lines"][0]
                if not targets:
                    # a bare title after a phrase without a colon is not marked as a reference
                    if is_dep and not (how == ALT and key.startswith("T:") and "\x1e" not in key):
                        _report(problems, task, shown, line)
                    continue
                if is_dep:
                    for piece in lost:
                        _report(problems, task, piece, line, shown)
                if how == ALT and key.startswith(REVERSE) and is_dep:
                    reverse.extend((t, tid) for t in targets if t != tid)
                    continue
                if how == ALT and key.startswith(SUBJECT):  # "<subject> depends on <target>"
                    subject, *cands = key.split("\x1e", 1)[0][len(SUBJECT):].split("\x1d")
                    who, _ = look.find("\x1e".join(cands), tid)
                    if not who:
                        _report(problems, task, subject, line)
                    reverse.extend((who[0], t) for t in targets if who and t != who[0])
                    continue
                bucket = dep_out if is_dep else ref_out
                for t in targets:
                    if t == tid:
                        if is_dep:
                            problems["self"].append({"task": tid})
                    elif t not in bucket:
                        bucket.append(t)
            if dep_out or ref_out:
                links[(pos, idx)] = (dep_out, ref_out)
    if reverse:
        where = {t["id"]: (pos, k) for pos, b in enumerate(blocks) for k, t in enumerate(b.tasks)}
        for waiting, first in reverse:
            deps, _ = links.setdefault(where[waiting], ([], []))
            if first not in deps:
                deps.append(first)
    return links, problems
