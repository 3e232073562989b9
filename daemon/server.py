"""Server: start-up, serving, reload and a staged, time-bounded shutdown.

Read it top to bottom: `run` → `startup` → wait for the stop event (set by
SIGTERM/SIGINT or `system.shutdown`) → `shutdown`. SIGHUP reloads.
"""

from __future__ import annotations

import asyncio
import fcntl
import gc
import logging
import os
import signal
import socket
import stat
import time
from pathlib import Path
from typing import Any

from prometheus_client import CollectorRegistry

from catalytic.client.discover import read_status
from catalytic.config.load import Config, ConfigError
from catalytic.config.paths import status_path
from catalytic.daemon import systemd
from catalytic.daemon.connection import Connection
from catalytic.daemon.dispatch import Dispatcher
from catalytic.daemon.executor import BaseExecutor
from catalytic.daemon.governor import MemoryGovernor
from catalytic.daemon.http import HttpServer
from catalytic.daemon.plugins import PluginHost, daemon_version
from catalytic.daemon.state import Limits, ServerState
from catalytic.daemon.store import atomic_write_json, private_dir
from catalytic.daemon.system import System
from catalytic.plugins.base import PluginContext
from catalytic.protocol.errors import InvalidParams
from catalytic.protocol.fields import FieldError

SWEEP_INTERVAL_S = 1.0


class StartupError(RuntimeError):
    """Start-up cannot go on; the message says why and what to do."""


class Server:
    def __init__(self, config: Config, host: PluginHost, socket_path: Path, state_dir: Path,
                 log: Any, reload_config: Any) -> None:
        self.host = host
        self.log = log
        self._reload_config = reload_config
        self.state = ServerState(
            config=config, dispatcher=Dispatcher(), socket_path=socket_path,
            state_dir=state_dir, log=log, limits=Limits.from_config(config),
            allowed_uids=frozenset(config.values["security"]["allowed_uids"]),
            allowed_gids=frozenset(config.values["security"]["allowed_gids"]))
        self.stop_event = asyncio.Event()
        self.stop_reason = ""
        self.listeners: list[asyncio.AbstractServer] = []
        self.http: HttpServer | None = None
        self._lock_fd: int | None = None
        self._background: list[asyncio.Task[None]] = []
        self._bound_path = False

    # -- start-up -------------------------------------------------------------------
    async def startup(self, executor: BaseExecutor) -> None:
        st = self.state
        st.executor = executor
        st.plugins = self.host
        loop = asyncio.get_running_loop()
        for sig, why in ((signal.SIGTERM, "SIGTERM"), (signal.SIGINT, "SIGINT")):
            loop.add_signal_handler(sig, self.request_stop, why)
        loop.add_signal_handler(signal.SIGHUP, lambda: asyncio.ensure_future(self.reload()))
        sockets = systemd.listen_fds()
        if sockets:  # socket activation: systemd chose the path
            st.socket_path = systemd.bound_path(sockets[0]) or st.socket_path
            private_dir(st.socket_path.parent)
        else:
            sockets = [self.bind()]
        await executor.start()  # a cluster backend connects (or starts retrying) here
        system = System(st, self.request_stop, self.reload)
        for verb, method in System.methods().items():
            st.dispatcher.register("system", method, getattr(system, System.handler_name(verb)))
        registry = CollectorRegistry(auto_describe=True)
        st.registry = registry
        self.governor = MemoryGovernor(st, self.host, self.log)  # plugins admit through it
        st.governor = self.governor
        await self.host.start_all(lambda name: self.plugin_context(name, registry),
                                  st.dispatcher)
        self.http = HttpServer(st, registry)
        st.health_checks.append(executor.problems)
        await self.http.start()
        # The status file exists before the first call is answered.
        atomic_write_json(status_path(st.socket_path), {
            "pid": os.getpid(), "socket": str(st.socket_path), "version": daemon_version(),
            "started": st.started, "http": st.http_url}, durable=False)
        for sock in sockets:
            self.listeners.append(await loop.create_unix_server(
                lambda: Connection(st), sock=sock, backlog=1024))
        self._background.append(asyncio.create_task(self.sweep()))
        self._background.append(asyncio.create_task(self.governor.run()))
        interval = st.config.values["daemon"]["snapshot_interval_s"]
        if interval > 0:
            self._background.append(asyncio.create_task(self.snapshot_loop(interval)))
        watchdog = systemd.watchdog_interval()
        if watchdog:
            self._background.append(asyncio.create_task(self.watchdog_loop(watchdog)))
        self.apply_gc(st.config)
        gc.freeze()
        failed = self.host.failed_names()
        status = f"serving on {st.socket_path}" + (f"; failed plugins: {', '.join(failed)}"
                                                   if failed else "")
        systemd.notify("READY=1", f"STATUS={status}", f"MAINPID={os.getpid()}")
        self.log.info("catalyticd %s %s (pid %d)", daemon_version(), status, os.getpid())

    def plugin_context(self, name: str, registry: Any) -> PluginContext:
        st = self.state
        assert st.executor is not None
        return PluginContext(
            name=name, config=st.config.section(name),
            state_dir=private_dir(st.state_dir / name), executor=st.executor,
            metrics=registry, log=logging.getLogger(f"catalytic.plugins.{name}"),
            call=st.dispatcher.invoke, daemon_config=st.config.values,
            socket_path=st.socket_path, durability=st.config.values["daemon"]["durability"],
            memory=self.governor, tokens=st.dispatcher.tokens)

    def bind(self) -> socket.socket:
        """Bind the socket, refusing to start beside a live daemon and replacing a stale one."""
        path = self.state.socket_path
        if not path.parent.exists():
            private_dir(path.parent)
        elif path.parent.stat().st_mode & 0o077:
            self.log.warning("socket directory %s is accessible to others (mode %o); the "
                             "socket itself is 0600", path.parent,
                             stat.S_IMODE(path.parent.stat().st_mode))
        lock_path = path.with_name(path.name + ".lock")
        fd = os.open(lock_path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            raise StartupError(f"another catalyticd {self._other_pid()}is already serving "
                               f"{path}; stop it first (`catalytic stop`)") from None
        self._lock_fd = fd
        if path.exists() or path.is_symlink():
            probe = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            try:
                probe.connect(str(path))
            except OSError:
                self.log.warning("removing stale socket %s left by a crashed daemon", path)
                path.unlink()
            else:
                raise StartupError(f"another process {self._other_pid()}answers on {path}")
            finally:
                probe.close()
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        old = os.umask(0o177)
        try:
            sock.bind(str(path))
        finally:
            os.umask(old)
        os.chmod(path, 0o600)
        # Not listening yet: clients get ECONNREFUSED (and retry) until start-up is done.
        self._bound_path = True
        return sock

    def _other_pid(self) -> str:
        status = read_status(self.state.socket_path)
        return f"(pid {status.pid}) " if status else ""

    @staticmethod
    def apply_gc(config: Config) -> None:
        thresholds = config.values["daemon"]["gc_thresholds"]
        if thresholds:
            gc.set_threshold(*thresholds[:3])

    # -- serving --------------------------------------------------------------------
    def request_stop(self, reason: str) -> None:
        if not self.stop_event.is_set():
            self.stop_reason = reason
            self.log.info("stopping (%s)", reason)
            self.stop_event.set()

    async def sweep(self) -> None:
        """Once a second, every connection checks its time and write bounds (slowloris,
        idle peers, peers that do not read their answers)."""
        while True:
            await asyncio.sleep(SWEEP_INTERVAL_S)
            now = time.monotonic()
            for conn in list(self.state.connections):
                conn.check_bounds(now)

    async def snapshot_loop(self, interval: float) -> None:
        while True:
            await asyncio.sleep(interval)
            await self.host.snapshot_all()

    async def watchdog_loop(self, interval: float) -> None:
        while True:
            systemd.notify("WATCHDOG=1")
            await asyncio.sleep(interval)

    async def reload(self) -> dict[str, Any]:
        """Re-read the configuration without dropping connections."""
        systemd.reloading()
        st = self.state
        try:
            new = self._reload_config()
        except ConfigError as exc:
            self.log.error("reload refused, keeping the running config: %s", exc)
            systemd.notify("READY=1", f"STATUS=reload refused: {exc}")
            data = exc.data() if isinstance(exc, FieldError) else None
            raise InvalidParams(f"reload refused, keeping the running config: {exc}",
                                data) from None
        changed = [f"{sec}.{key}" for sec, values in new.values.items()
                   for key, value in values.items()
                   if st.config.values.get(sec, {}).get(key) != value]
        st.config = new
        st.limits = Limits.from_config(new)
        st.allowed_uids = frozenset(new.values["security"]["allowed_uids"])
        st.allowed_gids = frozenset(new.values["security"]["allowed_gids"])
        logging.getLogger("catalytic").setLevel(new.values["daemon"]["log_level"].upper())
        self.apply_gc(new)
        for name, plugin in self.host.running():
            try:
                await plugin.reload(new.section(name))
            except Exception:
                self.log.exception("plugin %s: reload failed", name)
        restart = [c for c in changed if c.split(".")[0] in ("http",)
                   or c in ("daemon.loop", "daemon.workers", "daemon.executor",
                            "daemon.plugins") or c.startswith("daemon.dask_")]
        self.log.info("configuration reloaded; changed: %s", ", ".join(changed) or "nothing")
        systemd.notify("READY=1", f"STATUS=serving on {st.socket_path} (reloaded)")
        return {"reloaded": True, "changed": changed, "needs_restart": restart}

    # -- shutdown -------------------------------------------------------------------
    async def shutdown(self) -> None:
        st = self.state
        systemd.notify("STOPPING=1", f"STATUS=stopping ({self.stop_reason})")
        for listener in self.listeners:
            listener.close()
        self._remove_socket()
        grace = st.config.values["daemon"]["grace_seconds"]
        tasks = st.dispatcher.tasks()
        if tasks:
            self.log.info("waiting up to %g s for %d call(s) in flight", grace, len(tasks))
            _done, pending = await asyncio.wait(tasks, timeout=grace)
            st.dispatcher.cancel_all("the daemon is shutting down")
            if pending:
                await asyncio.wait(pending, timeout=5)
        for task in self._background:
            task.cancel()
        await asyncio.sleep(0)  # let the last answers reach the transports
        for conn in list(st.connections):
            if conn.transport is not None:
                conn.transport.close()
        await self.host.snapshot_all()
        await self.host.stop_all(st.dispatcher)
        if self.http is not None:
            await self.http.stop()
        if st.executor is not None:
            await st.executor.close()
        for listener in self.listeners:
            await listener.wait_closed()
        if self._lock_fd is not None:
            os.close(self._lock_fd)
        self.log.info("stopped")

    def _remove_socket(self) -> None:
        """Remove the status file; the socket too, unless systemd owns it."""
        st = self.state
        paths = [status_path(st.socket_path)] + ([st.socket_path] if self._bound_path else [])
        for path in paths:
            try:
                path.unlink()
            except FileNotFoundError:
                pass
