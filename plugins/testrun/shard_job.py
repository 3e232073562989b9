"""One shard of a test run as an executor job: pytest in a subprocess, results as data.

Why a job and not a worker that pulls: with `shards = "dask"` the job runs on a
cluster worker that may be another host and cannot reach the daemon's socket,
so each shard gets a static list (LPT-packed from history by the daemon) and
returns its results when done. The worker needs the project (and its
interpreter) at the path it is given. A test that crashes pytest or runs past
the timeout is reported failed with the reason and pytest starts again with
the rest of the shard, as a local run replaces a worker; both follow the same
policy (`supervisor.WorkerWatch`).

`collect` runs the same plugin in `--collect-only` mode (the daemon plans from
it). Both return plain dicts (picklable, no exception classes cross hosts).
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from catalytic.plugins.base import JobCancelled, Reporter
from catalytic.plugins.testrun import workers as wk
from catalytic.plugins.testrun.errors import (
    COLLECTION_MISMATCH,
    NO_PYTEST,
    WORKERS_DIED,
    RunFailed,
    collection_failed,
    died_before_collecting,
)
from catalytic.plugins.testrun.journal import Event, JournalReader
from catalytic.plugins.testrun.pytest_shard import ENV_IDS, ENV_MAX_OUTPUT, ENV_OUT
from catalytic.plugins.testrun.results import not_run
from catalytic.plugins.testrun.supervisor import WorkerWatch, kill_group

SHARD_PLUGIN = "catalytic.plugins.testrun.pytest_shard"
POLL_S = 0.05
"""How often a shard job reads its pytest's journal."""


def shard_argv(python: str, shim: tuple[Path, Path], args: Sequence[str],
               info: Mapping[str, Any], seed: int | None) -> list[str]:
    """pytest with the shard plugin; the caller's args, so collection equals a local worker's."""
    argv = [python, "-c", wk.BOOT, str(shim[0]), str(shim[1]),
            "-p", "no:catalytic_testrun", "-p", SHARD_PLUGIN,
            "-p", "no:cacheprovider", "-q", "--junitxml=", *wk.strip_args(args)]
    if info.get("xdist"):
        argv.append("-n0")
    if info.get("pytest_randomly") and seed is not None:
        argv.append(f"--randomly-seed={seed}")
    return argv


def _error(err: RunFailed) -> dict[str, Any]:
    return {"error": err.to_map()}


def collect(root: str, python: str, args: Sequence[str], env: Mapping[str, str],
            shim: tuple[Path, Path], seed: int | None, timeout_s: float = 600) -> dict[str, Any]:
    """{tests, alone, errors, skips} of the suite, or {error: {code, message}}."""
    try:
        info = wk.probe(python, Path(root), env)
    except wk.PreflightError as exc:
        return _error(RunFailed(NO_PYTEST, str(exc)))
    with tempfile.TemporaryDirectory(prefix="catalytic-collect-") as tmp:
        journal = Path(tmp) / "collect.jsonl"
        try:
            out = subprocess.run([*shard_argv(python, shim, args, info, seed), "--collect-only"],
                                 cwd=root, env={**env, ENV_OUT: str(journal)},
                                 stdin=subprocess.DEVNULL, capture_output=True,
                                 timeout=timeout_s, check=False)
        except subprocess.TimeoutExpired:
            return _error(RunFailed(WORKERS_DIED, f"collecting the tests took more than "
                                                  f"{timeout_s:g} s; pytest was stopped"))
        events = JournalReader(journal).read()
    found = [e for e in events if e.get("e") == "collected"]
    if not found:
        text = (out.stdout + out.stderr).decode("utf-8", "replace")[-8000:]
        return _error(died_before_collecting(out.returncode, text))
    return {k: found[-1][k] for k in ("tests", "alone", "errors", "skips")}


def run_shard_checked(spec: dict[str, Any], report: Reporter | None = None) -> dict[str, Any]:
    """`run_shard`, raising `RunFailed` instead of answering an error (so that
    `executor.map` cancels the other shards)."""
    out = run_shard(spec, report)
    err = out.get("error")
    if err:
        raise RunFailed.from_map(err)
    return out


def run_shard(spec: dict[str, Any], report: Reporter | None = None) -> dict[str, Any]:
    """Run `spec["ids"]` in order under pytest in `spec["root"]`; results by node id.

    spec: root, python, args, ids, passthrough (env patterns), timeout_s, max_output, seed,
    max_restarts. The environment is built here from this host's variables.
    """
    tmp = Path(tempfile.mkdtemp(prefix="catalytic-shard-"))
    where = f"{socket.gethostname()}:{os.getpid()}"
    try:
        return _run(spec, tmp, report) | {"host": where}
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def _run(spec: dict[str, Any], tmp: Path, report: Reporter | None) -> dict[str, Any]:
    root, python, ids = str(spec["root"]), str(spec["python"]), list(spec["ids"])
    if not Path(root).is_dir():
        return _error(RunFailed(WORKERS_DIED, f"the project root {root} does not exist on "
                                              f"{socket.gethostname()}; shards need the "
                                              "project at the same path (or worker_root)"))
    env = wk.worker_env(os.environ, spec["passthrough"], python, {})
    try:
        info = wk.probe(python, Path(root), env)
    except wk.PreflightError as exc:
        return _error(RunFailed(NO_PYTEST, f"on {socket.gethostname()}: {exc}"))
    shim = wk.make_shim(tmp / "shim")
    argv = shard_argv(python, shim, spec["args"], info, spec.get("seed"))
    results: dict[str, dict[str, Any]] = {}
    todo = ids
    for attempt in range(int(spec.get("max_restarts", 50)) + 1):
        if not todo:
            break
        out = _attempt(argv, root, env, spec, todo, tmp / f"a{attempt}", results, len(ids),
                       report)
        if "error" in out:
            return out
        todo = out["rest"]
    for nid in todo:
        results[nid] = not_run(nid, "the shard's pytest restarted too often")
    return {"results": [results[n] for n in ids if n in results]}


def _attempt(argv: list[str], root: str, env: dict[str, str], spec: dict[str, Any],
             todo: list[str], base: Path, results: dict[str, dict[str, Any]], total: int,
             report: Reporter | None) -> dict[str, Any]:
    """One pytest process over `todo`; {"rest": what still has to run} or {"error": ...}."""
    proc, watch = _launch(argv, root, env, spec, todo, base)
    try:
        failed = _supervise(proc, watch, todo, results, total, report)
    finally:
        if proc.poll() is None:
            kill_group(proc.pid)
            proc.wait()
    if failed is not None:
        return _error(failed)
    return {"rest": _after_exit(proc.returncode, watch, todo, results)}


def _launch(argv: list[str], root: str, env: dict[str, str], spec: dict[str, Any],
            todo: list[str], base: Path) -> tuple[subprocess.Popen[bytes], WorkerWatch]:
    """Start pytest over `todo` (its ids in a file), with a journal to watch it by."""
    base.mkdir()
    journal, log, ids_file = base / "journal", base / "log", base / "ids.json"
    ids_file.write_text(json.dumps(todo))
    penv = {**env, ENV_OUT: str(journal), ENV_IDS: str(ids_file),
            ENV_MAX_OUTPUT: str(spec.get("max_output", 65536))}
    with open(log, "wb") as out:
        proc = subprocess.Popen(argv, cwd=root, env=penv, stdin=subprocess.DEVNULL, stdout=out,
                                stderr=subprocess.STDOUT, start_new_session=True)
    return proc, WorkerWatch(JournalReader(journal), log, float(spec.get("timeout_s") or 0))


def _supervise(proc: subprocess.Popen[bytes], watch: WorkerWatch, todo: list[str],
               results: dict[str, dict[str, Any]], total: int,
               report: Reporter | None) -> RunFailed | None:
    """Follow the journal until pytest exits (killing it when a test passes the timeout);
    the error that makes the shard fail, if its collection is not the plan's."""
    collected = False
    while True:
        exited = proc.poll() is not None
        events = watch.poll()
        for ev in events:
            if ev.get("e") == "collected":
                collected = True
                failed = _check_collection(ev, todo)
                if failed is not None:
                    return failed
            elif ev.get("e") == "done":
                results[ev["id"]] = watch.finished[ev["id"]]
                if report is not None:
                    report.report(len(results), total, ev["id"])
        if exited:
            break
        if report is not None and report.cancelled():
            raise JobCancelled("shard cancelled")
        if watch.overdue(time.monotonic()):
            kill_group(proc.pid)
        time.sleep(POLL_S)
    if not collected:
        return died_before_collecting(proc.wait(), wk.tail(watch.log))
    return None


def _check_collection(ev: Event, todo: list[str]) -> RunFailed | None:
    """This host must collect without errors and find every test of the shard."""
    if ev["errors"]:
        return collection_failed(ev["errors"], f" on {socket.gethostname()}")
    missing = set(todo) - set(ev["tests"])
    if missing:
        return RunFailed(COLLECTION_MISMATCH, (
            f"{socket.gethostname()} did not collect {len(missing)} of the shard's tests "
            f"(e.g. {sorted(missing)[0]}); is the project the same there?"))
    return None


def _after_exit(status: int, watch: WorkerWatch, todo: list[str],
                results: dict[str, dict[str, Any]]) -> list[str]:
    """pytest has exited: fail the test it died in and return what must run again, or,
    when it ended between tests (done, or stopped by -x / --maxfail), mark the rest not
    run."""
    if watch.current is None:
        for nid in todo:
            if nid not in results:
                results[nid] = not_run(nid)
        return []
    crashed = watch.current[0]
    results[crashed] = watch.crash_result(crashed, status, wk.tail(watch.log))
    return [t for t in watch.unfinished_after(todo, crashed) if t not in results]
