"""The `dask` executor backend: the same `submit`/`map` as the local pool, on a Dask cluster.

Dask distributed does the scheduling; this module only maps the daemon's
executor contract onto it:

- a job is one Dask task with a unique key (never deduplicated by Dask);
- progress goes worker → scheduler → daemon as structured events on one topic
  (`Worker.log_event` / `Client.subscribe_topic`), rate-limited like the pool;
- cancelling the awaiting task cancels the Dask future and sets a flag in every
  worker process (`Client.run`) that the job's `Reporter` checks, so a running
  job stops at its next report;
- a worker that dies mid-task is handled by the scheduler (the task runs again
  elsewhere, up to `distributed.scheduler.allowed-failures`); when the cluster
  gives up (`KilledWorker`) or loses the task, the daemon sends it again, up to
  `daemon.dask_retries` times. Errors the job raises come back unchanged.

The client connects in the background; while the cluster is unreachable (or has
no workers) calls run in the local pool when `daemon.dask_fallback_local` is
set, else they get -32002 naming the address and the reason.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
import secrets
from collections.abc import Callable
from concurrent.futures import CancelledError as FutureCancelledError
from typing import Any, TypeVar

import distributed
from distributed import Client
from distributed.scheduler import KilledWorker
from distributed.security import Security

from catalytic.daemon.executor import BaseExecutor, LocalExecutor
from catalytic.daemon.executor_dask_worker import TOPIC, mark_cancelled, run_job
from catalytic.plugins.base import JobCancelled, ProgressFn
from catalytic.protocol.errors import InternalError, Overloaded

T = TypeVar("T")
INFO_INTERVAL_S = 2.0

# -- daemon side --------------------------------------------------------------------------------


class DaskExecutor(BaseExecutor):
    """`Executor` on a Dask cluster (or a LocalCluster), with an optional local fallback."""

    backend = "dask"

    def __init__(self, address: str, *, workers: int = 0, fallback: LocalExecutor | None = None,
                 security: Security | None = None, connect_timeout_s: float = 10.0,
                 reconnect_interval_s: float = 5.0, retries: int = 2,
                 log: logging.Logger | None = None) -> None:
        self.address = address
        self.local_workers = workers
        self.fallback = fallback
        self.security = security
        self.connect_timeout_s = connect_timeout_s
        self.reconnect_interval_s = reconnect_interval_s
        self.retries = retries
        self.log = log or logging.getLogger("catalytic.executor")
        self.client: Client | None = None
        self.local_cluster: Any = None
        self.error: str | None = "not connected yet"
        self._token = secrets.token_hex(4)
        self._ids = itertools.count(1)
        self._progress: dict[str, ProgressFn] = {}
        self._background: set[asyncio.Task[Any]] = set()
        self._connector: asyncio.Task[None] | None = None
        self._info: dict[str, Any] = {}
        self._closing = False
        self._first_attempt = asyncio.Event()
        self.submitted = self.completed = self.failed = self.cancelled = 0
        self.running = self.resubmitted = self.fell_back = 0

    @classmethod
    def from_config(cls, daemon: dict[str, Any], fallback: LocalExecutor | None,
                    log: logging.Logger) -> DaskExecutor:
        tls = {k: str(daemon[f"dask_{k}"]) for k in ("tls_ca_file", "tls_client_cert",
                                                     "tls_client_key") if daemon[f"dask_{k}"]}
        security = None
        if tls or daemon["dask_require_encryption"]:
            security = Security(require_encryption=daemon["dask_require_encryption"], **tls)
        return cls(daemon["dask_address"], workers=daemon["workers"], fallback=fallback,
                   security=security, connect_timeout_s=daemon["dask_connect_timeout_s"],
                   reconnect_interval_s=daemon["dask_reconnect_interval_s"],
                   retries=daemon["dask_retries"], log=log)

    # -- connection ---------------------------------------------------------------------------

    @property
    def where(self) -> str:
        return self.address or "a LocalCluster"

    @property
    def same_host(self) -> bool:
        """A LocalCluster's workers are on this host; a scheduler's address may be anywhere."""
        return not self.address

    @property
    def cluster(self) -> bool:
        return True

    @property
    def workers(self) -> int:
        """Threads of the cluster (what fans out at once), or the fallback's while it is down."""
        if self._usable() is not None:
            return int(self._info.get("total_threads") or 1)
        if self.fallback is not None:
            return self.fallback.workers
        return int(self._info.get("total_threads") or 1)

    async def start(self) -> None:
        """Begin connecting; wait for the first attempt so plugins see the real worker count."""
        self._connector = asyncio.create_task(self._connect_loop(), name="dask-connect")
        try:
            await asyncio.wait_for(self._first_attempt.wait(), self.connect_timeout_s + 30)
        except TimeoutError:
            self.log.warning("dask: %s still not reached; serving while it connects", self.where)

    async def _connect_loop(self) -> None:
        while not self._closing:
            try:
                await self._connect()
            except Exception as exc:
                self.error = f"cannot reach the Dask scheduler at {self.where}: {exc}"
                self.log.warning("dask: %s (retrying every %g s)", self.error,
                                 self.reconnect_interval_s)
            else:
                self.log.info("dask: connected to %s (%d workers, %d threads%s)", self.where,
                              self._info.get("n_workers", 0), self._info.get("total_threads", 0),
                              f", dashboard {self.client.dashboard_link}"
                              if self.client and self._dashboard() else "")
            self._first_attempt.set()
            while self.client is not None and not self._closing:
                await asyncio.sleep(INFO_INTERVAL_S)
                await self._refresh()
            if not self._closing:
                await asyncio.sleep(self.reconnect_interval_s)

    async def _connect(self) -> None:
        if self.address:
            client = await Client(self.address, asynchronous=True, security=self.security,
                                  timeout=self.connect_timeout_s, name="catalyticd",
                                  set_as_default=False)
        else:
            from distributed import LocalCluster

            if self.local_cluster is None:  # a reconnect reuses it: its workers are still ours
                self.local_cluster = await LocalCluster(
                    n_workers=self.local_workers or None, threads_per_worker=1,
                    processes=True, host="127.0.0.1", dashboard_address="127.0.0.1:0",
                    asynchronous=True, security=self.security)
            client = await Client(self.local_cluster, asynchronous=True, set_as_default=False)
        client.subscribe_topic(TOPIC, self._on_progress)
        self.client = client
        await self._refresh()

    async def _refresh(self) -> None:
        """Cache the cluster's shape (system.stats is synchronous); notice a lost scheduler."""
        client = self.client
        if client is None:
            return
        if client.status in ("closed", "closing", "failed"):
            self.error = f"lost the Dask scheduler at {self.where} (client {client.status})"
            self.log.warning("dask: %s; reconnecting", self.error)
            self.client = None
            await self._close_client(client)  # a failed client still holds comms and timers
            return
        try:
            assert client.scheduler is not None
            info = await asyncio.wait_for(client.scheduler.identity(),
                                          self.connect_timeout_s)
        except (OSError, TimeoutError, AssertionError) as exc:
            self.error = f"the Dask scheduler at {self.where} does not answer: {exc}"
            return
        self._info = info
        self.error = None if info.get("n_workers") else (
            f"the Dask cluster at {self.where} has no workers")

    def _dashboard(self) -> str | None:
        """The Dask dashboard's address, when the scheduler serves one."""
        if self.client is None or "dashboard" not in self._info.get("services", {}):
            return None
        try:
            return str(self.client.dashboard_link)
        except Exception:
            return None

    def _why(self) -> str:
        """Why the cluster cannot take work now, for errors, /healthz and system.plugins."""
        if self.error:
            return self.error
        if self.client is not None and self.client.status != "running":
            return (f"lost the connection to the Dask scheduler at {self.where} "
                    f"(client {self.client.status})")
        return f"the Dask cluster at {self.where} is unavailable"

    def _usable(self) -> Client | None:
        client = self.client
        if client is None or client.status != "running" or self.error is not None:
            return None
        return client

    # -- jobs ---------------------------------------------------------------------------------

    def _on_progress(self, event: tuple[float, dict[str, Any]]) -> None:
        msg = event[1]
        target = self._progress.get(msg.get("job", ""))
        if target is not None:
            target(msg["done"], msg["total"], msg["message"])

    async def submit(self, fn: Callable[..., T], *args: Any, progress: ProgressFn | None = None,
                     **kwargs: Any) -> T:
        name = getattr(fn, "__name__", "job")
        job = f"{name}-{self._token}-{next(self._ids)}"
        self.submitted += 1
        self.running += 1
        if progress is not None:
            self._progress[job] = progress
        try:
            for attempt in itertools.count():
                client = self._usable()
                if client is None:
                    return await self._without_cluster(fn, args, kwargs, progress)
                key = job if attempt == 0 else f"{job}-retry{attempt}"
                fut = client.submit(run_job, fn, job, progress is not None, args, kwargs,
                                    key=key, pure=False)
                try:
                    result: T = await fut
                except asyncio.CancelledError:  # our caller was cancelled
                    self._cancel_remote(client, fut, job)
                    self.cancelled += 1
                    raise
                except KilledWorker as exc:
                    why = str(exc)
                except FutureCancelledError as exc:  # dropped by the cluster, not by us
                    why = f"the cluster dropped it ({exc})"
                except JobCancelled:
                    self.cancelled += 1
                    raise asyncio.CancelledError from None
                except Exception:
                    self.failed += 1
                    raise
                else:
                    self.completed += 1
                    return result
                if attempt >= self.retries:
                    self.failed += 1
                    raise InternalError(f"{name} failed on the Dask cluster after "
                                        f"{attempt + 1} attempt(s): {why}") from None
                self.resubmitted += 1
                self.log.warning("dask: %s: %s; sending it again (%d/%d)", key, why,
                                 attempt + 1, self.retries)
            raise AssertionError("unreachable")
        finally:
            self.running -= 1
            self._progress.pop(job, None)

    async def _without_cluster(self, fn: Callable[..., T], args: tuple[Any, ...],
                               kwargs: dict[str, Any], progress: ProgressFn | None) -> T:
        if self.fallback is None:
            self.failed += 1
            raise Overloaded(f"{self._why()}; work is "
                             "refused (set daemon.dask_fallback_local = true to run it "
                             "locally meanwhile)")
        self.fell_back += 1
        result: T = await self.fallback.submit(fn, *args, progress=progress, **kwargs)
        self.completed += 1
        return result

    def _cancel_remote(self, client: Client, fut: Any, job: str) -> None:
        """Flag the job on every worker (its Reporter raises) and drop the future; no waiting."""
        async def cancel() -> None:
            try:
                await client.run(mark_cancelled, job, on_error="ignore")
                await client.cancel([fut], force=True)
            except Exception as exc:
                self.log.debug("dask: cancelling %s: %s", job, exc)

        task = asyncio.ensure_future(cancel())
        self._background.add(task)
        task.add_done_callback(self._background.discard)

    # -- reporting ----------------------------------------------------------------------------

    def stats(self) -> dict[str, Any]:
        workers = self._info.get("workers", {})
        return {
            "backend": "dask", "address": self.address or None,
            "local_cluster": not self.address, "connected": self._usable() is not None,
            "error": None if self._usable() is not None else self._why(),
            "dashboard": self._dashboard(),
            "cluster_workers": self._info.get("n_workers", 0),
            "cluster_threads": self._info.get("total_threads", 0),
            "worker_addresses": sorted(workers),
            "cluster_executing": sum(int(w.get("metrics", {}).get("executing", 0) or 0)
                                     for w in workers.values()),
            "workers": self.workers, "submitted": self.submitted, "completed": self.completed,
            "failed": self.failed, "cancelled": self.cancelled, "running": self.running,
            "resubmitted": self.resubmitted, "fell_back": self.fell_back,
            "fallback_local": self.fallback is not None,
            "fallback": self.fallback.stats() if self.fallback is not None else None,
        }

    def problems(self) -> list[str]:
        if self._usable() is not None:
            return []
        then = ("calls run in the local pool meanwhile" if self.fallback is not None
                else "calls that need the executor get -32002")
        return [f"executor: {self._why()}; {then}"]

    def report(self) -> dict[str, Any]:
        ok = self._usable() is not None
        state = "running" if ok else ("degraded" if self.fallback is not None else "failed")
        return {"name": "executor", "version": distributed.__version__, "state": state,
                "error": None if ok else self._why(), "distribution": "distributed",
                "methods": [], "kind": "executor", "address": self.address or None}

    async def _close_client(self, client: Client) -> None:
        try:
            await asyncio.wait_for(client.close(), 10)
        except Exception as exc:
            self.log.debug("dask: closing the client: %s", exc)

    async def close(self) -> None:
        self._closing = True
        if self._connector is not None:
            self._connector.cancel()
            # a connect under way (a LocalCluster starting) finishes or unwinds first, so
            # what it made is closed below
            await asyncio.gather(self._connector, return_exceptions=True)
        for task in list(self._background):
            task.cancel()
        if self.client is not None:
            await self._close_client(self.client)
        if self.local_cluster is not None:
            try:
                await asyncio.wait_for(self.local_cluster.close(), 20)
            except Exception as exc:
                self.log.debug("dask: closing the LocalCluster: %s", exc)
        self.shutdown()

    def shutdown(self) -> None:
        if self.fallback is not None:
            self.fallback.shutdown()
