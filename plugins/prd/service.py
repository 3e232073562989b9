"""The prd operations without RPC: decompose, tasks, graph, next, status, export, diff.

Blocking and thread-safe (one lock). `decompose_steps` is a generator (see
`engine.py`): it yields the pool work it needs, so `plugin.py` awaits each piece
on the daemon's executor and can stop it; `decompose` drives it in one thread.

Each stored document has a revision, a digest of its name, the decomposer and
its text. A re-decomposition compares the new task list with the one kept in
memory (by identity, so only the edited region is looked at), writes only those
rows, and answers with the changes; a caller that names the stored revision as
`since` gets only the changes, anyone else the whole list as well.
"""

from __future__ import annotations

import gc
import sqlite3
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from hashlib import blake2b
from pathlib import Path
from typing import Any

from catalytic.plugins.prd import export as E
from catalytic.plugins.prd.assemble import AssemblyCache
from catalytic.plugins.prd.breathe import point, slices
from catalytic.plugins.prd.diff import Changes, diff
from catalytic.plugins.prd.engine import MapFn, Steps, decompose, decompose_steps
from catalytic.plugins.prd.graph import analyse, next_tasks
from catalytic.plugins.prd.memo import MIGRATIONS as MEMO_MIGRATIONS
from catalytic.plugins.prd.memo import Memo
from catalytic.plugins.prd.model import Decomposer
from catalytic.plugins.prd.pool import drive
from catalytic.plugins.prd.revalidate import GraphIndex
from catalytic.plugins.prd.store import MIGRATIONS, STATUSES, Store, carry, default_status

Opener = Callable[[str, Sequence[Any]], sqlite3.Connection]
"""Opens `<state dir>/<name>` with the given schema migrations (`PluginContext.sqlite`)."""
FREEZE_MIN_TASKS = 1000
"""Tasks added or changed by a decomposition from which its state is frozen (see
`decompose_steps`)."""
HIDDEN = ("checked",)
"""Task fields kept in the store but not shown."""


class UnknownDocument(KeyError):
    pass


class UnknownTask(KeyError):
    pass


@dataclass(eq=False)
class DocState:
    """What is stored for a document, kept in memory between calls."""

    revision: str
    at: float
    """When the revision was stored: statuses set later are sent as changes."""
    digest: bytes
    tasks: list[dict[str, Any]]
    graph: GraphIndex
    meta: dict[str, Any]
    """stats, warnings, problems (with cycles) of the stored decomposition."""
    cache: AssemblyCache = field(default_factory=AssemblyCache)
    analysis: dict[str, Any] | None = None
    """`graph.analyse(tasks)`, once asked for: the tasks of a revision never change."""


def revision_of(document: str, digest: bytes) -> str:
    """Opaque: names the stored state of `document` (same text and decomposer, same revision)."""
    return blake2b(document.encode("utf-8", "surrogatepass") + b"\x00" + digest,
                   digest_size=12).hexdigest()


def _sqlite_opener(state_dir: Path | None) -> Opener:
    from catalytic.daemon.store import open_store  # standalone use (tests, benchmarks)

    def open_(name: str, migrations: Sequence[Any]) -> sqlite3.Connection:
        return open_store(state_dir / name if state_dir else Path(":memory:"), migrations)

    return open_


class PrdService:
    def __init__(self, state_dir: Path | None, decomposer: Decomposer, memo_max_bytes: int,
                 memo_disk_max_bytes: int = 0, *, open_db: Opener | None = None) -> None:
        opener = open_db or _sqlite_opener(state_dir)
        self.decomposer = decomposer
        self.memo = Memo(opener("memo.sqlite", MEMO_MIGRATIONS) if state_dir else None,
                         memo_max_bytes, memo_disk_max_bytes)
        self.store = Store(opener("documents.sqlite", MIGRATIONS))
        self._lock = threading.Lock()
        self._docs: dict[str, DocState] = {}
        """Most recently used last; a few documents' task lists and assembly caches."""
        self.keep_documents = 16

    def decompose(self, document: str, text: str, *, since: str | None = None,
                  warnings: list[str] | None = None, parallel_map: MapFn | None = None,
                  parallel_min_sections: int = 64, parallel_jobs: int = 2,
                  progress: Any = None) -> dict[str, Any]:
        """`decompose_steps` driven in this thread (pool work through `parallel_map`)."""
        return drive(self.decompose_steps(document, text, since=since, warnings=warnings,
                                          parallel=parallel_map is not None,
                                          parallel_min_sections=parallel_min_sections,
                                          parallel_jobs=parallel_jobs, progress=progress),
                     parallel_map)

    def decompose_steps(self, document: str, text: str, *, since: str | None = None,
                        warnings: list[str] | None = None, parallel: bool = False,
                        parallel_min_sections: int = 64, parallel_jobs: int = 2,
                        progress: Any = None) -> Steps[dict[str, Any]]:
        """Decompose, store what changed, answer (see the module doc). Calls for one
        document must not overlap (the plugin serialises them).

        The cyclic garbage collector stays paused throughout (the engine's reason), and
        what a successful call that built many tasks leaves alive is then frozen
        (`gc.freeze`, as the daemon does at start): a 10,000-task state scanned by the
        next full collection would hold the GIL, and so the event loop, for 150 ms.
        Task state holds no cycles; it is freed by reference counting as usual. Edits
        build few objects and do not freeze (whatever else is alive at a freeze is
        never scanned again)."""
        paused = gc.isenabled()
        gc.disable()
        try:
            out = yield from self._decompose_steps(document, text, since, warnings, parallel,
                                                   parallel_min_sections, parallel_jobs,
                                                   progress)
            changed = len(out["changes"]["added"]) + len(out["changes"]["changed"])
            if paused and changed >= FREEZE_MIN_TASKS:
                gc.freeze()
            return out
        finally:
            if paused:
                gc.enable()

    def _decompose_steps(self, document: str, text: str, since: str | None,
                         warnings: list[str] | None, parallel: bool,
                         parallel_min_sections: int, parallel_jobs: int,
                         progress: Any) -> Steps[dict[str, Any]]:
        digest = blake2b(text.encode("utf-8", "surrogatepass") + self.decomposer.fingerprint(),
                         digest_size=16).digest()
        revision = revision_of(document, digest)
        old = self._state(document)
        current = since is not None and old is not None and since == old.revision
        if old is not None and old.digest == digest and not warnings:
            return self._answer(document, old, Changes(old.tasks, old.tasks), current,
                                unchanged=True, since_time=old.at)
        cache = old.cache if old is not None else AssemblyCache()
        result = yield from decompose_steps(
            text, self.decomposer, self.memo, parallel=parallel,
            parallel_min_sections=parallel_min_sections, parallel_jobs=parallel_jobs,
            warnings=warnings, progress=progress, cache=cache)
        self.memo.flush()
        changes = Changes(old.tasks if old is not None else [], result.tasks)
        with self._lock:
            self._docs.pop(document, None)  # until stored: a failure leaves nothing half-done
        if old is None:
            graph = GraphIndex(result.tasks)
        else:
            graph = old.graph
            graph.update(changes, result.tasks)
        meta = {"stats": result.stats, "warnings": result.warnings,
                "problems": {**result.problems, "cycles": graph.named_cycles()}}
        state = DocState(revision, 0.0, digest, result.tasks, graph, meta, cache)
        saved = self.store.saved_status(document)
        _, moves = carry(changes.added, saved, graph.by_id)
        with self._lock:
            if moves:
                self.store.move_status(document, moves)
            if old is None or old.revision == "":
                state.at = self.store.replace_all(document, revision, meta, result.tasks)
            else:
                state.at = self.store.write_changes(document, revision, meta, changes)
            self._keep(document, state)
        out = self._answer(document, state, changes, current,
                           since_time=old.at if old is not None else None)
        out["moved"] = [{"from": a, "to": b} for a, b in moves]
        return out

    def _state(self, document: str) -> DocState | None:
        with self._lock:
            state = self._docs.get(document)
        if state is not None:
            return state
        doc = self.store.load_document(document)
        if doc is None:
            return None
        revision, at, tasks, meta = doc
        state = DocState(revision, at, b"", tasks, GraphIndex(tasks), meta)
        with self._lock:
            self._keep(document, state)
        return state

    def _keep(self, document: str, state: DocState) -> None:
        self._docs.pop(document, None)
        self._docs[document] = state
        while len(self._docs) > self.keep_documents:
            self._docs.pop(next(iter(self._docs)))

    def _answer(self, document: str, state: DocState, changes: Changes, current: bool, *,
                unchanged: bool = False, since_time: float | None = None) -> dict[str, Any]:
        """The answer; tasks whose status was set after `since_time` (the previous
        revision's) count as changed, so a mirror learns of them too. A whole answer
        names its added and changed tasks by `{"id"}` only: they are in `tasks` already
        (a first decomposition would otherwise send every task twice)."""
        times = self.store.saved_status_times(document)
        saved = {tid: (st, h) for tid, (st, h, _) in times.items()}
        changed = changes.changed
        if since_time:
            listed: set[str] = set()
            for part in (changes.added, changes.changed):
                for some in slices(part):
                    listed.update([t["id"] for t in some])
            later = [tid for tid, (_, _, at) in times.items()  # statuses set: few
                     if at > since_time and tid not in listed and tid in state.graph.by_id]
            if later:
                changed = [*changed, *(state.graph.by_id[tid] for tid in later)]
                if unchanged:
                    state.at = self.store.touch(document)
        stats = dict(state.meta["stats"])
        if unchanged:
            stats["sections_reused"], stats["sections_recomputed"] = stats["sections_total"], 0
            stats["sections_placed"] = stats["sections_shifted"] = 0
        out: dict[str, Any] = {
            "document": document, "revision": state.revision, "since_current": current,
            "changes": {"added": shown(changes.added, saved) if current else
                        [{"id": t["id"]} for t in changes.added],
                        "changed": shown(changed, saved) if current else
                        [{"id": t["id"]} for t in changed],
                        "removed": changes.removed},
            "stats": stats, "warnings": state.meta["warnings"],
            "problems": state.meta["problems"], "moved": [],
            "decomposer": {"name": self.decomposer.name, "version": self.decomposer.version}}
        if not current:
            out["tasks"] = shown(state.tasks, saved)
        return out

    def tasks(self, document: str, ids: list[str] | None, offset: int,
              limit: int) -> dict[str, Any]:
        """A page of the stored tasks (or the ones named by `ids`), with their status."""
        state = self._state(document)
        if state is None:
            raise UnknownDocument(document)
        saved = self.store.saved_status(document)
        if ids is not None:
            wanted = set(ids)
            picked: list[dict[str, Any]] = []
            for part in slices(state.tasks):
                picked += [t for t in part if t["id"] in wanted]
            missing = sorted(wanted.difference([t["id"] for t in picked]))
            page = picked[offset:offset + limit]
            return {"document": document, "revision": state.revision,
                    "tasks": shown(page, saved), "total": len(picked), "missing": missing}
        return {"document": document, "revision": state.revision,
                "tasks": shown(state.tasks[offset:offset + limit], saved),
                "total": len(state.tasks)}

    def _load(self, document: str) -> tuple[DocState, dict[str, str]]:
        """The stored state of `document` and every task's status."""
        state = self._state(document)
        if state is None:
            raise UnknownDocument(document)
        status, _ = carry(state.tasks, self.store.saved_status(document), state.graph.by_id)
        return state, status

    def _analysis(self, document: str) -> tuple[DocState, dict[str, Any]]:
        """The stored revision's graph analysis, computed on first use and kept with it."""
        state = self._state(document)
        if state is None:
            raise UnknownDocument(document)
        if state.analysis is None:
            state.analysis = analyse(state.tasks)
        return state, state.analysis

    def graph(self, document: str) -> dict[str, Any]:
        return {"document": document, **self._analysis(document)[1]}

    def next(self, document: str, limit: int = 1) -> dict[str, Any]:
        state, status = self._load(document)
        picked = next_tasks(state.tasks, status, limit, known_cycles=state.graph.cycles,
                            ids=state.graph.by_id)
        return {"document": document,
                "tasks": [{**t, "status": status[t["id"]]} for t in picked]}

    def status(self, document: str, task: str | None, value: str | None) -> dict[str, Any]:
        _, status = self._load(document)
        if task is None:
            counts = {s: 0 for s in STATUSES}
            for part in slices(list(status.values())):
                for s in part:
                    counts[s] = counts.get(s, 0) + 1
            return {"document": document, "status": status, "counts": counts}
        by_id = self._docs[document].graph.by_id if document in self._docs else {}
        if task not in by_id:
            raise UnknownTask(task)
        if value is not None:
            self.store.set_status(document, [(task, value, by_id[task]["content_hash"])])
            status[task] = value
        return {"document": document, "id": task, "status": status[task]}

    def export(self, document: str, fmt: str) -> str:
        state, analysis = self._analysis(document)
        status, _ = carry(state.tasks, self.store.saved_status(document), state.graph.by_id)
        return E.render(fmt, document, state.tasks, status, analysis)

    def import_taskmaster(self, document: str, data: dict[str, Any], tag: str) -> dict[str, Any]:
        tasks = self._load(document)[0].tasks
        found, unmatched = E.import_taskmaster(data, tasks, tag)
        hashes = {t["id"]: t["content_hash"] for t in tasks}
        self.store.set_status(document, [(k, v if v in STATUSES else "pending", hashes[k])
                                         for k, v in found.items()])
        return {"document": document, "imported": len(found), "unmatched": unmatched}

    def diff_texts(self, old: str, new: str) -> dict[str, Any]:
        """Decompose both versions (through the memo, nothing stored) and compare them."""
        a = decompose(old, self.decomposer, self.memo).tasks
        b = decompose(new, self.decomposer, self.memo).tasks
        self.memo.flush()
        return diff(a, b)

    def stats(self) -> dict[str, Any]:
        return {"memo": self.memo.stats(), "documents": len(self.store.documents())}

    def close(self) -> None:
        self.memo.close()
        self.store.close()


def shown(tasks: list[dict[str, Any]], saved: dict[str, tuple[str, str]]
          ) -> list[dict[str, Any]]:
    """Tasks as answers show them: with their status, without the fields kept hidden."""
    out = []
    for t in tasks:
        point()
        got = saved.get(t["id"])
        t = {**t, "status": got[0] if got is not None else default_status(t)}
        for k in HIDDEN:
            t.pop(k, None)
        out.append(t)
    return out
