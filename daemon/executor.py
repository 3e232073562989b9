"""The daemon's executor for CPU-heavy work: a forked process pool.

Plugins never create pools of their own; they `await ctx.executor.submit(...)`.
Progress travels from the worker through a queue inherited at fork and read
by one thread; cancellation travels back through a shared flag array that
the job's `Reporter` checks. A crashed worker breaks only the jobs it was
running: the pool is rebuilt for the next submission.
"""

from __future__ import annotations

import asyncio
import collections
import ctypes
import functools
import itertools
import logging
import multiprocessing as mp
import os
import signal
import threading
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from typing import Any, TypeVar

from catalytic.daemon.job_reporter import JobReporter, MapProgress, run_with
from catalytic.plugins.base import JobCancelled, ProgressFn
from catalytic.protocol.errors import InternalError, Overloaded

T = TypeVar("T")
WORKER_NICE = 10
"""Nice value pool workers run at: a CPU-bound job must not take a core from the loop."""
SLOTS = 4096
MAP_JOBS_PER_WORKER = 2

_flags: Any = None
_queue: Any = None


def _worker_init(flags: Any, queue: Any) -> None:
    """Runs in each worker: inherit the channels, die with the daemon, ignore Ctrl-C, and
    yield the CPU to the daemon's loop (`_step_aside`)."""
    global _flags, _queue
    _flags, _queue = flags, queue
    _step_aside()
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    signal.signal(signal.SIGHUP, signal.SIG_IGN)
    try:
        signal.set_wakeup_fd(-1)
    except ValueError:
        pass
    try:  # PR_SET_PDEATHSIG: never outlive a SIGKILLed daemon
        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL)
    except (OSError, AttributeError):
        pass


def _step_aside() -> None:
    """A session of its own and nice `WORKER_NICE`. With autogroup scheduling (Linux's
    default) the CPU is shared between sessions first: a worker in the daemon's session
    would spend the daemon's share, and the loop would wait behind it at each wake-up.
    The nice value does the same where every process shares one group (a systemd unit's
    cgroup). Either failing (not Linux, not allowed) leaves the worker as it was."""
    try:
        os.setsid()
    except OSError:
        pass  # already a session leader
    try:
        os.nice(max(0, WORKER_NICE - os.nice(0)))
    except OSError:
        pass


class WorkerReporter(JobReporter):
    """The pool's `Reporter`: `job` is (job id, cancel slot); cancelled through the shared
    flags, progress through the shared queue (keyed by the job id). Picklable."""

    def cancelled(self) -> bool:
        return bool(_flags is not None and _flags[self.job[1]])

    def emit(self, done: float, total: float | None, message: str) -> None:
        if _queue is not None:
            _queue.put((self.job[0], done, total, message))


_run_job = functools.partial(run_with, WorkerReporter)


def _warm(_: int) -> int:
    time.sleep(0.05)
    return os.getpid()


class BaseExecutor:
    """What every backend shares: `map` over `submit`, and the daemon's lifecycle hooks."""

    backend = "base"

    @property
    def workers(self) -> int:
        """Jobs that run at once; read-only, since a cluster's width changes under us."""
        raise NotImplementedError

    async def start(self) -> None:
        """Called on the running loop before plugins start (connect to a cluster, ...)."""

    async def submit(self, fn: Callable[..., T], *args: Any, progress: ProgressFn | None = None,
                     **kwargs: Any) -> T:
        raise NotImplementedError

    @property
    def same_host(self) -> bool:
        return True

    @property
    def cluster(self) -> bool:
        return False

    def map_window(self) -> int:
        """Jobs of one `map` handed to the backend at a time (the rest wait their turn)."""
        return max(1, self.workers) * MAP_JOBS_PER_WORKER

    async def map(self, fn: Callable[..., T], items: Iterable[Any], *,
                  args: Sequence[Any] = (), kwargs: Mapping[str, Any] | None = None,
                  progress: ProgressFn | None = None,
                  label: Callable[[Any], str] | None = None,
                  report: bool = False) -> list[T]:
        """See `plugins.base.Executor.map`: all jobs or none, in item order."""
        todo = list(items)
        if not todo:
            return []
        shared_kw = dict(kwargs or {})
        tally = MapProgress(len(todo), progress)
        window = asyncio.Semaphore(self.map_window())

        async def one(index: int, item: Any) -> T:
            name = "" if label is None else label(item)
            job_progress = tally.job(index, name) if report else None
            async with window:
                result = await self.submit(fn, item, *args, progress=job_progress, **shared_kw)
            tally.finished(index, name)
            return result

        tasks = [asyncio.ensure_future(one(i, item)) for i, item in enumerate(todo)]
        try:
            return list(await asyncio.gather(*tasks))
        except BaseException:
            for t in tasks:
                t.cancel()
            # let every sibling see its cancellation (flags set, futures dropped) before
            # the caller hears of the failure
            await asyncio.wait(tasks)
            raise

    def stats(self) -> dict[str, Any]:
        return {"backend": self.backend, "workers": self.workers}

    def problems(self) -> list[str]:
        """What /healthz should report about this backend (empty when healthy)."""
        return []

    def report(self) -> dict[str, Any] | None:
        """An entry for `system.plugins` when the backend can fail on its own (a cluster)."""
        return None

    def shutdown(self) -> None:
        """Release everything without waiting."""

    async def close(self) -> None:
        """Called once by the daemon's shutdown, after the plugins stopped."""
        self.shutdown()


class LocalExecutor(BaseExecutor):
    """`Executor` over a fork-started ProcessPoolExecutor with `workers` processes."""

    backend = "local"

    def __init__(self, workers: int, log: logging.Logger | None = None) -> None:
        self._workers = workers or os.cpu_count() or 1
        self.log = log or logging.getLogger("catalytic.executor")
        self._ctx = mp.get_context("fork")
        self._flags = self._ctx.RawArray("b", SLOTS)
        self._queue = self._ctx.SimpleQueue()
        self._free_slots: collections.deque[int] = collections.deque(range(SLOTS))
        self._ids = itertools.count(1)
        self._progress: dict[int, tuple[asyncio.AbstractEventLoop, ProgressFn]] = {}
        self._pool = self._new_pool()
        self._reader = threading.Thread(target=self._read_progress, name="executor-progress",
                                        daemon=True)
        self._reader.start()
        self.submitted = 0
        self.completed = 0
        self.failed = 0
        self.cancelled = 0
        self.running = 0

    @property
    def workers(self) -> int:
        return self._workers

    def _new_pool(self) -> ProcessPoolExecutor:
        return ProcessPoolExecutor(self.workers, mp_context=self._ctx, initializer=_worker_init,
                                   initargs=(self._flags, self._queue))

    def prespawn(self) -> list[int]:
        """Start every worker now (before sockets and threads multiply); return their pids."""
        return sorted(set(self._pool.map(_warm, range(self.workers * 2))))

    def _read_progress(self) -> None:
        while True:
            item = self._queue.get()
            if item is None:
                return
            job, done, total, message = item
            target = self._progress.get(job)
            if target is not None:
                loop, fn = target
                loop.call_soon_threadsafe(fn, done, total, message)

    async def submit(self, fn: Callable[..., T], *args: Any, progress: ProgressFn | None = None,
                     **kwargs: Any) -> T:
        slot = self._take_slot()
        job = next(self._ids)
        if progress is not None:
            self._progress[job] = (asyncio.get_running_loop(), progress)
        self.submitted += 1
        self.running += 1
        try:
            cfut = self._submit(fn, (job, slot), progress is not None, args, kwargs)
        except BaseException:
            self._release_slot(slot)
            self.running -= 1
            self._progress.pop(job, None)
            raise
        # the slot stays taken until the job really ended, so a cancelled job that is
        # still running keeps seeing its flag
        cfut.add_done_callback(lambda _f: self._release_slot(slot))
        try:
            result: T = await asyncio.wrap_future(cfut)
        except asyncio.CancelledError:
            self._flags[slot] = 1
            self.cancelled += 1
            raise
        except JobCancelled:
            self.cancelled += 1
            raise asyncio.CancelledError from None
        except BrokenProcessPool:
            self.failed += 1
            self.log.error("a worker process died while running %s; rebuilding the pool",
                           getattr(fn, "__name__", fn))
            self._pool = self._new_pool()
            raise InternalError(f"the worker running {getattr(fn, '__name__', 'a job')} died "
                                "(crash or out of memory); the pool was restarted") from None
        finally:
            self.running -= 1
            self._progress.pop(job, None)
        self.completed += 1
        return result

    def _take_slot(self) -> int:
        """A cancel slot of its own for every job, held until the job really ended."""
        try:
            slot = self._free_slots.popleft()
        except IndexError:
            raise Overloaded(f"the executor has {SLOTS} jobs in flight; try again "
                             "later") from None
        self._flags[slot] = 0
        return slot

    def _release_slot(self, slot: int) -> None:
        self._free_slots.append(slot)

    def _submit(self, fn: Callable[..., Any], job: tuple[int, int], with_report: bool,
                args: tuple[Any, ...], kwargs: dict[str, Any]) -> Future[Any]:
        try:
            return self._pool.submit(_run_job, fn, job, with_report, args, kwargs)
        except (BrokenProcessPool, RuntimeError):
            self._pool = self._new_pool()
            return self._pool.submit(_run_job, fn, job, with_report, args, kwargs)

    def stats(self) -> dict[str, Any]:
        return {"backend": "local", "workers": self.workers, "submitted": self.submitted,
                "completed": self.completed, "failed": self.failed,
                "cancelled": self.cancelled, "running": self.running}

    def shutdown(self) -> None:
        self._pool.shutdown(wait=False, cancel_futures=True)
        self._queue.put(None)


def create_executor(daemon: dict[str, Any], log: logging.Logger) -> BaseExecutor:
    """The backend `daemon.executor` names; a local pool is forked first, before any thread."""
    local: LocalExecutor | None = None
    if daemon["executor"] == "local" or daemon["dask_fallback_local"]:
        local = LocalExecutor(daemon["workers"], log)
        local.prespawn()
    if daemon["executor"] == "local":
        assert local is not None
        return local
    from catalytic.daemon.executor_dask import DaskExecutor  # needs the `dask` extra

    return DaskExecutor.from_config(daemon, local, log)
