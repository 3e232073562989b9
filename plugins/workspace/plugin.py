"""The RPC face of the workspace: validate params, keep memory hits on the
event loop, send disk I/O to threads and trace replay to the process pool.

Nothing here waits on the disk from the loop: the quick path touches only the
memory tier, noted accesses are flushed to the index by a background thread
once enough of them wait, and every other verb runs its store work in a thread.
"""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any

from catalytic.plugins.base import (
    DEFER,
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
from catalytic.protocol.fields import MISSING, FieldError

from .codec import CODECS
from .disk import DiskError
from .jobs import simulate_job
from .policies import NAMES
from .sweep import job_input, plan, run_sweep
from .traces import BYTES_PER_KEY, FORMATS, TraceError, estimate_requests
from .workspace import KEY_RULE, InvalidKey, Settings, ValueTooLarge, Workspace, check_key

WRITE_FAILED = -33001
"""The disk tier could not write (disk full, I/O error): nothing was acknowledged."""
TRACE_UNREADABLE = -33002
"""`workspace.simulate` was given a trace that cannot be read or parsed (names the line)."""

SNAPSHOT = "snapshot.json"


SIMULATE = "workspace.simulate"


def _first_non_int(items: list[Any]) -> int | None:
    """The index of the first item that is not an int (bools are not), or None."""
    for i, item in enumerate(items):
        if type(item) is not int:
            return i
    return None


def _key(key: Any, field: str = "key", where: str = "workspace") -> str:
    """The key, or -32602 in the shared field shape naming it."""
    try:
        return check_key(key)
    except InvalidKey:
        raise FieldError(field, key, where, f"a key of {KEY_RULE}").invalid_params() from None


def _bad(field: str, value: Any, where: str, expected: str) -> InvalidParams:
    return FieldError(field, value, where, expected).invalid_params()


class WorkspacePlugin(Plugin):
    name = "workspace"
    version = "0.1.0"
    settings = (
        Setting("memory_capacity", "bytes", 256 << 20,
                "Memory tier capacity in stored (compressed) bytes.", min=1),
        Setting("disk_capacity", "bytes", 10 << 30,
                "Disk tier capacity in stored bytes, under the state directory.", min=1),
        Setting("policy", "str", "auto", "Eviction policy of the memory tier.", choices=NAMES),
        Setting("compression", "str", "zstd", "Default codec for new entries.", choices=CODECS),
        Setting("zstd_level", "int", 3, "zstandard compression level.", min=1, max=22),
        Setting("min_ratio", "float", 0.9,
                "Store raw unless a sample compresses to at most this fraction of its size.",
                min=0.01, max=1),
        Setting("max_value_bytes", "bytes", 64 << 20,
                "Largest value accepted by put (larger: error -32004).", min=1),
        Setting("prefetch", "bool", True,
                "Learn key successions and move likely next keys from disk to memory."),
        Setting("prefetch_depth", "int", 2, "Successors prefetched after each access.",
                min=0, max=64),
        Setting("prefetch_budget_bytes", "bytes", 8 << 20,
                "Most stored bytes moved by one prefetch.", min=0),
        Setting("snapshot_keys", "int", 100_000,
                "Hottest memory-tier keys remembered for a warm restart.", min=0),
        Setting("trace_roots", "path_list", ["~"],
                "Folders that workspace.simulate may read trace files from."),
        Setting("max_simulate_requests", "int", 20_000_000,
                "Most requests one workspace.simulate call replays.", min=1),
    )

    async def start(self, ctx: PluginContext) -> None:
        self.ctx = ctx
        settings = Settings.from_config(ctx.config)
        self.ws = await asyncio.to_thread(Workspace, ctx.state_dir, ctx, settings)
        self._prefetching: asyncio.Task[int] | None = None
        self._next_prefetch: str | None = None
        self._flushing: asyncio.Task[int] | None = None
        self.simulations = 0

    async def restore(self) -> None:
        n = await asyncio.to_thread(self.ws.restore, self.ctx.state_dir / SNAPSHOT)
        self.ctx.log.info("workspace: %d keys back in memory from the snapshot", n)

    async def snapshot(self) -> None:
        await asyncio.to_thread(self.ws.snapshot, self.ctx.state_dir / SNAPSHOT)

    async def stop(self) -> None:
        if self._prefetching is not None:
            self._prefetching.cancel()
            with contextlib.suppress(BaseException):
                await self._prefetching
        if self._flushing is not None:
            with contextlib.suppress(BaseException):
                await self._flushing
        await asyncio.to_thread(self.ws.close)

    def stats(self) -> dict[str, Any]:
        st = self.ws.stats()
        return {"policy": st["policy"], "memory_hit_ratio": st["memory"]["hit_ratio"],
                "memory_entries": st["memory"]["entries"], "memory_bytes": st["memory"]["bytes"],
                "disk_entries": st["disk"]["entries"], "disk_bytes": st["disk"]["bytes"],
                "compression_ratio": st["compression"]["ratio"],
                "prefetch_precision": st["prefetch"]["precision"],
                "simulations": self.simulations}

    def memory_bytes(self) -> int:
        return self.ws.mem_used

    async def shrink(self, target_bytes: int) -> int:
        return await asyncio.to_thread(self.ws.shrink, target_bytes)

    # -- access bookkeeping and prefetch in the background --------------------------
    def _after_access(self, key: str) -> None:
        if self.ws.flush_due and (self._flushing is None or self._flushing.done()):
            self._flushing = asyncio.create_task(self._flush_access())
        if not self.ws.wants_prefetch(key):
            return
        if self._prefetching is not None and not self._prefetching.done():
            self._next_prefetch = key  # the newest access wins; older ones are stale
            return
        self._prefetching = asyncio.create_task(self._prefetch(key))

    async def _flush_access(self) -> int:
        """Write the noted accesses in a thread; a failure is logged (they only order
        disk-tier eviction) and the next batch tries again."""
        try:
            return await asyncio.to_thread(self.ws.flush_access)
        except Exception as exc:
            self.ctx.log.warning("workspace: cannot record accesses in the index: %s", exc)
            return 0

    async def _prefetch(self, key: str) -> int:
        moved = 0
        while True:
            moved += await asyncio.to_thread(self.ws.prefetch_after, key)
            nxt, self._next_prefetch = self._next_prefetch, None
            if nxt is None:
                return moved
            key = nxt

    # -- verbs -----------------------------------------------------------------------
    async def _put(self, data: bytes, key: str | None, ttl_s: float | None,
                   codec: str | None) -> dict[str, Any]:
        if key is not None:
            _key(key)
        try:
            return await asyncio.to_thread(self.ws.put, data, key, ttl_s, codec)
        except ValueTooLarge as exc:
            raise TooLarge(str(exc), {"size": len(data)}) from None
        except DiskError as exc:
            raise RpcError(f"write failed, nothing stored: {exc.strerror or exc}",
                           code=WRITE_FAILED) from None

    @rpc("put",
         Param("data", "bin", doc="The value."),
         Param("key", "str", required=False, nullable=True,
               doc="Key; default: BLAKE2b-256 of the content (hex)."),
         Param("ttl_s", "number", required=False, nullable=True, min=0,
               doc="Expire after this many seconds."),
         Param("codec", "str", required=False, nullable=True, choices=CODECS,
               doc="Override the compression codec for this entry."),
         doc="Store a value durably; returns its key and where it landed.")
    async def put(self, call: Call, data: bytes, key: str | None = None,
                  ttl_s: float | None = None, codec: str | None = None) -> dict[str, Any]:
        return await self._put(data, key, ttl_s, codec)

    @rpc("put_many",
         Param("items", "list", items="map",
               doc="Maps of {data: bin, key?: str, ttl_s?: number, codec?: str}."),
         doc="Store several values; each is acknowledged only once durable.")
    async def put_many(self, call: Call, items: list[dict[str, Any]]) -> dict[str, Any]:
        for i, item in enumerate(items):
            if not isinstance(item.get("data"), bytes):
                raise _bad(f"items[{i}].data", item.get("data"), "workspace.put_many",
                           "binary data")
        out = []
        for i, item in enumerate(items):
            out.append(await self._put(item["data"], item.get("key"), item.get("ttl_s"),
                                       item.get("codec")))
            call.progress(i + 1, len(items))
        return {"results": out, "keys": [r["key"] for r in out]}

    @rpc("get", Param("key", "str"), doc="Fetch a value: {data, tier} or {data: nil}.",
         quick="get_from_memory")
    async def get(self, call: Call, key: str) -> dict[str, Any]:
        _key(key, where="workspace.get")
        data = self.ws.quick_get(key)
        tier: str | None = "memory"
        if data is None:
            data, tier = await asyncio.to_thread(self.ws.get, key)
        self._after_access(key)
        return {"data": data, "tier": tier}

    def get_from_memory(self, call: Call, key: str) -> Any:
        """`get`'s memory-tier hits that are cheap to decode, answered without a task;
        anything else is DEFERred."""
        _key(key, where="workspace.get")
        data = self.ws.quick_get(key)
        if data is None:
            return DEFER
        self._after_access(key)
        return {"data": data, "tier": "memory"}

    def _reply_limit(self) -> int:
        return int(self.ctx.daemon_config.get("limits", {}).get("max_message_bytes", 64 << 20))

    @rpc("get_many", Param("keys", "list", items="str"),
         doc="Fetch several values, in order. Sizes are read from the index first: -32004 "
             "when the values add up to more than limits.max_message_bytes, -32004/-32002 "
             "when the reply does not fit daemon.memory_budget.")
    async def get_many(self, call: Call, keys: list[str]) -> dict[str, Any]:
        for i, k in enumerate(keys):
            _key(k, f"keys[{i}]", "workspace.get_many")
        need, held = await asyncio.to_thread(self.ws.reply_bytes, keys)
        limit = self._reply_limit()
        if need > limit:
            raise TooLarge(f"the {len(keys)} values add up to {need} bytes; "
                           f"limits.max_message_bytes is {limit}",
                           {"bytes": need, "limit": "limits.max_message_bytes"})
        # the values once (a repeated key shares its copy) and the packed reply
        self.ctx.admit(held + need,
                       f"workspace.get_many of {len(keys)} keys")
        got = await asyncio.to_thread(self.ws.get_many, keys)
        if keys:
            self._after_access(keys[-1])
        return {"items": [{"key": k, "data": d, "tier": t}
                          for k, (d, t) in zip(keys, got, strict=True)]}

    @rpc("has", Param("key", "str"), doc="Whether a key is stored, and in which tier.")
    async def has(self, call: Call, key: str) -> dict[str, Any]:
        tier = await asyncio.to_thread(self.ws.has, _key(key, where="workspace.has"))
        return {"present": tier is not None, "tier": tier}

    @rpc("delete", Param("key", "str"), doc="Remove a key from both tiers.")
    async def delete(self, call: Call, key: str) -> dict[str, Any]:
        key = _key(key, where="workspace.delete")
        return {"deleted": await asyncio.to_thread(self.ws.delete, key)}

    @rpc("stats", doc="Per-tier entries, bytes, hits, misses, evictions; compression; prefetch.")
    async def stats_(self, call: Call) -> dict[str, Any]:
        return await asyncio.to_thread(self.ws.stats)

    @rpc("clear", doc="Remove every entry from both tiers.")
    async def clear(self, call: Call) -> dict[str, Any]:
        return {"removed": await asyncio.to_thread(self.ws.clear)}

    @rpc("policy", Param("name", "str", required=False, nullable=True, choices=NAMES,
                         doc="Set this policy; omit to read the current one."),
         doc="Get or set the memory tier's eviction policy at run time.")
    async def policy(self, call: Call, name: str | None = None) -> dict[str, Any]:
        previous = self.ws.policy_name()
        if name is not None:
            await asyncio.to_thread(self.ws.set_policy, name)
        return {"policy": self.ws.policy_name(), "previous": previous}

    def _trace_path(self, trace: str, fmt: str, limit: int) -> tuple[str, int]:
        """The trace resolved under `workspace.trace_roots` (the contract's one rule for
        caller paths) and the most requests it can yield. Blocking: from a thread."""
        path = self.ctx.resolve_path(trace, "trace_roots", must_exist=True)
        if not path.is_file():
            raise _bad("trace", trace, SIMULATE, "a file under workspace.trace_roots")
        try:
            return str(path), estimate_requests(path, fmt, limit)
        except TraceError as exc:
            raise _bad("trace", trace, SIMULATE, f"a trace in format {fmt!r} ({exc})") from None
        except OSError:
            raise _bad("trace", trace, SIMULATE, "a readable file") from None

    @rpc("simulate",
         Param("keys", "list", required=False, nullable=True,
               doc="Uploaded key list (integers; checked in a worker thread, since a "
                   "list of millions would hold the event loop)."),
         Param("trace", "str", required=False, nullable=True,
               doc="Or: a trace file on the daemon's machine (under workspace.trace_roots)."),
         Param("format", "str", required=False, default="auto", choices=FORMATS,
               doc="Trace format; auto guesses from the name."),
         Param("limit", "int", required=False, nullable=True, min=1,
               doc="Replay at most this many requests."),
         Param("policies", "list", required=False, default=["lru", "s3fifo", "auto"],
               items="str", doc="Policy names."),
         Param("capacities", "list", items="int", doc="Capacities in objects (size 1 each)."),
         Param("prefetch", "bool", required=False, default=False,
               doc="Also prefetch predicted successors."),
         doc="Replay keys through policies and capacities in the process pool (one job per "
             "pair or per policy when there are several workers); hit ratios.",
         heavy=True)
    async def simulate(self, call: Call, capacities: list[int], keys: list[int] | None = None,
                       trace: str | None = None, format: str = "auto", limit: int | None = None,
                       policies: list[str] | None = None,
                       prefetch: bool = False) -> dict[str, Any]:
        policies = policies or ["lru", "s3fifo", "auto"]
        bad = [p for p in policies if p not in NAMES]
        if bad:
            raise _bad("policies", bad, SIMULATE, "policy names from " + ", ".join(NAMES))
        if not capacities or any(c < 1 for c in capacities):
            raise _bad("capacities", capacities, SIMULATE, "a list of positive integers")
        if (keys is None) == (trace is None):
            raise _bad("keys", MISSING if keys is None else "(given with trace)", SIMULATE,
                       "exactly one of keys or trace")
        cap = self.ctx.config["max_simulate_requests"]
        limit = min(limit or cap, cap)
        if keys is not None and len(keys) > cap:
            raise TooLarge(f"{len(keys)} keys; workspace.max_simulate_requests is {cap}")
        path = None
        if trace is not None:
            path, requests = await asyncio.to_thread(self._trace_path, trace, format, limit)
        else:
            requests = len(keys or ())
            at = await asyncio.to_thread(_first_non_int, keys or [])
            if at is not None:
                raise _bad(f"keys[{at}]", (keys or [])[at], SIMULATE, "an integer")
        ex = self.ctx.executor
        fan = len(policies) * len(capacities) > 1 and ex.workers > 1
        at_once = min(ex.workers, len(plan(policies, capacities, ex.workers))) if fan else 1
        self.ctx.admit(requests * BYTES_PER_KEY * at_once,
                       f"workspace.simulate of {requests} requests in {at_once} job(s)")
        try:
            if fan:
                out = await run_sweep(ex, call.progress, self.ctx.state_dir, keys, path, format,
                                      limit, policies, capacities, prefetch)
                if path is not None:
                    out["trace"] = path
            else:
                async with job_input(ex, self.ctx.state_dir, keys, path, format,
                                     limit) as (ship, job_path, job_fmt):
                    out = await ex.submit(simulate_job, ship, job_path, job_fmt, limit,
                                          policies, capacities, prefetch,
                                          progress=call.progress)
                out.pop("trace", None)  # a temporary file's name when keys were uploaded
                if path is not None:
                    out["trace"] = path
        except TraceError as exc:
            raise RpcError(str(exc), code=TRACE_UNREADABLE) from None
        self.simulations += 1
        return out
