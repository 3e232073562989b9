"""One test run: start workers, answer their hello/pull calls, survive crashes and hangs.

Why here and not in the pytest plugin: the daemon sees every worker, so it can
hand work out LPT-first across all of them, notice a worker that died (segfault,
`os._exit`, OOM kill) or hangs past the timeout, name the test it was running,
put the rest of its batch back and start a replacement.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import random
import signal
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from catalytic.plugins.testrun import workers as wk
from catalytic.plugins.testrun.errors import (
    COLLECTION_MISMATCH,
    NO_PYTEST,
    RunFailed,
    collection_failed,
    died_before_collecting,
)
from catalytic.plugins.testrun.estimate import class_of, estimate
from catalytic.plugins.testrun.history import TestStats
from catalytic.plugins.testrun.journal import JournalReader
from catalytic.plugins.testrun.rerun import Reruns, order_dependent_message
from catalytic.plugins.testrun.results import FAILING, not_run, summarize
from catalytic.plugins.testrun.schedule import Unit, build_units, lower_bound, matches_any
from catalytic.plugins.testrun.supervisor import WorkerWatch, kill_group
from catalytic.plugins.testrun.work_feed import Batch, WorkFeed, simulate

Progress = Callable[[float, float | None, str], None]


@dataclass
class RunOptions:
    root: Path
    python: str
    workers: int
    args: list[str]
    socket: Path
    run_dir: Path
    shim: tuple[Path, Path]
    env: dict[str, str]
    cores: int
    timeout_s: float = 300.0
    memory_budget: int = 1 << 30
    memory_heavy_bytes: int = 256 << 20
    run_alone: list[str] = field(default_factory=list)
    max_output: int = 65536
    batch_target: float = 0.25
    max_reruns: int = 10
    max_replacements: int = 50
    record: bool = True
    """Record each test's dependencies (code blocks, data files) for selection."""
    token: str = ""
    """What the workers present to call the internal verbs (see daemon/internal_tokens.py)."""


@dataclass
class Worker:
    name: str
    proc: asyncio.subprocess.Process
    watch: WorkerWatch
    """Its journal read so far: the test it runs, those it finished (see supervisor.py)."""
    batch: list[str] = field(default_factory=list)
    rerun_targets: dict[str, str] = field(default_factory=dict)
    """Node ids in the current batch that only re-run a prefix -> the target they serve."""
    hello: bool = False
    fresh: bool = False
    """Started only to re-run suspected order-dependent failures (see `rerun.py`)."""
    reading: asyncio.Lock = field(default_factory=asyncio.Lock)
    """Held while its journal is read (the watch loop and the exit watcher both read)."""


class Run:
    """Drives one run; `execute()` returns the summary of `results.summarize`."""

    def __init__(self, run_id: str, opts: RunOptions, history: dict[str, TestStats],
                 progress: Progress, log: logging.Logger) -> None:
        self.id, self.o, self.history, self.progress, self.log = (run_id, opts, history,
                                                                  progress, log)
        self.workers: dict[str, Worker] = {}
        self.tests: list[str] | None = None
        self.skips: list[dict[str, Any]] = []
        """Modules skipped at collection; pytest counts each as one skipped test."""
        self.results: dict[str, dict[str, Any]] = {}
        self.order: dict[str, list[str]] = {}
        self.dispatcher: WorkFeed | None = None
        self.expected = 0.0
        self.ready = asyncio.Event()
        self.finished = asyncio.Event()
        self._changed = asyncio.Event()
        self.closed = False
        self.error: RunFailed | None = None
        self.reruns: dict[str, bool] = {}
        """Suspected order-dependent failures -> whether their re-run has reported."""
        self.fresh = Reruns()
        """Re-runs waiting for a fresh worker (one that has run nothing else)."""
        self._fresh_starting = 0
        """Fresh workers started that have not asked for their re-runs yet."""
        self.spawned = 0
        self.t0 = 0.0
        self.t_end = 0.0
        self.argv: list[str] = []
        self._tasks: set[asyncio.Task[None]] = set()
        self.started = False
        self.warm = False
        self.active = False
        self._alone: list[str] = []
        self.selector: Callable[[list[str]], list[list[str]]] | None = None
        """Given the collected ids: the phases of ids to run, in order (None: all, one phase)."""
        self.phases: list[list[Unit]] = []
        """The planned phases not yet handed to the work feed, as units."""
        self.planned: list[str] | None = None
        self.blockdefs: dict[str, dict[int, tuple[str, str, str]]] = {}
        self.deps: dict[str, list[tuple[str, str, str]]] = {}
        """Node id -> the blocks it depended on (recorded by its worker)."""
        self.first_failure: float | None = None
        """Monotonic time of the first failing result."""
        self.env_id = ""
        self.stopping: asyncio.Future[None] | None = None
        """After a finished run: its workers exiting (await it before removing `run_dir`)."""

    # -- lifecycle ---------------------------------------------------------------------------

    async def start(self) -> None:
        """Check the interpreter and start the workers (they collect, then wait for work)."""
        if self.started:
            return
        self.started = True
        o = self.o
        try:
            info = await asyncio.to_thread(wk.probe, o.python, o.root, o.env)
        except wk.PreflightError as exc:
            self._fail(RunFailed(NO_PYTEST, str(exc)))
            return
        self.env_id = str(info.get("env", ""))
        args = wk.strip_args(o.args)
        seed = None if wk.user_seed(args) else random.randrange(1, 2**31)
        self.argv = wk.worker_argv(o.python, o.shim, args, info, seed)
        for _ in range(o.workers):
            await self._spawn()

    def alive(self) -> bool:
        """Started, not failed, every worker still running: fit to be activated."""
        return (self.error is None and not self.closed and len(self.workers) == self.o.workers
                and all(w.proc.returncode is None for w in self.workers.values()))

    def collected(self) -> bool:
        """Every worker has collected (a standby run that is fully warm)."""
        return self.tests is not None and bool(self.workers) and all(
            w.hello for w in self.workers.values())

    async def execute(self, history: dict[str, TestStats] | None = None,
                      progress: Progress | None = None) -> dict[str, Any]:
        """Run now: workers started earlier (warm) are used as they are."""
        if history is not None:
            self.history = history
        if progress is not None:
            self.progress = progress
        self.t0 = time.monotonic()
        self.warm = self.started
        self.active = True
        try:
            await self.start()
            if self.tests and not self.ready.is_set() and self.error is None:
                self._plan(self._alone)
            await self.finished.wait()
            if self.error is not None:
                raise self.error
        finally:
            self.t_end = max(self.t_end or time.monotonic(), self.t0)
            if self.error is None and self.finished.is_set():
                # the last result is in: answer now, the workers finish in the background
                self.closed = True
                self._notify()
                self.stopping = asyncio.ensure_future(self._stop_workers(graceful=True))
            else:
                await self.stop()
        return self.summary()

    async def stop(self, graceful: bool = False) -> None:
        self.closed = True
        self._notify()
        await self._stop_workers(graceful=graceful)

    def summary(self) -> dict[str, Any]:
        ids = self.planned if self.planned is not None else (self.tests or [])
        results = self.skips + [self.results[t] for t in ids if t in self.results]
        return summarize(results, self.o.workers, self.t_end - self.t0, self.expected,
                         self.order)

    async def _spawn(self, fresh: bool = False) -> None:
        name = f"w{self.spawned}"
        self.spawned += 1
        journal = self.o.run_dir / f"{name}.journal"
        log = self.o.run_dir / f"{name}.log"
        env = {**self.o.env, wk.ENV: f"{self.id}:{name}", wk.ENV_SOCKET: str(self.o.socket),
               wk.ENV_JOURNAL: str(journal), wk.ENV_MAX_OUTPUT: str(self.o.max_output)}
        if self.o.record:
            env[wk.ENV_RECORD] = "1"
        if self.o.token:
            env[wk.ENV_TOKEN] = self.o.token
        out = await asyncio.to_thread(open, log, "wb")
        with out:
            proc = await asyncio.create_subprocess_exec(
                *self.argv, cwd=self.o.root, env=env, stdin=asyncio.subprocess.DEVNULL,
                stdout=out, stderr=asyncio.subprocess.STDOUT, start_new_session=True)
        w = Worker(name, proc, WorkerWatch(JournalReader(journal), log, self.o.timeout_s),
                   fresh=fresh)
        self.workers[name] = w
        self.order[name] = []
        for coro in (self._watch_exit(w), self._watch_journal(w)):
            task = asyncio.ensure_future(coro)
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

    async def _stop_workers(self, graceful: bool) -> None:
        procs = [w.proc for w in self.workers.values() if w.proc.returncode is None]
        if graceful and procs:
            await asyncio.wait([asyncio.ensure_future(p.wait()) for p in procs], timeout=10)
        for sig, wait in ((signal.SIGTERM, 0.4), (signal.SIGKILL, 2.0)):
            procs = [p for p in procs if p.returncode is None]
            for p in procs:
                with contextlib.suppress(ProcessLookupError, PermissionError):
                    os.killpg(p.pid, sig)
            if procs:
                await asyncio.wait([asyncio.ensure_future(p.wait()) for p in procs],
                                   timeout=wait)
        for task in list(self._tasks):
            task.cancel()

    def _notify(self) -> None:
        self._changed.set()
        self._changed = asyncio.Event()

    def _fail(self, err: RunFailed) -> None:
        if self.error is None and not self.finished.is_set():
            self.error = err
            self.finished.set()

    def _finish(self) -> None:
        if not self.finished.is_set() and self.tests == [] and not self.active:
            self.finished.set()  # nothing collected: reported when the run is asked for
            return
        if not self.finished.is_set():
            self.t_end = time.monotonic()
            self.closed = True
            self.finished.set()
            self._notify()

    # -- worker calls ------------------------------------------------------------------------

    def hello(self, worker: str, tests: list[str], alone: list[str],
              errors: list[dict[str, Any]], skips: list[dict[str, Any]]) -> dict[str, Any]:
        w = self.workers.get(worker)
        if w is None or self.closed:
            return {"stop": True}
        w.hello = True
        if self.tests is None:
            if errors:
                self._fail(collection_failed(errors))
                return {"stop": True}
            self.tests = list(tests)
            self.skips = [{"nodeid": str(k.get("nodeid")), "outcome": "skipped",
                           "duration_s": 0.0, "message": str(k.get("message", "")),
                           "collection": True} for k in skips]
            if not tests:
                self._finish()
                return {"stop": True}
            self._alone = list(alone)
            if self.active:
                self._plan(alone)
        elif tests != self.tests:
            self._fail(RunFailed(COLLECTION_MISMATCH,
                                 f"worker {worker} collected {len(tests)} tests where the first "
                                 f"collected {len(self.tests)}; is the suite's collection "
                                 "nondeterministic?"))
            return {"stop": True}
        return {"stop": False}

    def _plan(self, alone: list[str]) -> None:
        assert self.tests is not None
        o = self.o
        phases = self.selector(list(self.tests)) if self.selector else [list(self.tests)]
        phases = [p for p in phases if p]
        self.planned = [t for p in phases for t in p]
        ex = estimate(self.tests, self.history, o.memory_heavy_bytes)
        alone_set = set(alone) | {t for t in self.tests if matches_any(t, o.run_alone)}
        share = lower_bound([ex[t].duration for t in self.planned], o.workers)
        self.expect = ex
        self.phases = [build_units(p, ex, alone_set, split_above=share / 2) for p in phases]
        units = [u for p in self.phases for u in p]
        first = self.phases.pop(0) if self.phases else []
        self.dispatcher = WorkFeed(first, o.workers, o.cores, o.memory_budget,
                                   o.batch_target)
        self.expected = simulate(units, o.workers, o.cores, o.memory_budget,
                                 o.batch_target).makespan
        self.ready.set()
        self._notify()
        if not self.planned:
            self._finish_empty()

    def _finish_empty(self) -> None:
        """Nothing selected: the run is done at once."""
        if not self.finished.is_set():
            self.t_end = time.monotonic()
            self.closed = True
            self.finished.set()
            self._notify()

    async def pull(self, worker: str, results: list[dict[str, Any]],
                   blocks: list[list[Any]] | None = None) -> dict[str, Any]:
        w = self.workers.get(worker)
        if w is None:
            return {"tests": []}
        defs = self.blockdefs.setdefault(worker, {})
        for b in blocks or []:
            if isinstance(b, list) and len(b) == 4:
                defs[int(b[0])] = (str(b[1]), str(b[2]), str(b[3]))
        self._take(w, results)
        w.batch, w.rerun_targets = [], {}
        if w.fresh:
            return self._pull_fresh(w)
        while not self.closed:
            if not self.ready.is_set():
                await self._wait_change()
                continue
            assert self.dispatcher is not None
            if not self.dispatcher.queue and self.phases:
                self.dispatcher.requeue(self.phases.pop(0))  # the next phase, once one drains
            got = self.dispatcher.next_batch(worker)
            if isinstance(got, Batch):
                self._assign(w, got)
                return {"tests": w.batch}
            self._check_done()
            if got is None and self.closed:
                break
            await self._wait_change()
        return {"tests": []}

    def _pull_fresh(self, w: Worker) -> dict[str, Any]:
        """A fresh worker runs the waiting re-runs once, then exits (it is fresh no more)."""
        self._fresh_starting = max(0, self._fresh_starting - (not self.order[w.name]))
        if self.closed or self.order[w.name] or not self.fresh.waiting:
            self._check_done()
            return {"tests": []}
        assert self.tests is not None
        w.batch, w.rerun_targets = self.fresh.batch(self.tests)
        self.order[w.name].extend(w.batch)
        return {"tests": w.batch}

    async def _wait_change(self) -> None:
        ev = self._changed
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(ev.wait(), timeout=1.0)

    def _assign(self, w: Worker, batch: Batch) -> None:
        w.batch = batch.tests
        self.order[w.name].extend(batch.tests)

    def _take(self, w: Worker, results: list[dict[str, Any]]) -> None:
        defs = self.blockdefs.get(w.name, {})
        for r in results:
            nid = str(r.get("nodeid"))
            r["worker"] = w.name
            deps = r.pop("deps", None)
            r["start"] = float(r.get("start", 0.0))
            target = w.rerun_targets.get(nid)
            if target is not None:
                if nid == target:
                    self._rerun_result(r)
                continue
            self.results[nid] = r
            if isinstance(deps, list) and not r.get("crashed"):
                try:
                    self.deps[nid] = [defs[int(i)] for i in deps]
                except (KeyError, TypeError, ValueError):
                    self.deps.pop(nid, None)  # an id never defined: not recorded
            if r["outcome"] in FAILING and self.first_failure is None:
                self.first_failure = time.monotonic()
            prev = self.history.get(nid)
            if (r["outcome"] in FAILING and prev is not None and prev.outcome == "passed"
                    and len(self.reruns) < self.o.max_reruns and nid not in self.reruns):
                self._queue_rerun(nid)
        if results:
            self._report_progress()
            self._notify()
        self._check_done()

    def _queue_rerun(self, nid: str) -> None:
        """Re-run the failing test on a fresh worker, after its module's earlier tests in
        collection order: a worker that ran other tests may hold the state they left."""
        self.reruns[nid] = False
        self.fresh.add(nid)
        self._spawn_fresh()

    def _spawn_fresh(self) -> None:
        """Start a fresh worker for the waiting re-runs unless one is starting or running."""
        if not self.fresh.waiting or self.closed or self._fresh_starting:
            return
        self._fresh_starting += 1
        task = asyncio.ensure_future(self._start_fresh())
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _start_fresh(self) -> None:
        try:
            await self._spawn(fresh=True)
        except OSError as exc:  # no fresh worker: the failures stand as they are
            self.log.warning("run %s: cannot start a worker for re-runs: %s", self.id, exc)
            self._fresh_starting = max(0, self._fresh_starting - 1)
            self._give_up_reruns()

    def _give_up_reruns(self) -> None:
        self.reruns.update({t: True for t in self.fresh.waiting})
        self.fresh.waiting.clear()
        self._check_done()

    def _rerun_result(self, r: dict[str, Any]) -> None:
        nid = r["nodeid"]
        self.reruns[nid] = True
        if r["outcome"] == "passed":
            first = self.results[nid]
            before = self.order.get(str(first.get("worker")), [])
            before = before[: before.index(nid)] if nid in before else []
            r = {**r, "order_dependent": True,
                 "message": order_dependent_message(nid, before, str(first.get("message", "")))}
            self.results[nid] = r

    def _report_progress(self) -> None:
        total = len(self.planned if self.planned is not None else self.tests or [])
        failed = sum(1 for r in self.results.values() if r["outcome"] in FAILING)
        left = (self.dispatcher.remaining() / max(1, self.o.workers)) if self.dispatcher else 0
        self.progress(len(self.results), total, f"{failed} failed · ~{left:.1f}s left")

    def _check_done(self) -> None:
        d = self.dispatcher
        if d is None or self.closed or d.queue or self.phases:
            return
        if any(w.batch for w in self.workers.values()):
            return
        if not all(self.reruns.values()):
            return
        for t in self.planned if self.planned is not None else self.tests or []:
            if t not in self.results:
                self.results[t] = not_run(t)
        self._finish()

    # -- watching workers --------------------------------------------------------------------

    async def _watch_journal(self, w: Worker) -> None:
        while w.proc.returncode is None and not self.closed:
            await asyncio.sleep(0.1)
            await self._read_journal(w)
            if w.watch.overdue(time.monotonic()):
                kill_group(w.proc.pid)

    async def _read_journal(self, w: Worker) -> None:
        async with w.reading:
            events = await asyncio.to_thread(w.watch.journal.read)
            w.watch.take(events, time.monotonic())

    async def _watch_exit(self, w: Worker) -> None:
        code = await w.proc.wait()
        await self._read_journal(w)
        output = await asyncio.to_thread(wk.tail, w.watch.log)
        if self.closed:
            return
        if not w.hello:
            if w.fresh:  # no fresh worker to re-run on: the failures stand as they are
                self._fresh_starting = max(0, self._fresh_starting - 1)
                self._give_up_reruns()
            elif not any(x.hello for x in self.workers.values()):
                self._fail(died_before_collecting(code, output))
            return
        if w.batch:
            self._lost_batch(w, code, output)
        if self.dispatcher is not None:
            self.dispatcher.release(w.name)
        alive = sum(1 for x in self.workers.values()
                    if x.proc.returncode is None and not x.fresh)
        work_left = self.dispatcher is not None and bool(self.dispatcher.queue)
        if work_left and alive < self.o.workers and self.spawned < (
                self.o.workers + self.o.max_replacements):
            await self._spawn()
        self._spawn_fresh()
        self._notify()
        self._check_done()

    def _lost_batch(self, w: Worker, code: int, output: str) -> None:
        """Its worker died: keep what finished, fail the test it was running, requeue the rest."""
        assert self.dispatcher is not None
        watch = w.watch
        done = [r for t, r in watch.finished.items() if t in w.batch]
        self._take(w, done)
        crashed = watch.current[0] if watch.current else None
        if crashed is None:
            rest = [t for t in w.batch if t not in watch.finished]
            crashed = rest[0] if rest else None
        if crashed is not None and crashed not in watch.finished:
            r = watch.crash_result(crashed, code, output)
            target = w.rerun_targets.get(crashed)
            if target is None:
                self.results[crashed] = {**r, "worker": w.name}
            elif target == crashed:
                self.reruns[crashed] = True
        after = watch.unfinished_after(w.batch, crashed) if crashed is not None else []
        rest = [t for t in after if t not in w.rerun_targets]
        groups: dict[str, list[str]] = {}
        for t in rest:
            groups.setdefault(class_of(t), []).append(t)
        self.dispatcher.requeue([
            Unit(k, ts, sum(self.expect[t].duration for t in ts),
                 order=(self.tests or []).index(ts[0])) for k, ts in groups.items()])
        for t in {*w.rerun_targets.values()} - {crashed}:
            if w.fresh:  # its fresh worker died: the failure stands (no endless re-runs)
                self.reruns[t] = True
            elif not self.reruns.get(t):
                self.reruns.pop(t, None)
                self._queue_rerun(t)
        w.batch, w.rerun_targets, watch.current = [], {}, None
