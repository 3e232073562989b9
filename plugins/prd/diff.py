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
