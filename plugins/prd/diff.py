"""What changed between two decompositions: tasks added, removed, changed, kept, moved."""

from __future__ import annotations

from typing import Any

COMPARED = ("title", "description", "priority", "kind", "dependencies", "parent",
            "content_hash")


def diff(old: list[dict[str, Any]], new: list[dict[str, Any]]) -> dict[str, Any]:
    """Line positions are not compared: text inserted above a task does not change it."""
    before = {t["id"]: t for t in old}
    after = {t["id"]: t for t in new}
    gone = [tid for tid in before if tid not in after]
    fresh = [tid for tid in after if tid not in before]
    by_hash: dict[str, list[str]] = {}
    for tid in gone:
        by_hash.setdefault(before[tid]["content_hash"], []).append(tid)
    moved = []
    for tid in list(fresh):
        cands = by_hash.get(after[tid]["content_hash"])
        if cands and len(cands) == 1:
            old_id = cands.pop()
            moved.append({"from": old_id, "to": tid})
            gone.remove(old_id)
            fresh.remove(tid)
    changed, kept = [], []
    for tid, t in after.items():
        if tid not in before:
            continue
        fields = [f for f in COMPARED if before[tid].get(f) != t.get(f)]
        if fields:
            changed.append({"id": tid, "fields": fields})
        else:
            kept.append(tid)
    return {"added": fresh, "removed": gone, "changed": changed, "moved": moved,
            "kept": kept, "summary": {"added": len(fresh), "removed": len(gone),
                                      "changed": len(changed), "moved": len(moved),
                                      "kept": len(kept)}}


class Changes:
    """How a document's task list moved from `old` to `new`, found in time proportional to
    the edit: tasks kept by identity at both ends are skipped without being compared
    (the assembler hands back the very same dict for a task nothing touched).

    `added` / `changed` are task dicts, `removed` IDs. For the store: `rows` are the
    (position, task) pairs to write; with `in_place` they replace the rows at those
    positions, else the old rows at positions `lo` to `hi_old` are replaced by them and
    the rows after move by `shift_by`.
    """

    __slots__ = ("added", "changed", "hi_old", "in_place", "lo", "removed", "rows", "shift_by")

    def __init__(self, old: list[dict[str, Any]], new: list[dict[str, Any]]) -> None:
        n_old, n_new = len(old), len(new)
        lo = 0
        top = min(n_old, n_new)
        while lo < top and old[lo] is new[lo]:
            lo += 1
        hi_old, hi_new = n_old, n_new
        while hi_old > lo and hi_new > lo and old[hi_old - 1] is new[hi_new - 1]:
            hi_old -= 1
            hi_new -= 1
        if hi_old - lo == hi_new - lo:  # same length: compare position by position first
            mid = [(k, a, new[k]) for k, a in zip(range(lo, hi_new), old[lo:hi_old], strict=True)
                   if a is not new[k]]
            if all(a["id"] == b["id"] for _, a, b in mid):
                self.rows = [(k, b) for k, a, b in mid if a != b]
                self.changed = [b for _, b in self.rows]
                self.added: list[dict[str, Any]] = []
                self.removed: list[str] = []
                self.in_place, self.lo, self.hi_old, self.shift_by = True, lo, hi_old, 0
                return
        before = {t["id"]: t for t in old[lo:hi_old]}
        after = {t["id"]: t for t in new[lo:hi_new]}
        self.added = [t for tid, t in after.items() if tid not in before]
        self.changed = [t for tid, t in after.items() if tid in before and before[tid] != t]
        self.removed = [tid for tid in before if tid not in after]
        self.rows = list(enumerate(new[lo:hi_new], lo))
        self.in_place, self.lo, self.hi_old, self.shift_by = False, lo, hi_old, hi_new - hi_old

    def __bool__(self) -> bool:
        return bool(self.added or self.changed or self.removed)

    def summary(self) -> dict[str, int]:
        return {"added": len(self.added), "changed": len(self.changed),
                "removed": len(self.removed)}
