"""The RPC face of testrun: validate roots, hold the history, drive `Run`s.

Verbs for people and pipelines: run, plan, history, forget. Internal verbs for
the workers this plugin starts: `internal.testrun.worker_hello` and
`internal.testrun.pull`, refused unless the call carries the token the run gave
its workers (and they name the run, by an id only the daemon and its workers know).
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import os
import random
import secrets
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from catalytic.plugins.base import (
    Call,
    Forbidden,
    InvalidParams,
    Param,
    Plugin,
    PluginContext,
    RpcError,
    Setting,
    rpc,
)
from catalytic.plugins.testrun import workers as wk
from catalytic.plugins.testrun.args import check_args
from catalytic.plugins.testrun.bytecode import drop_stale_bytecode
from catalytic.plugins.testrun.errors import BUSY, COLLECTION_ERROR, NO_PYTEST, RunFailed
from catalytic.plugins.testrun.estimate import classify, estimate
from catalytic.plugins.testrun.fingerprint import (
    Snapshot,
    Stat,
    digest_of,
    fingerprint,
    snapshot,
)
from catalytic.plugins.testrun.history import MIGRATIONS, History, Measured
from catalytic.plugins.testrun.narrow import (
    narrow_args,
    narrow_files,
    record_args,
    unknown_unchanged,
)
from catalytic.plugins.testrun.results import summarize, write_junit
from catalytic.plugins.testrun.retire import retire
from catalytic.plugins.testrun.runner import Run, RunOptions
from catalytic.plugins.testrun.schedule import build_units, lower_bound, matches_any
from catalytic.plugins.testrun.selection import SELECT_MODES, Verdicts, plan_phases, verdicts
from catalytic.plugins.testrun.sharded_run import ShardOptions, run_sharded
from catalytic.plugins.testrun.standby_check import still_good
from catalytic.plugins.testrun.work_feed import simulate

RECENT_RUNS = 50
"""Runs kept in `stats()["recent_runs"]` (for the dashboard's makespan chart)."""

@dataclass(frozen=True)
class Choice:
    """Which tests a run runs: `select` mode plus the --lf / --ff flags."""

    select: str = "all"
    last_failed: bool = False
    failed_first: bool = False


DEFAULT_ENV = ["PATH", "HOME", "USER", "LOGNAME", "LANG", "LC_*", "TERM", "TZ", "TMPDIR",
               "PYTHONHASHSEED", "CI", "NO_COLOR"]


def _normal(path: Path) -> Path:
    """Absolute, `..` and directory symlinks resolved, the last part kept (a venv's python is
    a symlink to the base interpreter, and it is the venv's that is allowed)."""
    path = Path(os.path.abspath(path))
    return Path(os.path.realpath(path.parent)) / path.name


class TestrunPlugin(Plugin):
    name = "testrun"
    version = "0.1.0"
    settings = (
        Setting("allowed_roots", "path_list", ["~"],
                "Project roots that may be run (and their subfolders); default: your home."),
        Setting("allowed_interpreters", "path_list", [],
                "Interpreters (or folders of them) that may run tests besides those under the "
                "project root and the daemon's own."),
        Setting("workers", "int", 0, "Worker processes per run; 0 = CPU count.", min=0,
                max=256),
        Setting("timeout_s", "float", 300.0,
                "Per-test timeout: a test running longer is killed and failed (0 = none).",
                min=0),
        Setting("memory_budget", "bytes", 2 << 30,
                "Memory-heavy tests run together only while their expected peak RSS sum "
                "stays under this.", min=0),
        Setting("memory_heavy_bytes", "bytes", 256 << 20,
                "A test whose peak RSS rose by this much counts as memory-heavy.", min=1),
        Setting("run_alone", "str_list", [],
                "Node-id patterns (fnmatch) of tests that run with no other test "
                "(the `run_alone` marker does the same)."),
        Setting("env_passthrough", "str_list", DEFAULT_ENV,
                "Environment variables (fnmatch patterns) passed from the daemon to workers."),
        Setting("max_output_bytes", "bytes", 64 << 10,
                "Longest failure report (traceback + captured output) kept per test.",
                min=1024),
        Setting("same_root", "str", "wait",
                "A second run of a root already running: wait for it, or refuse (-33005).",
                choices=("wait", "refuse")),
        Setting("batch_target_s", "float", 0.25,
                "Short tests are sent in batches expected to take about this long.", min=0),
        Setting("ewma_alpha", "float", 0.5, "Weight of the newest duration in the mean.",
                min=0.01, max=1),
        Setting("keep_warm_s", "float", 600.0,
                "After a run, keep that many workers started (imports done, tests collected) "
                "for this long, for the next run of the same root and args (0 = off).", min=0),
        Setting("record", "str", "background",
                "Recording of each test's dependencies (code blocks it ran, files it opened) "
                "for select = \"affected\": background (the run is not traced; afterwards "
                "its tests are re-run traced on idle workers), inline (traced as they run), or "
                "off (every test counts as unrecorded).",
                choices=("background", "inline", "off")),
        Setting("max_reruns", "int", 10,
                "Failures re-run in collection order per run to detect order dependence.",
                min=0),
    )

    async def start(self, ctx: PluginContext) -> None:
        self.ctx = ctx
        db = await asyncio.to_thread(ctx.sqlite, "history.sqlite", MIGRATIONS)
        self.history = History(db, ctx.config["ewma_alpha"])
        self.runs: dict[str, Run] = {}
        self.locks: dict[str, asyncio.Lock] = {}
        self.completed = 0
        self._bg: set[asyncio.Future[None]] = set()
        self._retiring: set[asyncio.Future[None]] = set()
        """Finished runs whose workers are still exiting (awaited on stop: no orphans)."""
        self.recording: dict[str, asyncio.Task[None]] = {}
        """Background recordings in progress, by root (a new run of the root cancels it)."""
        self.recorded_in_background = 0
        self.background_record_s = 0.0
        self.standby: dict[tuple[Any, ...],
                           tuple[Run, dict[str, Stat] | None, asyncio.Task[None]]] = {}
        self.reads: dict[str, set[str]] = {}
        """Per run id: the project files its workers read while collecting."""
        self.full_snap: dict[str, Snapshot] = {}
        """Per root: the tree when a run last collected the whole suite."""
        self.recent: collections.deque[dict[str, Any]] = collections.deque(maxlen=RECENT_RUNS)
        shim_dir = ctx.state_dir / "shim"
        self.shim = await asyncio.to_thread(wk.make_shim, shim_dir)

    async def stop(self) -> None:
        for fut in list(self._bg):
            fut.cancel()
        for key in list(self.standby):
            await self._discard(key)
        for fut in list(self._retiring):
            fut.cancel()
        if self._retiring:
            await asyncio.wait(list(self._retiring), timeout=5)
        self.history.close()

    def stats(self) -> dict[str, Any]:
        return {"active_runs": sum(r.active for r in self.runs.values()),
                "warm_preparing": len(self.standby),
                "warm_standby": sum(r.alive() for r, _, _ in self.standby.values()),
                "warm_ready": sum(r.collected() for r, _, _ in self.standby.values()),
                "completed_runs": self.completed,
                "recording": len(self.recording),
                "recorded_in_background": self.recorded_in_background,
                "background_record_s": round(self.background_record_s, 3),
                "tests_known": self.history.count(),
                "recent_runs": list(self.recent)}

    # -- helpers -----------------------------------------------------------------------------

    def _root(self, root: str) -> Path:
        if "\0" in root:
            raise InvalidParams(f"root {root!r} contains a NUL byte")
        expanded = str(Path(root).expanduser())
        if not Path(expanded).is_absolute():
            raise InvalidParams(f"root must be an absolute path, got {root!r}")
        path = self.ctx.resolve_path(expanded, "allowed_roots")
        if not path.is_dir():
            raise Forbidden(f"root {path} does not exist or is not a directory")
        return path

    def _python(self, root: Path, python: str | None) -> str:
        """The interpreter to run: under the root (its venv), allowed, or the daemon's own."""
        if python is None or python == "":
            venv = root / ".venv" / "bin" / "python"
            return str(venv) if venv.exists() else sys.executable
        if "\0" in python:
            raise InvalidParams(f"python {python!r} contains a NUL byte")
        given = Path(python).expanduser()
        p = _normal(given if given.is_absolute() else root / given)
        allowed = [_normal(Path(str(a)).expanduser())
                   for a in self.ctx.config["allowed_interpreters"]]
        ok = (p == root or p.is_relative_to(root) or p == _normal(Path(sys.executable))
              or any(p == a or p.is_relative_to(a) for a in allowed))
        if not ok:
            raise Forbidden(f"python {python!r} is neither under the project root {root} nor "
                            "in testrun.allowed_interpreters (nor the daemon's own interpreter)")
        if not p.is_file() or not os.access(p, os.X_OK):
            raise InvalidParams(f"python interpreter {p} does not exist or is not executable")
        return str(p)

    def _workers(self, workers: int | None) -> int:
        n = workers or self.ctx.config["workers"] or os.cpu_count() or 1
        return max(1, int(n))

    def _env(self) -> dict[str, str]:
        return wk.worker_env(os.environ, self.ctx.config["env_passthrough"], sys.executable, {})

    # -- public verbs ------------------------------------------------------------------------

    @rpc("run",
         Param("root", "str", doc="The project root (absolute, under testrun.allowed_roots)."),
         Param("python", "str", required=False, nullable=True,
               doc="The project's interpreter; default <root>/.venv/bin/python if present."),
         Param("workers", "int", required=False, nullable=True, min=1, max=256,
               doc="Worker processes; default testrun.workers (0 = CPU count)."),
         Param("args", "list", required=False, default=[], items="str",
               doc="Extra pytest arguments, from an allowlist (-k, -m, -x, --maxfail, --lf, "
                   "--ff, -q, -v, -p no:<name>, node ids and paths under the root)."),
         Param("junitxml", "str", required=False, nullable=True,
               doc="Write JUnit XML here (relative to root; must stay under allowed roots)."),
         Param("shards", "str", required=False, default="local", choices=("local", "dask"),
               doc="local: workers on this host pull tests; dask: static LPT shards, one "
                   "executor job each (needs daemon.executor = \"dask\")."),
         Param("worker_root", "str", required=False, nullable=True,
               doc="With shards = dask: the project's path on the cluster's workers "
                   "(default: root)."),
         Param("select", "str", required=False, default="all", choices=SELECT_MODES,
               doc="all; affected: only tests an edit can affect (by recorded dependencies), "
                   "plus new, unrecorded and last-failed ones; affected-first: those first, "
                   "then the rest."),
         doc="Run the suite on parallel workers, scheduled from remembered durations.")
    async def run(self, call: Call, root: str, python: str | None = None,
                  workers: int | None = None, args: list[str] | None = None,
                  junitxml: str | None = None, shards: str = "local",
                  worker_root: str | None = None, select: str = "all") -> dict[str, Any]:
        t_call = time.monotonic()
        path = self._root(root)
        if shards == "dask" and select != "all":
            raise InvalidParams("select = \"affected\" and \"affected-first\" need shards = "
                                f"\"local\", got select {select!r} with shards = \"dask\"")
        if shards == "dask" and getattr(self.ctx.executor, "backend", "") != "dask":
            raise InvalidParams("shards = \"dask\" needs the daemon's executor to be the Dask "
                                "backend (daemon.executor = \"dask\"); this daemon runs "
                                f"{getattr(self.ctx.executor, 'backend', 'local')!r}")
        if worker_root is not None and (shards != "dask" or not Path(worker_root).is_absolute()):
            raise InvalidParams("worker_root must be an absolute path and needs shards = "
                                f"\"dask\", got {worker_root!r}")
        checked = check_args(args or [], path)
        xml = None
        if junitxml:
            if "\0" in junitxml:
                raise InvalidParams(f"junitxml {junitxml!r} contains a NUL byte")
            xml = self.ctx.resolve_path(str(path / junitxml), "allowed_roots")
        interp = self._python(path, python)
        lock = self.locks.setdefault(str(path), asyncio.Lock())
        if lock.locked() and self.ctx.config["same_root"] == "refuse":
            raise RpcError(f"a run of {path} is already in progress", code=BUSY)
        async with lock:
            if shards == "dask":
                n = max(1, workers or self.ctx.executor.workers)
                summary = await self._run_sharded(call, path, interp, n, checked.pytest,
                                                  worker_root or str(path))
            else:
                n = self._workers(workers)
                summary = await self._run(call, path, interp, n, checked.pytest,
                                          Choice(select, checked.last_failed,
                                                 checked.failed_first), t_call)
        summary.update(root=str(path), python=interp, shards_mode=shards)
        self.recent.append({"root": path.name, "finished": round(time.time(), 3),
                            "shards": shards, "tests": summary["tests"],
                            "workers": summary["workers"], "makespan_s": summary["makespan_s"],
                            "lower_bound_s": summary["lower_bound_s"],
                            "efficiency": summary["efficiency"]})
        if xml is not None:
            await asyncio.to_thread(write_junit, xml, summary, self.ctx.atomic_write)
            summary["junitxml"] = str(xml)
        return summary

    def _options(self, root: Path, python: str, n: int, args: list[str],
                 run_dir: Path) -> RunOptions:
        cfg = self.ctx.config
        return RunOptions(
            root=root, python=python, workers=n, args=args,
            socket=self.ctx.socket_path or Path(os.environ.get("CATALYTIC_SOCKET", "")),
            run_dir=run_dir, shim=self.shim, env=self._env(), cores=os.cpu_count() or 1,
            timeout_s=cfg["timeout_s"], memory_budget=cfg["memory_budget"],
            memory_heavy_bytes=cfg["memory_heavy_bytes"], run_alone=list(cfg["run_alone"]),
            max_output=cfg["max_output_bytes"], batch_target=cfg["batch_target_s"],
            max_reruns=cfg["max_reruns"], record=cfg["record"] == "inline")

    async def _new_run(self, root: Path, python: str, n: int, args: list[str]) -> Run:
        run_id = secrets.token_hex(8)
        run_dir = self.ctx.state_dir / "runs" / run_id
        await asyncio.to_thread(run_dir.mkdir, parents=True)
        opts = self._options(root, python, n, args, run_dir)
        opts.token = self.ctx.issue_token()
        run = Run(run_id, opts, {}, lambda *a: None, self.ctx.log)
        self.runs[run_id] = run
        return run

    async def _take_standby(self, key: tuple[Any, ...], root: Path,
                            now: Snapshot | None) -> Run | None:
        """Warm workers for this key, if the tree has not changed since they started."""
        item = self.standby.pop(key, None)
        if item is None:
            return None
        run, before, task = item
        await task
        reads = self.reads.get(run.id) if run.collected() else None
        if run.alive() and still_good(before, now, reads):
            return run
        await self._drop(run)
        return None

    async def _prepare(self, key: tuple[Any, ...], root: Path, python: str, n: int,
                       args: list[str]) -> None:
        """Start the next run's workers now, so it finds them warm."""
        await self._discard(key)
        await asyncio.to_thread(drop_stale_bytecode, root)
        before = await asyncio.to_thread(snapshot, root)
        run = await self._new_run(root, python, n, args)
        task = asyncio.ensure_future(run.start())
        self.standby[key] = (run, before, task)
        await task
        await asyncio.sleep(self.ctx.config["keep_warm_s"])
        if self.standby.get(key, (None,))[0] is run:
            await self._discard(key)

    async def _discard(self, key: tuple[Any, ...]) -> None:
        item = self.standby.pop(key, None)
        if item is not None:
            item[2].cancel()
            await self._drop(item[0])

    async def _drop(self, run: Run) -> None:
        await run.stop()
        self.runs.pop(run.id, None)
        self.reads.pop(run.id, None)
        self.ctx.revoke_token(run.o.token)
        await asyncio.to_thread(shutil.rmtree, run.o.run_dir, True)

    def _retire(self, run: Run) -> None:
        """Its workers exit and its folder goes in the background (see retire.py); their
        token opens nothing once they have."""
        self.runs.pop(run.id, None)
        self.reads.pop(run.id, None)

        async def retire_then_revoke() -> None:
            try:
                await retire(run, self.ctx.log)
            finally:
                self.ctx.revoke_token(run.o.token)

        fut = asyncio.ensure_future(retire_then_revoke())
        self._retiring.add(fut)
        fut.add_done_callback(self._retiring.discard)

    async def _verdicts(self, root: Path, python: str) -> Verdicts:
        """What the edits since the recordings affect (blocking work in a thread)."""
        def work() -> Verdicts:
            try:
                env = str(wk.probe(python, root, self._env()).get("env", ""))
            except wk.PreflightError as exc:
                raise RunFailed(NO_PYTEST, str(exc)) from exc
            return verdicts(self.history.deps, root, env)
        return await asyncio.to_thread(work)

    async def _run(self, call: Call, root: Path, python: str, n: int,
                   args: list[str], choice: Choice | None = None,
                   t_call: float | None = None) -> dict[str, Any]:
        choice = choice or Choice()
        t_call = time.monotonic() if t_call is None else t_call
        key = (str(root), python, n, tuple(args))
        reasons: dict[str, str] = {}
        await self._stop_recording(root)
        background = self.ctx.config["record"] == "background"
        await asyncio.to_thread(drop_stale_bytecode, root)
        snap = await asyncio.to_thread(snapshot, root)
        fp = digest_of(snap)
        try:
            history = await asyncio.to_thread(self.history.load, str(root))
            verdict = (await self._verdicts(root, python) if choice.select != "all" else None)
        except RunFailed as exc:
            raise exc.to_rpc() from exc

        if (choice.select == "affected" and verdict is not None and not choice.last_failed
                and verdict.quiet(history, unknown_unchanged(
                    verdict, snap, self.full_snap.get(str(root))))):
            return self._nothing_affected(root, python, n, verdict, t_call)

        def selector(ids: list[str]) -> list[list[str]]:
            phases, why = plan_phases(choice.select, ids, verdict, history, choice.last_failed,
                                      choice.failed_first)
            reasons.update(why)
            return phases

        narrowed, why_all = None, ""
        run = await self._take_standby(key, root, snap)
        if run is not None:
            why_all = "warm workers had collected everything"
        elif verdict is not None and choice.select == "affected" and not args:
            narrowed, why_all = await asyncio.to_thread(
                narrow_files, verdict, history, root, snap, self.full_snap.get(str(root)))
        extra = await asyncio.to_thread(narrow_args, root, narrowed) if narrowed else None
        if narrowed and extra is None:
            why_all = "no pytest configuration file in the root, or one pytest cannot read"
        narrowed = extra[1] if extra is not None else None
        if why_all and choice.select == "affected":
            self.ctx.log.info("affected run of %s collects every test file: %s", root, why_all)
        run = run or await self._new_run(root, python, n, [*args, *(extra[0] if extra else [])])
        if verdict is not None and run.env_id and run.env_id != verdict.env:
            await self._drop(run)  # warm workers from before a package was installed/removed
            run = await self._new_run(root, python, n, args)
        run.selector = selector
        try:
            summary = await run.execute(history, call.progress)
        except RunFailed as exc:
            raise exc.to_rpc() from exc
        except asyncio.CancelledError:
            partial = run.summary()
            partial["cancelled"] = True
            await asyncio.shield(asyncio.to_thread(self._record, str(root), partial))
            raise
        finally:
            self._retire(run)
        if narrowed is None and run.tests is not None and snap is not None:
            self.full_snap[str(root)] = snap
        universe = set(run.tests or [])
        if narrowed is not None and verdict is not None:  # what a full collection would hold
            universe |= {t for t in verdict.recorded if (root / t.split("::")[0]).is_file()}
        ran = {r["nodeid"] for r in summary["results"]}
        for r in summary["results"]:
            r["reason"] = reasons.get(r["nodeid"], "all")
        summary.update(select=choice.select, selected=len(ran),
                       deselected=len(universe - ran), collected_files=narrowed,
                       collected_all_because=why_all or None,
                       first_failure_s=(round(run.first_failure - t_call, 4)
                                        if run.first_failure is not None else None),
                       call_s=round(time.monotonic() - t_call, 4))
        if summary["tests"] == 0 and universe and choice.select != "all":
            summary["exit_status"] = 0  # nothing affected: nothing can have broken
        if run.deps and (fp == "too-large" or await asyncio.to_thread(fingerprint, root) != fp):
            run.deps = {}  # a file changed under the run: its records may name the new content
        await asyncio.to_thread(self._record, str(root), summary, run)
        self.completed += 1
        summary["warm_workers"] = run.warm
        ran_ids = [r["nodeid"] for r in summary["results"]
                   if not r.get("not_run") and not r.get("collection")]
        recording = None
        if background and ran_ids:  # registered now: `system.stats` shows it at once
            recording = asyncio.ensure_future(self._record_later(root, python, n, args,
                                                                 ran_ids, fp))
            self.recording[str(root)] = recording
        after = asyncio.ensure_future(self._after_run(
            key, root, python, n, args, recording,
            self.ctx.config["keep_warm_s"] > 0 and bool(summary["tests"])))
        self._bg.add(after)
        after.add_done_callback(self._bg.discard)
        return summary

    def _nothing_affected(self, root: Path, python: str, n: int, verdict: Verdicts,
                          t_call: float) -> dict[str, Any]:
        """The answer when no record changed and nothing is new: no worker is started."""
        took = round(time.monotonic() - t_call, 4)
        summary = summarize([], n, took, 0.0, {})
        summary.update(select="affected", selected=0, deselected=len(verdict.recorded),
                       collected_files=[], collected_all_because=None, first_failure_s=None,
                       call_s=took, exit_status=0,
                       root=str(root), python=python, shards_mode="local", warm_workers=False)
        self.completed += 1
        return summary

    async def _stop_recording(self, root: Path) -> None:
        """A new run of the root: a background recording still going is dropped (its tests
        stay unrecorded, so the next selection picks them again)."""
        task = self.recording.get(str(root))
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task

    async def _after_run(self, key: tuple[Any, ...], root: Path, python: str, n: int,
                         args: list[str], task: asyncio.Future[None] | None,
                         warm: bool) -> None:
        """After answering: record what ran in the background, then keep workers warm."""
        if task is not None:
            try:
                await task
            except asyncio.CancelledError:
                if task.cancelled():
                    return  # a new run of the root took over
                raise
            except Exception as exc:
                self.ctx.log.warning("background recording of %s failed: %s", root, exc)
            finally:
                if self.recording.get(str(root)) is task:
                    del self.recording[str(root)]
        if warm:
            await self._prepare(key, root, python, n, args)

    async def _record_later(self, root: Path, python: str, n: int, args: list[str],
                            ran: list[str], fp: str) -> None:
        """Re-run, traced, the tests that ran whose fingerprints are missing or stale; keep
        the recording only if the tree did not change meanwhile."""
        t0 = time.monotonic()
        verdict = await self._verdicts(root, python)
        wanted = {t for t in ran if t not in verdict.recorded or t in verdict.reasons}
        if not wanted:
            return
        await asyncio.to_thread(drop_stale_bytecode, root)
        # a few tests to record: collect only their files (as narrow.py does)
        extra = None if args else await asyncio.to_thread(
            record_args, root, wanted, {*ran, *verdict.recorded})
        run = await self._new_run(root, python, n, [*args, *(extra[0] if extra else [])])
        run.o.record = True
        run.selector = lambda got: [[t for t in got if t in wanted]]
        try:
            history = await asyncio.to_thread(self.history.load, str(root))
            await run.execute(history, lambda *a: None)
        finally:
            self._retire(run)
        if run.deps and fp != "too-large" and await asyncio.to_thread(fingerprint, root) == fp:
            await asyncio.to_thread(self.history.deps.record, str(root), run.env_id, run.deps)
            self.recorded_in_background += len(run.deps)
            # the next `affected` call then finds the files the new records name already cut
            # into blocks (a whole suite's worth takes seconds on a real project)
            await self._verdicts(root, python)
        self.background_record_s += time.monotonic() - t0

    async def _run_sharded(self, call: Call, root: Path, python: str, n: int, args: list[str],
                           worker_root: str) -> dict[str, Any]:
        cfg = self.ctx.config
        worker_python = python
        if Path(python).is_relative_to(root) and worker_root != str(root):
            worker_python = str(Path(worker_root) / Path(python).relative_to(root))
        opts = ShardOptions(
            root=root, python=python, shards=n, args=args, env=self._env(),
            passthrough=list(cfg["env_passthrough"]), shim=self.shim, worker_root=worker_root,
            worker_python=worker_python, timeout_s=cfg["timeout_s"],
            max_output=cfg["max_output_bytes"], memory_heavy_bytes=cfg["memory_heavy_bytes"],
            run_alone=list(cfg["run_alone"]),
            seed=None if wk.user_seed(args) else random.randrange(1, 2**31))
        history = await asyncio.to_thread(self.history.load, str(root))
        try:
            summary = await run_sharded(self.ctx.executor, opts, history, call.progress)
        except RunFailed as exc:
            raise exc.to_rpc() from exc
        await asyncio.to_thread(self._record, str(root), summary)
        self.completed += 1
        return summary

    def _record(self, root: str, summary: dict[str, Any], run: Run | None = None) -> None:
        if run is not None and run.deps:
            self.history.deps.record(root, run.env_id, run.deps)
        if run is not None and run.tests is not None:  # collected: drop deleted tests' records
            here = set(run.tests)
            self.history.deps.drop(root, [
                t for t in self.history.deps.tests(root)
                if t not in here and not (Path(root) / t.split("::")[0]).is_file()])
        self.history.record(root, [
            Measured(r["nodeid"], r["outcome"], float(r["duration_s"]),
                     int(r.get("rss_bytes", 0)), float(r.get("cpu_s", 0.0)),
                     int(r.get("io_bytes", 0)))
            for r in summary["results"]
            if not r.get("not_run") and not r.get("collection")],
            summary["order_dependent"])
        brief = {k: v for k, v in summary.items() if k not in ("results", "order")}
        self.history.add_run(root, brief)

    @rpc("plan", Param("root", "str"),
         Param("workers", "int", required=False, nullable=True, min=1, max=256),
         Param("python", "str", required=False, nullable=True),
         Param("args", "list", required=False, default=[], items="str"),
         doc="The schedule a run would use now (collects, does not run).")
    async def plan(self, call: Call, root: str, workers: int | None = None,
                   python: str | None = None, args: list[str] | None = None) -> dict[str, Any]:
        path = self._root(root)
        checked = check_args(args or [], path)
        interp = self._python(path, python)
        n = self._workers(workers)
        ids = await asyncio.to_thread(self._collect, path, interp, checked.pytest)
        cfg = self.ctx.config
        hist = await asyncio.to_thread(self.history.load, str(path))
        ex = estimate(ids, hist, cfg["memory_heavy_bytes"])
        share = lower_bound([e.duration for e in ex.values()], n)
        alone = {t for t in ids if matches_any(t, cfg["run_alone"])}
        units = build_units(ids, ex, alone, split_above=share / 2)
        cores = os.cpu_count() or 1
        p = simulate(units, n, cores, cfg["memory_budget"], cfg["batch_target_s"])
        return {"root": str(path), "tests": len(ids), "known": sum(e.known for e in ex.values()),
                "workers": n, "expected_makespan_s": round(p.makespan, 4),
                "lower_bound_s": round(share, 4),
                "serial_estimate_s": round(sum(e.duration for e in ex.values()), 4),
                "units": len(units), "order": p.workers}

    def _collect(self, root: Path, python: str, args: list[str]) -> list[str]:
        try:
            wk.probe(python, root, self._env())
        except wk.PreflightError as exc:
            raise RpcError(str(exc), code=NO_PYTEST) from exc
        out = subprocess.run(
            [python, "-m", "pytest", "--collect-only", "-q", "-p", "no:cacheprovider",
             *wk.strip_args(args)], cwd=root, env=self._env(), capture_output=True, text=True,
            timeout=600, check=False)
        if out.returncode not in (0, 5):
            raise RpcError("collection failed:\n" + (out.stdout + out.stderr)[-8000:],
                           code=COLLECTION_ERROR)
        return [line.strip() for line in out.stdout.splitlines() if "::" in line
                and not line.startswith(" ")]

    @rpc("history", Param("root", "str"), doc="What is remembered about a root's tests.")
    async def history_(self, call: Call, root: str) -> dict[str, Any]:
        path = self._root(root)
        stats = await asyncio.to_thread(self.history.load, str(path))
        heavy = self.ctx.config["memory_heavy_bytes"]
        tests = [{"nodeid": s.nodeid, "ewma_s": round(s.ewma, 6), "last_s": round(s.last, 6),
                  "runs": s.runs, "outcome": s.outcome, "rss_bytes": s.rss,
                  "cpu_s": round(s.cpu, 6), "io_bytes": s.io, "kind": classify(s, heavy),
                  "order_dependent": s.order_dependent}
                 for s in sorted(stats.values(), key=lambda s: -s.ewma)]
        runs = await asyncio.to_thread(self.history.runs, str(path))
        return {"root": str(path), "tests": tests, "runs": runs}

    @rpc("forget", Param("root", "str"), doc="Drop a root's history.")
    async def forget(self, call: Call, root: str) -> dict[str, Any]:
        path = self._root(root)
        for key in [k for k in self.standby if k[0] == str(path)]:
            await self._discard(key)
        n = await asyncio.to_thread(self.history.forget, str(path))
        return {"root": str(path), "forgotten": n}

    # -- internal verbs (for the workers; the dispatcher checks their token) ------------------

    def _active(self, run: str) -> Run:
        r = self.runs.get(run)
        if r is None:
            raise InvalidParams(f"no active test run {run!r}")
        return r

    @rpc("worker_hello", Param("run", "str"), Param("worker", "str"), Param("pid", "int"),
         Param("tests", "list", items="str"), Param("alone", "list", items="str"),
         Param("errors", "list"), Param("skips", "list", required=False, default=[]),
         Param("reads", "list", required=False, default=[], items="str"),
         doc="A worker's collection (and the project files it read meanwhile).",
         internal=True)
    async def worker_hello(self, call: Call, run: str, worker: str, pid: int,
                           tests: list[str], alone: list[str], errors: list[dict[str, Any]],
                           skips: list[dict[str, Any]] | None = None,
                           reads: list[str] | None = None) -> dict[str, Any]:
        try:
            r = self._active(run)
        except InvalidParams:
            return {"stop": True}
        self.reads.setdefault(run, set()).update(reads or [])
        return r.hello(worker, tests, alone, errors, skips or [])

    @rpc("pull", Param("run", "str"), Param("worker", "str"), Param("results", "list"),
         Param("blocks", "list", required=False, default=[]),
         doc="A worker reports results (with the ids of the blocks each depended on) and new "
             "block definitions, and asks for its next batch.", internal=True)
    async def pull(self, call: Call, run: str, worker: str, results: list[dict[str, Any]],
                   blocks: list[list[Any]] | None = None) -> dict[str, Any]:
        r = self.runs.get(run)
        if r is None:
            return {"tests": []}
        return await r.pull(worker, results, blocks)
