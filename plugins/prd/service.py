"""The prd operations without RPC: decompose, graph, next, status, export, diff.

Blocking and thread-safe (one lock); `plugin.py` runs these in a thread and
hands `parallel_map` a bridge to the daemon's process pool.
"""

from __future__ import annotations

import threading
from hashlib import blake2b
from pathlib import Path
from typing import Any

from catalytic.plugins.prd import export as E
from catalytic.plugins.prd.assemble import AssemblyCache
from catalytic.plugins.prd.diff import diff
from catalytic.plugins.prd.engine import MapFn, decompose
from catalytic.plugins.prd.graph import analyse, named_cycles, next_tasks
from catalytic.plugins.prd.memo import Memo
from catalytic.plugins.prd.model import Decomposer
from catalytic.plugins.prd.store import STATUSES, Store, carry


class UnknownDocument(KeyError):
    pass


class UnknownTask(KeyError):
    pass


class PrdService:
    def __init__(self, state_dir: Path | None, decomposer: Decomposer, memo_max_bytes: int,
                 memo_disk_max_bytes: int = 0) -> None:
        self.decomposer = decomposer
        self.memo = Memo(state_dir / "memo.sqlite" if state_dir else None, memo_max_bytes,
                         memo_disk_max_bytes)
        self.store = Store(state_dir / "documents.sqlite" if state_dir else Path(":memory:"))
        self._lock = threading.Lock()
        self._last: dict[str, tuple[bytes, dict[str, Any]]] = {}
        """document → (hash of its text, its answer without statuses): an unchanged
        document is the Merkle root hit, answered without walking its sections."""
        self._placed: dict[str, AssemblyCache] = {}
        """document → its sections' placed tasks, so an edit re-places only what changed."""

    def decompose(self, document: str, text: str, *, warnings: list[str] | None = None,
                  parallel_map: MapFn | None = None, parallel_min_sections: int = 64,
                  parallel_jobs: int = 2, progress: Any = None) -> dict[str, Any]:
        digest = blake2b(text.encode("utf-8", "surrogatepass") + self.decomposer.fingerprint(),
                         digest_size=16).digest()
        with self._lock:
            last = self._last.get(document)
            if last is not None and last[0] == digest and not warnings:
                return self._answer(document, last[1], unchanged=True)
            cache = self._placed.pop(document, None) or AssemblyCache()
            result = decompose(text, self.decomposer, self.memo, parallel_map=parallel_map,
                               parallel_min_sections=parallel_min_sections,
                               parallel_jobs=parallel_jobs, warnings=warnings,
                               progress=progress, cache=cache)
            self._placed[document] = cache  # most recently used last
            if len(self._placed) > 16:
                self._placed.pop(next(iter(self._placed)))
            self.memo.flush()
            saved = self.store.saved_status(document)
            status, moves = carry(result.tasks, saved)
            if moves:
                self.store.move_status(document, moves)
            meta = {"warnings": result.warnings, "problems": result.problems,
                    "stats": result.stats}
            self.store.save_document(document, text, result.tasks, meta)
        base = {"tasks": result.tasks, "stats": result.stats, "warnings": result.warnings,
                "problems": {**result.problems, "cycles": named_cycles(result.tasks)}}
        with self._lock:
            self._last[document] = (digest, base)
            if len(self._last) > 64:
                self._last.pop(next(iter(self._last)))
        out = self._answer(document, base, status=status)
        out["moved"] = [{"from": a, "to": b} for a, b in moves]
        return out

    def _answer(self, document: str, base: dict[str, Any], *, unchanged: bool = False,
                status: dict[str, str] | None = None) -> dict[str, Any]:
        if status is None:
            status, _ = carry(base["tasks"], self.store.saved_status(document))
        stats = dict(base["stats"])
        if unchanged:
            stats["sections_reused"], stats["sections_recomputed"] = stats["sections_total"], 0
            stats["sections_placed"] = stats["sections_shifted"] = 0
        tasks = []
        for t in base["tasks"]:
            t = {**t, "status": status[t["id"]]}
            del t["checked"]
            tasks.append(t)
        return {"document": document, "tasks": tasks, "stats": stats,
                "warnings": base["warnings"], "problems": base["problems"], "moved": [],
                "decomposer": {"name": self.decomposer.name,
                               "version": self.decomposer.version}}

    def _load(self, document: str) -> tuple[str, list[dict[str, Any]], dict[str, str]]:
        doc = self.store.load_document(document)
        if doc is None:
            raise UnknownDocument(document)
        text, tasks, _ = doc
        status, _ = carry(tasks, self.store.saved_status(document))
        return text, tasks, status

    def graph(self, document: str) -> dict[str, Any]:
        _, tasks, _ = self._load(document)
        return {"document": document, **analyse(tasks)}

    def next(self, document: str, limit: int = 1) -> dict[str, Any]:
        _, tasks, status = self._load(document)
        picked = next_tasks(tasks, status, limit)
        return {"document": document,
                "tasks": [{**t, "status": status[t["id"]]} for t in picked]}

    def status(self, document: str, task: str | None, value: str | None) -> dict[str, Any]:
        _, tasks, status = self._load(document)
        if task is None:
            counts = {s: 0 for s in STATUSES}
            for s in status.values():
                counts[s] = counts.get(s, 0) + 1
            return {"document": document, "status": status, "counts": counts}
        by_id = {t["id"]: t for t in tasks}
        if task not in by_id:
            raise UnknownTask(task)
        if value is not None:
            self.store.set_status(document, [(task, value, by_id[task]["content_hash"])])
            status[task] = value
        return {"document": document, "id": task, "status": status[task]}

    def export(self, document: str, fmt: str) -> str:
        _, tasks, status = self._load(document)
        return E.render(fmt, document, tasks, status, analyse(tasks))

    def import_taskmaster(self, document: str, data: dict[str, Any], tag: str) -> dict[str, Any]:
        _, tasks, _ = self._load(document)
        found, unmatched = E.import_taskmaster(data, tasks, tag)
        hashes = {t["id"]: t["content_hash"] for t in tasks}
        self.store.set_status(document, [(k, v if v in STATUSES else "pending", hashes[k])
                                         for k, v in found.items()])
        return {"document": document, "imported": len(found), "unmatched": unmatched}

    def diff_texts(self, old: str, new: str) -> dict[str, Any]:
        """Decompose both versions (through the memo, nothing stored) and compare them."""
        with self._lock:
            a = decompose(old, self.decomposer, self.memo).tasks
            b = decompose(new, self.decomposer, self.memo).tasks
            self.memo.flush()
        return diff(a, b)

    def stats(self) -> dict[str, Any]:
        return {"memo": self.memo.stats(), "documents": len(self.store.documents())}

    def close(self) -> None:
        self.memo.close()
        self.store.close()
