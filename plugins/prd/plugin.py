"""The RPC face of prd: validate, read paths inside the allowed roots, drive the service.

Work that can take a while runs in a thread (so the loop keeps answering), and
large documents hand their top-level sections to the daemon's process pool. A
decomposition is a generator of steps (`service.decompose_steps`): each step
runs in a thread, each piece of pool work is awaited here on the executor, so
cancelling the call cancels the jobs, stops the steps and frees the next call.
"""

from __future__ import annotations

import asyncio
import gc
import json
from typing import Any

from catalytic.plugins.base import (
    Call,
    InvalidParams,
    Param,
    Plugin,
    PluginContext,
    RpcError,
    Setting,
    TooLarge,
    rpc,
)
from catalytic.plugins.prd.answer_wire import packed_answer, release
from catalytic.plugins.prd.breathe import breathing
from catalytic.plugins.prd.pool import PoolWork
from catalytic.plugins.prd.service import PrdService, UnknownDocument, UnknownTask
from catalytic.plugins.prd.store import STATUSES
from catalytic.plugins.prd.text import BinaryDocument, decode
from catalytic.protocol import Packed

BINARY = -33001
"""The input is a binary file, not a text document."""
UNKNOWN_DOCUMENT = -33002
"""No decomposition is stored under that document name (run prd.decompose first)."""
UNKNOWN_TASK = -33003
"""The document has no task with that ID."""
BAD_IMPORT = -33004
"""The Task Master file could not be read (not JSON, or no tasks in it)."""
FORMATS = ("json", "taskmaster", "mermaid", "md")
MEMORY_PER_BYTE = 40
"""About how many bytes a decomposition holds per byte of text (tasks, memo, answer)."""


def load_decomposer(name: str) -> Any:
    """The decomposer registered under `name` in `catalytic.prd.decomposers`."""
    from stevedore import DriverManager

    return DriverManager("catalytic.prd.decomposers", name, invoke_on_load=True).driver


class PrdPlugin(Plugin):
    name = "prd"
    version = "0.1.0"
    settings = (
        Setting("allowed_roots", "path_list", ["~"],
                "prd.decompose reads `path` only below these directories."),
        Setting("max_bytes", "bytes", 16 << 20, "Largest document accepted (-32004 above).",
                min=1),
        Setting("memo_max_bytes", "bytes", 256 << 20,
                "Memory for memoized section results (LRU by bytes).", min=0),
        Setting("memo_disk_max_bytes", "bytes", 1 << 30,
                "On-disk memo size above which its oldest quarter is dropped; 0 = no limit.",
                min=0),
        Setting("decomposer", "str", "rules",
                "Decomposer entry point in catalytic.prd.decomposers."),
        Setting("parallel_min_sections", "int", 256,
                "Sections to recompute before top-level sections go to the process pool "
                "(measured by bench/prd.py).", min=1),
    )

    async def start(self, ctx: PluginContext) -> None:
        await super().start(ctx)
        cfg = ctx.config
        self.service = PrdService(ctx.state_dir, load_decomposer(cfg["decomposer"]),
                                  cfg["memo_max_bytes"], cfg["memo_disk_max_bytes"],
                                  open_db=ctx.sqlite)
        self._decomposing = asyncio.Lock()
        """One decomposition at a time (they share the memo and the store)."""

    async def stop(self) -> None:
        await asyncio.to_thread(self.service.close)

    async def snapshot(self) -> None:
        await asyncio.to_thread(self.service.memo.flush)

    def stats(self) -> dict[str, Any]:
        return self.service.memo.stats()

    def memory_bytes(self) -> int:
        return int(self.service.memo.bytes)

    async def shrink(self, target_bytes: int) -> int:
        return self.service.memo.shrink(target_bytes)

    async def reload(self, config: dict[str, Any]) -> None:
        self.ctx.config = config
        self.service.memo.max_bytes = config["memo_max_bytes"]

    def _read(self, text: str | None, path: str | None) -> tuple[str, list[str], str | None]:
        limit = self.ctx.config["max_bytes"]
        if (text is None) == (path is None):
            raise InvalidParams("give exactly one of `text` and `path`")
        if text is not None:
            size = len(text.encode("utf-8", "surrogatepass"))
            if size > limit:
                raise TooLarge(f"document is {size} bytes; prd.max_bytes is {limit}",
                               {"bytes": size, "max_bytes": limit})
            return text, [], None
        assert path is not None
        real = self.ctx.resolve_path(path, "allowed_roots", must_exist=True)
        if not real.is_file():
            raise InvalidParams(f"not a file: {path!r}")
        size = real.stat().st_size
        if size > limit:
            raise TooLarge(f"{path} is {size} bytes; prd.max_bytes is {limit}",
                           {"bytes": size, "max_bytes": limit})
        try:
            decoded, warnings = decode(real.read_bytes())
        except BinaryDocument as e:
            raise RpcError(f"{path}: {e}", code=BINARY) from None
        return decoded, warnings, str(real)

    @rpc("decompose",
         Param("text", "str", required=False, nullable=True, doc="The document text."),
         Param("path", "str", required=False, nullable=True,
               doc="Absolute path of the document, below prd.allowed_roots."),
         Param("document", "str", required=False, nullable=True,
               doc="Name the decomposition is stored under (default: the path, or 'default')."),
         Param("since", "str", required=False, nullable=True,
               doc="The revision the caller holds: when it is the stored one, the answer "
                   "has only `changes`, no whole `tasks` list."),
         Param("parallel", "bool", required=False, default=True,
               doc="Allow the process pool for large documents."),
         heavy=True, doc="Decompose a document into tasks; re-running it is incremental.")
    async def decompose(self, call: Call, text: str | None, path: str | None,
                        document: str | None, since: str | None,
                        parallel: bool) -> Packed:
        body, warnings, real = await asyncio.to_thread(self._read, text, path)
        self.ctx.admit(len(body) * MEMORY_PER_BYTE, f"prd.decompose of {len(body)} characters")
        if "\x00" in body[:8192]:
            raise RpcError("document contains NUL characters: it looks like a binary file",
                           code=BINARY)
        if not body.strip():
            warnings.append("the document is empty")
        name = document or real or "default"
        loop = asyncio.get_running_loop()

        def progress(done: int, total: int, message: str) -> None:
            loop.call_soon_threadsafe(call.progress, done, total, message)

        workers = self.ctx.executor.workers
        async with self._decomposing:
            steps = self.service.decompose_steps(
                name, body, since=since, warnings=warnings, parallel=parallel and workers > 1,
                parallel_min_sections=self.ctx.config["parallel_min_sections"],
                parallel_jobs=workers, progress=progress)
            result: dict[str, Any] = await self._drive(steps, call)
        if body.strip() and not result["stats"]["tasks"]:
            result["warnings"].append("no tasks found (only code blocks, placeholders or prose?)")
        return await asyncio.to_thread(_packed, result)

    async def _drive(self, steps: Any, call: Call) -> Any:
        """Run the steps: each in a thread, pool work on the executor. When the call is
        cancelled, the executor cancels its jobs, the step in flight is let finish (a
        thread cannot be interrupted; steps are short) and the generator is closed."""
        sent: Any = None
        try:
            while True:
                step = asyncio.ensure_future(asyncio.to_thread(_step, steps, sent))
                try:
                    done, value = await asyncio.shield(step)
                except asyncio.CancelledError:
                    await _settle(step)
                    raise
                if done:
                    return value
                if value is None:
                    sent = None
                    continue
                work: PoolWork = value
                sent = await self.ctx.executor.map(
                    work.fn, work.items, report=True,
                    progress=lambda d, t, m: call.progress(d, t, "sections computed"))
        finally:
            await _settle(asyncio.ensure_future(asyncio.to_thread(steps.close)))

    @rpc("tasks", Param("document", "str", required=False, default="default"),
         Param("ids", "list", required=False, nullable=True, items="str",
               doc="Only these task IDs (unknown ones are listed under `missing`)."),
         Param("offset", "int", required=False, default=0, min=0),
         Param("limit", "int", required=False, default=1000, min=1, max=100_000),
         doc="A page of the stored tasks: {revision, tasks, total}.")
    async def tasks(self, call: Call, document: str, ids: list[str] | None, offset: int,
                    limit: int) -> Packed:
        return await self._run(self.service.tasks, document, ids, offset, limit)

    @rpc("graph", Param("document", "str", required=False, default="default"),
         doc="Validation, topological order, parallel levels and critical path.")
    async def graph(self, call: Call, document: str) -> Packed:
        return await self._run(self.service.graph, document)

    @rpc("next", Param("document", "str", required=False, default="default"),
         Param("limit", "int", required=False, default=1, min=1, max=1000),
         doc="The next available task(s): deps done, priority, fewest deps, position.")
    async def next(self, call: Call, document: str, limit: int) -> Packed:
        return await self._run(self.service.next, document, limit)

    @rpc("status", Param("document", "str", required=False, default="default"),
         Param("id", "str", required=False, nullable=True, doc="Task ID; omit for all."),
         Param("status", "str", required=False, nullable=True, choices=STATUSES,
               doc="Set this status (durable when the call returns)."),
         doc="Get or set task status.")
    async def status(self, call: Call, document: str, id: str | None,
                     status: str | None) -> Packed:
        if status is not None and id is None:
            raise InvalidParams("`status` needs an `id`")
        return await self._run(self.service.status, document, id, status)

    @rpc("export", Param("document", "str", required=False, default="default"),
         Param("format", "str", required=False, default="json", choices=FORMATS),
         doc="Render the tasks as catalytic JSON, Task Master tasks.json, Mermaid or Markdown.")
    async def export(self, call: Call, document: str, format: str) -> dict[str, Any]:
        content = await self._run(self.service.export, document, format)
        return {"document": document, "format": format, "content": content}

    @rpc("import", Param("document", "str", required=False, default="default"),
         Param("tasks_json", "str", doc="Contents of a Task Master tasks.json."),
         Param("tag", "str", required=False, default="master"),
         doc="Take task statuses from a Task Master tasks.json.")
    async def import_(self, call: Call, document: str, tasks_json: str,
                      tag: str) -> Packed:
        try:
            data = json.loads(tasks_json)
        except ValueError as e:
            raise RpcError(f"tasks_json is not JSON: {e}", code=BAD_IMPORT) from None
        try:
            return await self._run(self.service.import_taskmaster, document, data, tag)
        except ValueError as e:
            raise RpcError(str(e), code=BAD_IMPORT) from None

    @rpc("diff", Param("old", "str", doc="Old version of the document."),
         Param("new", "str", doc="New version of the document."),
         doc="Tasks added, removed, changed, moved and kept between two versions.")
    async def diff(self, call: Call, old: str, new: str) -> Packed:
        for t in (old, new):
            self._read(t, None)
        return await asyncio.to_thread(_breathing, self.service.diff_texts, old, new)

    async def _run(self, fn: Any, *args: Any) -> Any:
        try:
            return await asyncio.to_thread(_breathing, fn, *args)
        except UnknownDocument as e:
            raise RpcError(f"no decomposition stored for document {e.args[0]!r}",
                           code=UNKNOWN_DOCUMENT) from None
        except UnknownTask as e:
            raise RpcError(f"no task {e.args[0]!r} in that document", code=UNKNOWN_TASK) from None


def _step(steps: Any, sent: Any) -> tuple[bool, Any]:
    """Advance the generator by one step: (finished, its result or the work it yielded).
    Runs in a thread that hands the GIL to the loop often (`breathe.py`)."""
    try:
        with breathing():
            return False, steps.send(sent)
    except StopIteration as stop:
        return True, stop.value


def _packed(answer: dict[str, Any]) -> Packed:
    """The answer encoded in this thread, in slices (`answer_wire.py`), and its task list
    freed here, in slices too (every answer builds its `tasks` afresh)."""
    with breathing():
        packed = packed_answer(answer)
        release(answer, "tasks")
        return packed


def _breathing(fn: Any, *args: Any) -> Any:
    """`fn(*args)`, then its answer encoded, in a thread that hands the GIL over often.

    The cyclic collector is paused meanwhile: a 100,000-task answer is that many new
    dicts, which would otherwise trigger full collections of 100 ms and more (while
    holding the GIL) before the call ends and frees them."""
    paused = gc.isenabled()
    gc.disable()
    try:
        with breathing():
            out = fn(*args)
            if not isinstance(out, dict):
                return out
            packed = packed_answer(out)
            release(out, "tasks")
            return packed
    finally:
        if paused:
            gc.enable()


async def _settle(fut: asyncio.Future[Any]) -> None:
    """Wait for a thread's work to end even if cancelled meanwhile (it cannot be stopped)."""
    while not fut.done():
        try:
            await asyncio.shield(fut)
        except asyncio.CancelledError:
            continue
        except Exception:
            break
