"""The built-in `system.*` methods: handshake, ping, plugins, stats, config, control."""

from __future__ import annotations

import asyncio
import os
from collections.abc import Awaitable, Callable
from typing import Any

import psutil

from catalytic.config.load import Config
from catalytic.config.paths import recording_path
from catalytic.daemon.calls import RequestCall
from catalytic.daemon.plugins import daemon_version
from catalytic.daemon.recorder import DEFAULT_MAX_BYTES, WorkloadRecorder
from catalytic.daemon.state import ServerState
from catalytic.plugins.base import Param, Plugin, rpc
from catalytic.protocol.errors import InternalError, InvalidParams
from catalytic.protocol.wire import MAX_MSGID, PROTOCOL_VERSION


class System(Plugin):
    """Registered like a plugin, but built in; its handlers are plain functions (inline)."""

    name = "system"

    def __init__(self, state: ServerState, stop: Callable[[str], None],
                 reload: Callable[[], Awaitable[dict[str, Any]]]) -> None:
        self.state = state
        self._stop = stop
        self._reload = reload
        self._proc = psutil.Process()
        self._proc.cpu_percent(None)

    @rpc("hello", doc="Protocol and daemon version, plugins, methods with parameter schemas.")
    def hello(self) -> dict[str, Any]:
        st = self.state
        plugins = {p["name"]: p["version"] for p in st.plugins.report()} if st.plugins else {}
        return {"protocol": PROTOCOL_VERSION, "version": daemon_version(),
                "daemon": "catalyticd", "pid": os.getpid(), "socket": str(st.socket_path),
                "plugins": plugins, "methods": st.dispatcher.schemas(),
                "limits": st.limits.__dict__, "http": st.http_url}

    @rpc("ping", Param("payload", "any", required=False, default="pong", nullable=True,
                       doc="Returned unchanged."),
         doc="Echo `payload` (or \"pong\").")
    def ping(self, payload: Any) -> Any:
        return payload

    @rpc("plugins", doc="Loaded and failed plugins, with the reason for each failure.")
    def plugins(self) -> list[dict[str, Any]]:
        st = self.state
        out = st.plugins.report() if st.plugins else []
        backend = st.executor.report() if st.executor else None  # a cluster can be down
        return out + ([backend] if backend else [])

    @rpc("stats", doc="Uptime, connections, requests by method, errors, RSS, CPU, plugins.")
    def stats(self) -> dict[str, Any]:
        st = self.state
        methods = {name: e.stats.summary() for name, e in st.dispatcher.table.items()
                   if e.stats.calls}
        with self._proc.oneshot():
            mem = self._proc.memory_info()
            cpu = self._proc.cpu_times()
            cpu_percent = self._proc.cpu_percent(None)
        return {
            "uptime_s": st.uptime(), "pid": os.getpid(), "version": daemon_version(),
            "connections": len(st.connections), "connections_total": st.total_connections,
            "connections_refused": st.refused_connections,
            "requests": sum(m["calls"] for m in methods.values()),
            "errors": sum(sum(m["errors"].values()) for m in methods.values()),
            "methods": methods, "rss_bytes": mem.rss,
            "cpu_user_s": cpu.user, "cpu_system_s": cpu.system, "cpu_percent": cpu_percent,
            "overloaded": st.overloaded,
            "governor": st.governor.stats() if st.governor is not None else None,
            "executor": st.executor.stats() if st.executor else None,
            "plugins": st.plugins.stats() if st.plugins else {},
        }

    @rpc("config", doc="The effective configuration and where each value came from.")
    def config(self) -> dict[str, Any]:
        cfg: Config = self.state.config
        return {"path": str(cfg.path) if cfg.path else None, "values": cfg.values,
                "sources": cfg.sources, "unvalidated": cfg.extra}

    @rpc("cancel", Param("id", "int", min=0, max=MAX_MSGID,
                         doc="msgid of a call on this connection."),
         doc="Cancel a call in flight on this connection.")
    def cancel(self, call: RequestCall, id: int) -> dict[str, Any]:
        if not self.state.dispatcher.cancel(call.session, id):
            return {"cancelled": False, "reason": f"no call {id} in flight on this connection"}
        return {"cancelled": True}

    @rpc("http_token", doc="The HTTP address and the token its `/api/*` routes require "
                           "(header `Authorization: Bearer <token>`); `dashboard` opens the "
                           "dashboard with it.")
    def http_token(self) -> dict[str, Any]:
        st = self.state
        url = st.http_url
        return {"url": url, "token": st.http_token,
                "dashboard": f"{url}?token={st.http_token}" if url else None}

    @rpc("record", Param("action", "str", choices=("start", "stop", "status")),
         Param("name", "str", required=False, default="workload",
               doc="File name (under <state>/workloads/) for the saved log."),
         Param("max_calls", "int", required=False, default=100_000, min=1, max=10_000_000),
         Param("max_bytes", "int", required=False, default=DEFAULT_MAX_BYTES, min=1024,
               max=1 << 30, doc="Stop growing the log at about this many bytes."),
         doc="Record the workload (method, key, sizes, latency; never payloads) for `tune.run`: "
             "accepted calls only, keys cut at 256 characters.")
    async def record(self, action: str, name: str, max_calls: int,
                     max_bytes: int) -> dict[str, Any]:
        st = self.state
        if action == "start":
            if recording_path(st.state_dir, name) is None:
                raise InvalidParams(f"system.record: name {name!r} must be letters, digits, "
                                    "- or _")
            if st.recorder is not None:
                raise InvalidParams(f"system.record: {st.recorder.name!r} is being recorded; "
                                    "stop it first", {"recording": st.recorder.name})
            st.recorder = WorkloadRecorder(name, max_calls, max_bytes)
            return st.recorder.status()
        recorder = st.recorder
        if recorder is None:
            return {"recording": False}
        if action == "status":
            return recorder.status()
        path = recording_path(st.state_dir, recorder.name)
        assert path is not None
        st.recorder = None  # calls from here on are not the recording's
        try:
            await asyncio.to_thread(recorder.save, path)  # off the loop: up to max_calls lines
        except OSError as exc:
            st.recorder = recorder  # kept, and recording again: `stop` may be asked again
            raise InternalError(f"system.record: could not save {path}: {exc}; the recording "
                                "is kept, stop it again to retry") from None
        return {**recorder.status(), "recording": False, "path": str(path)}

    @rpc("shutdown", doc="Stop the daemon gracefully (as SIGTERM does).")
    def shutdown(self) -> dict[str, Any]:
        self._stop("system.shutdown")
        return {"stopping": True, "pid": os.getpid()}

    @rpc("reload", doc="Reload the configuration (as SIGHUP does).")
    async def reload_daemon(self) -> dict[str, Any]:
        """Named apart from `Plugin.reload(config)`, the per-plugin hook it must not shadow."""
        return await self._reload()
