"""A local copy of a document's prd tasks, kept up to date from `prd.decompose` changes.

The mirror remembers the revision it holds and sends it as `since`: while it is
the daemon's stored revision, answers carry only `changes`, applied here; when
it is not (another client decomposed the document meanwhile, the daemon lost
its state), the answer carries the whole list, which replaces the copy. The
logic lives once in `TaskMirror` (no I/O); `decompose` / `decompose_async` and
`refresh` / `refresh_async` are thin drivers for `Client` and `AsyncClient`.
"""

from __future__ import annotations

from collections.abc import Generator
from typing import Any, Protocol

PAGE = 5000
"""Tasks per `prd.tasks` page when catching up."""


class SyncCaller(Protocol):
    def call(self, method: str, params: dict[str, Any] | None = None, /,
             **kw: Any) -> Any: ...


class AsyncCaller(Protocol):
    async def call(self, method: str, params: dict[str, Any] | None = None, /,
                   **kw: Any) -> Any: ...


class TaskMirror:
    """The tasks of one stored document, by ID, at `revision`."""

    def __init__(self, document: str) -> None:
        self.document = document
        self.revision: str | None = None
        self.tasks: dict[str, dict[str, Any]] = {}
        self.last: dict[str, int] = {}
        """What the last answer did: added, changed, removed, and whole (1 when the
        answer carried the whole list)."""

    def __len__(self) -> int:
        return len(self.tasks)

    def ordered(self) -> list[dict[str, Any]]:
        """The tasks in document order (by first line)."""
        return sorted(self.tasks.values(), key=lambda t: (t["lines"][0], t["lines"][1]))

    def request(self, text: str, **extra: Any) -> dict[str, Any]:
        """The `prd.decompose` params for a new version of the text."""
        return {"text": text, "document": self.document, "since": self.revision, **extra}

    def apply(self, answer: dict[str, Any]) -> dict[str, int]:
        """Bring the copy to the answer's revision; returns what changed."""
        changes = answer.get("changes") or {"added": [], "changed": [], "removed": []}
        if "tasks" in answer:
            self.tasks = {t["id"]: t for t in answer["tasks"]}
        else:
            for tid in changes["removed"]:
                self.tasks.pop(tid, None)
            for t in (*changes["added"], *changes["changed"]):
                self.tasks[t["id"]] = t
        self.revision = answer["revision"]
        self.last = {"added": len(changes["added"]), "changed": len(changes["changed"]),
                     "removed": len(changes["removed"]), "whole": int("tasks" in answer)}
        return self.last

    def replace(self, revision: str, tasks: list[dict[str, Any]]) -> None:
        self.revision = revision
        self.tasks = {t["id"]: t for t in tasks}

    def decompose(self, client: SyncCaller, text: str, **extra: Any) -> dict[str, Any]:
        """`prd.decompose` the new text through `client` and apply the answer."""
        answer: dict[str, Any] = client.call("prd.decompose", self.request(text, **extra))
        self.apply(answer)
        return answer

    async def decompose_async(self, client: AsyncCaller, text: str,
                              **extra: Any) -> dict[str, Any]:
        answer: dict[str, Any] = await client.call("prd.decompose", self.request(text, **extra))
        self.apply(answer)
        return answer

    def refresh(self, client: SyncCaller) -> str:
        """Catch up with the stored tasks through `prd.tasks` (no decomposition); returns
        the revision. Pages again from the start if the document changed meanwhile."""
        flow = self._refresh_flow()
        params = next(flow)
        while True:
            try:
                params = flow.send(client.call("prd.tasks", params))
            except StopIteration as done:
                return str(done.value)

    async def refresh_async(self, client: AsyncCaller) -> str:
        flow = self._refresh_flow()
        params = next(flow)
        while True:
            try:
                params = flow.send(await client.call("prd.tasks", params))
            except StopIteration as done:
                return str(done.value)

    def _refresh_flow(self) -> Generator[dict[str, Any], dict[str, Any], str]:
        """The paging logic once for both drivers: yields params, is sent each page."""
        while True:
            got: list[dict[str, Any]] = []
            revision: str | None = None
            while True:
                page = yield {"document": self.document, "offset": len(got), "limit": PAGE}
                if revision is not None and page["revision"] != revision:
                    break  # edited meanwhile: start again
                revision = page["revision"]
                got += page["tasks"]
                if len(got) >= page["total"] or not page["tasks"]:
                    self.replace(revision, got)
                    return revision
