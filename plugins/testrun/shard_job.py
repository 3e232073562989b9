"""One shard of a test run as an executor job: pytest in a subprocess, results as data.

Why a job and not a worker that pulls: with `shards = "dask"` the job runs on a
cluster worker that may be another host and cannot reach the daemon's socket,
so each shard gets a static list (LPT-packed from history by the daemon) and
returns its results when done. The worker needs the project (and its
interpreter) at the path it is given. A test that crashes pytest or runs past
the timeout is reported failed with the reason and pytest starts again with
the rest of the shard, as a local run replaces a worker.

`collect` runs the same plugin in `--collect-only` mode (the daemon plans from
it). Both return plain dicts (picklable, no exception classes cross hosts).
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from catalytic.plugins.base import JobCancelled, Reporter
from catalytic.plugins.testrun import workers as wk
from catalytic.plugins.testrun.results import not_run
from catalytic.plugins.testrun.shard_plugin import ENV_IDS, ENV_MAX_OUTPUT, ENV_OUT

SHARD_PLUGIN = "catalytic.plugins.testrun.shard_plugin"
COLLECTION_ERROR = -33001
WORKERS_DIED = -33002
COLLECTION_MISMATCH = -33003
NO_PYTEST = -33004


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


def _events(path: Path, offset: int) -> tuple[list[dict[str, Any]], int]:
    try:
        with open(path, "rb") as f:
            f.seek(offset)
            data = f.read()
    except OSError:
        return [], offset
    end = data.rfind(b"\n") + 1
    out = []
    for line in data[:end].decode("utf-8", "replace").splitlines():
        with contextlib.suppress(ValueError):
            out.append(json.loads(line))
    return out, offset + end


def _kill(proc: subprocess.Popen[bytes]) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()


def _error(code: int, message: str) -> dict[str, Any]:
    return {"code": code, "message": message}


def collect(root: str, python: str, args: Sequence[str], env: Mapping[str, str],
            shim: tuple[Path, Path], seed: int | None, timeout_s: float = 600) -> dict[str, Any]:
    """{tests, alone, errors, skips} of the suite, or {error: {code, message}}."""
    try:
        info = wk.probe(python, Path(root), env)
    except wk.PreflightError as exc:
        return {"error": _error(NO_PYTEST, str(exc))}
    with tempfile.TemporaryDirectory(prefix="catalytic-collect-") as tmp:
        journal = Path(tmp) / "collect.jsonl"
        try:
            out = subprocess.run([*shard_argv(python, shim, args, info, seed), "--collect-only"],
                                 cwd=root, env={**env, ENV_OUT: str(journal)},
                                 stdin=subprocess.DEVNULL, capture_output=True,
                                 timeout=timeout_s, check=False)
        except subprocess.TimeoutExpired:
            return {"error": _error(WORKERS_DIED, f"collecting the tests took more than "
                                                  f"{timeout_s:g} s; pytest was stopped")}
        events, _ = _events(journal, 0)
    found = [e for e in events if e.get("e") == "collected"]
    if not found:
        text = (out.stdout + out.stderr).decode("utf-8", "replace")[-8000:]
        return {"error": _error(WORKERS_DIED, f"pytest exited with status {out.returncode} "
                                              f"before collecting tests:\n{text}")}
    return {k: found[-1][k] for k in ("tests", "alone", "errors", "skips")}


class ShardFailed(Exception):
    """A shard could not run at all; raised so that `executor.map` cancels the other shards.
    Picklable (its arguments are its fields), as it crosses from a pool process or a
    cluster worker."""

    def __init__(self, code: int, message: str) -> None:
        super().__init__(code, message)
        self.code, self.message = code, message


def run_shard_checked(spec: dict[str, Any], report: Reporter | None = None) -> dict[str, Any]:
    """`run_shard`, raising `ShardFailed` instead of answering an error."""
    out = run_shard(spec, report)
    err = out.get("error")
    if err:
        raise ShardFailed(int(err["code"]), str(err["message"]))
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
        return {"error": _error(WORKERS_DIED, f"the project root {root} does not exist on "
                                              f"{socket.gethostname()}; shards need the "
                                              "project at the same path (or worker_root)")}
    env = wk.worker_env(os.environ, spec["passthrough"], python, {})
    try:
        info = wk.probe(python, Path(root), env)
    except wk.PreflightError as exc:
        return {"error": _error(NO_PYTEST, f"on {socket.gethostname()}: {exc}")}
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
    base.mkdir()
    journal, log, ids_file = base / "journal", base / "log", base / "ids.json"
    ids_file.write_text(json.dumps(todo))
    penv = {**env, ENV_OUT: str(journal), ENV_IDS: str(ids_file),
            ENV_MAX_OUTPUT: str(spec.get("max_output", 65536))}
    with open(log, "wb") as out:
        proc = subprocess.Popen(argv, cwd=root, env=penv, stdin=subprocess.DEVNULL, stdout=out,
                                stderr=subprocess.STDOUT, start_new_session=True)
    offset, current, timed_out, collected = 0, None, None, False
    timeout = float(spec.get("timeout_s") or 0)
    try:
        while True:
            exited = proc.poll() is not None
            events, offset = _events(journal, offset)
            for ev in events:
                kind = ev.get("e")
                if kind == "collected":
                    collected = True
                    if ev["errors"]:
                        text = "\n".join(f"{e['nodeid']}: {e['message']}" for e in ev["errors"])
                        return {"error": _error(COLLECTION_ERROR, "collection failed on "
                                                f"{socket.gethostname()}:\n{text}")}
                    missing = set(todo) - set(ev["tests"])
                    if missing:
                        return {"error": _error(COLLECTION_MISMATCH, (
                            f"{socket.gethostname()} did not collect {len(missing)} of the "
                            f"shard's tests (e.g. {sorted(missing)[0]}); is the project "
                            "the same there?"))}
                elif kind == "start":
                    current = (ev["id"], time.monotonic())
                elif kind == "done":
                    current = None
                    results[ev["id"]] = {**ev["r"], "start": float(ev["r"].get("start", 0))}
                    if report is not None:
                        report.report(len(results), total, ev["id"])
            if exited:
                break
            if report is not None and report.cancelled():
                raise JobCancelled("shard cancelled")
            if timeout and current and time.monotonic() - current[1] > timeout:
                timed_out = current[0]
                _kill(proc)
            time.sleep(0.05)
    finally:
        if proc.poll() is None:
            _kill(proc)
    code = proc.returncode
    if not collected:
        return {"error": _error(WORKERS_DIED, f"pytest exited with status {code} before "
                                              f"collecting tests:\n{wk.tail(log)}")}
    if current is None:  # finished (or stopped by -x / --maxfail): the rest did not run
        rest = [t for t in todo if t not in results]
        for nid in rest:
            results[nid] = not_run(nid)
        return {"rest": []}
    crashed, began = current
    sig = -code if code < 0 else 0
    reason = (f"timed out after {timeout:g} s (worker killed)" if timed_out == crashed else
              f"worker crashed ({signal.Signals(sig).name})" if sig else
              f"worker exited with status {code}")
    results[crashed] = {"nodeid": crashed, "outcome": "failed",
                        "duration_s": time.monotonic() - began, "start": time.time(),
                        "message": reason + " while running this test",
                        "longrepr": reason + "\n--- worker output (tail) ---\n" + wk.tail(log),
                        "crashed": True}
    after = todo[todo.index(crashed) + 1:] if crashed in todo else []
    return {"rest": [t for t in after if t not in results]}
