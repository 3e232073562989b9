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

Links = dict[tuple[int, int], tuple[list[str], list[str]]]
"""(block position, task index) → (dependencies, references) for tasks that have any."""
CLOSE_MATCH_LIMIT = 20000
"""Above this many tasks a title is looked up by exact match and prefix only."""


class Titles:
    """Task titles as lower-case words: exact, unambiguous prefix, close match."""

    def __init__(self, blocks: list[Block]) -> None:
        from catalytic.plugins.prd.refs import words

        exact: dict[str, list[str]] = {}
        for b in blocks:
            for t in b.tasks:
                exact.setdefault(words(t["title"]), []).append(t["id"])
        self.exact = exact
        self.sorted = sorted(exact)

    def find(self, key: str, exact_only: bool, me: str) -> str | None:
        hits = [t for t in self.exact.get(key, ()) if t != me]
        if hits:
            return hits[0] if len(hits) == 1 else None
        if exact_only or not key:
            return None
        found: list[str] = []
        i = bisect_left(self.sorted, key)
        while i < len(self.sorted) and self.sorted[i].startswith(key):
            title = self.sorted[i]
            if len(title) == len(key) or title[len(key)] == " ":
                found.extend(t for t in self.exact[title] if t != me)
            if len(found) > 1:
                return None
            i += 1
        if found:
            return found[0]
        if len(self.sorted) > CLOSE_MATCH_LIMIT or len(key) < 6:
            return None
        close = difflib.get_close_matches(key, self.sorted, n=2, cutoff=0.85)
        if len(close) == 2 and _ratio(key, close[0]) == _ratio(key, close[1]):
            return None
        if close:
            ids = [t for t in self.exact[close[0]] if t != me]
            return ids[0] if len(ids) == 1 else None
        return None


def _ratio(a: str, b: str) -> float:
    return difflib.SequenceMatcher(None, a, b).ratio()


def resolve_all(blocks: list[Block]) -> tuple[Links, dict[str, list[Any]]]:
    by_id: dict[str, str] = {}
    by_name: dict[str, str] = {}
    for b in reversed(blocks):  # earlier blocks overwrite: the first declaration wins
        if b.ids:
            by_id.update(b.ids)
        if b.names:
            by_name.update(b.names)
    titles: Titles | None = None
    problems: dict[str, list[Any]] = {"missing": [], "unresolved": [], "self": [],
                                      "duplicate_ids": []}
    links: Links = {}
    for pos, b in enumerate(blocks):
        for idx, refs in b.refs:
            task = b.tasks[idx]
            tid = task["id"]
            dep_out: list[str] = []
            ref_out: list[str] = []
            for is_dep, how, key, alt, shown in refs:
                target: str | None = None
                extra: list[str] = []
                if how == LOCAL:
                    target = key
                elif how == ID:
                    target = by_id.get(key) or by_id.get(alt)
                elif how == NAME:
                    target = by_name.get(key)
                elif how == ALT:
                    for cand in key.split("\x1e"):
                        kind, _, value = cand.partition(":")
                        if kind == "local":
                            target = value
                        elif kind == "id":
                            target = by_id.get(value) or by_id.get(value.replace("-", ""))
                        elif kind in ("a", "n", "o"):
                            target = by_name.get(cand)
                        elif kind in ("t", "T", "&"):
                            if titles is None:
                                titles = Titles(blocks)
                            if kind == "&":
                                found = [titles.find(v, False, tid) for v in value.split("\x1d")]
                                if all(found):
                                    extra = [f for f in found[1:] if f is not None]
                                    target = found[0]
                            else:
                                target = titles.find(value, kind == "T", tid)
                        if target is not None and target != tid:
                            break
                if target is None:
                    if is_dep and not (how == ALT and key.startswith("T:") and "\x1e" not in key):
                        line = b.start + int(alt) + 1 if how == ALT else task["lines"][0]
                        problems["missing"].append({"task": tid, "ref": shown})
                        problems["unresolved"].append({
                            "task": tid, "ref": shown, "line": line,
                            "message": f"unresolved reference {shown!r} on line {line} "
                                       f"(in {task['title'][:60]!r})"})
                    continue
                bucket = dep_out if is_dep else ref_out
                if target == tid:
                    if is_dep:
                        problems["self"].append({"task": tid})
                    continue
                for t in (target, *extra):
                    if t not in bucket and t != tid:
                        bucket.append(t)
            if dep_out or ref_out:
                links[(pos, idx)] = (dep_out, ref_out)
    return links, problems
