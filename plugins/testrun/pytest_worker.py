"""The pytest plugin inside each catalytic test worker.

Registered as a `pytest11` entry point, so it is loaded by every pytest run in
an environment where catalytic is installed: it does nothing unless the daemon
started this process with `CATALYTIC_WORKER_ID` set. Active, it replaces
pytest's run loop: after collection it says hello to the daemon (the collected
node ids), then pulls batches of node ids over the socket, runs each with the
normal `pytest_runtest_protocol` (so fixtures, capture, junitxml and other
plugins behave as usual), measures it (wall time, CPU, I/O, peak RSS) and sends
the results back with the next pull. A journal file records which test started,
so the daemon can name the test that crashed or hung its worker.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from catalytic.plugins.testrun.workers import (
    ENV,
    ENV_JOURNAL,
    ENV_MAX_OUTPUT,
    ENV_RECORD,
    ENV_SOCKET,
    ENV_TOKEN,
)

ALONE_MARKER = "run_alone"

_state: dict[str, Any] = {}

# Started at import (before conftest files load) in a worker only: what collection read,
# and (recording) what the module bodies imported by conftest files and tests ran.
_reads = None
_recorder: Any = None
if os.environ.get(ENV):
    from catalytic.plugins.testrun.collect_reads import CollectReads

    _reads = CollectReads()
    if os.environ.get(ENV_RECORD) == "1":
        from catalytic.plugins.testrun.recorder import Recorder

        _recorder = Recorder(Path.cwd())
        _recorder.start_imports()


def _active() -> bool:
    return bool(_state)


def pytest_configure(config: pytest.Config) -> None:
    ident = os.environ.pop(ENV, "")
    if not ident:
        return
    # Popped so that a test which starts pytest in a subprocess gets a plain pytest.
    run, _, worker = ident.partition(":")
    _state.update(
        run=run, worker=worker,
        socket=os.environ.pop(ENV_SOCKET, ""),
        journal=os.environ.pop(ENV_JOURNAL, ""),
        token=os.environ.pop(ENV_TOKEN, ""),
        max_output=int(os.environ.pop(ENV_MAX_OUTPUT, "65536") or 65536),
        collect_errors=[], collect_skips=[], reports={},
    )
    if os.environ.pop(ENV_RECORD, "") == "1" and _recorder is not None:
        _state["recorder"] = _recorder
    config.addinivalue_line("markers", f"{ALONE_MARKER}: run this test with no other test")


def pytest_collectreport(report: pytest.CollectReport) -> None:
    if _active() and report.failed:
        _state["collect_errors"].append(
            {"nodeid": report.nodeid, "message": _clip(str(report.longrepr))})
    elif _active() and report.skipped:
        # A module skipped at collection (importorskip): pytest counts it as one skip.
        why = report.longrepr[2] if isinstance(report.longrepr, tuple) else str(report.longrepr)
        _state["collect_skips"].append({"nodeid": report.nodeid, "message": _clip(why, 2000)})


@pytest.hookimpl(hookwrapper=True)
def pytest_fixture_setup(fixturedef: Any, request: Any) -> Iterator[None]:
    """What a fixture's setup runs counts for every test that uses it (recorder)."""
    rec = _state.get("recorder")
    if rec is not None:
        rec.fixture_enter()
    try:
        yield
    finally:
        if rec is not None:
            rec.fixture_exit(fixturedef)


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    if _active():
        _state["reports"].setdefault(report.nodeid, []).append(report)


def _clip(text: str, limit: int | None = None) -> str:
    return clip(text, limit or int(_state.get("max_output", 65536)))


def clip(text: str, limit: int) -> str:
    """`text` cut to about `limit` UTF-8 bytes, keeping its start and its end."""
    data = text.encode("utf-8", "replace")
    if len(data) <= limit:
        return text
    half = limit // 2
    return (data[:half].decode("utf-8", "ignore") + f"\n... [{len(data) - limit} bytes cut] ...\n"
            + data[-half:].decode("utf-8", "ignore"))


class _Meter:
    """CPU, I/O and peak-RSS deltas of this process around one test (psutil when present)."""

    def __init__(self) -> None:
        try:
            import psutil
            self.proc: Any = psutil.Process()
        except Exception:  # psutil missing in the project's environment
            self.proc = None
        self.can_reset = os.path.exists("/proc/self/clear_refs")

    def _cpu(self) -> float:
        if self.proc is not None:
            t = self.proc.cpu_times()
            return float(t.user + t.system)
        t2 = os.times()
        return t2.user + t2.system

    def _io(self) -> int:
        try:
            if self.proc is not None:
                c = self.proc.io_counters()
                return int(c.read_bytes + c.write_bytes)
        except Exception:
            pass
        return 0

    @staticmethod
    def _status(field: str) -> int:
        try:
            with open("/proc/self/status") as f:
                for line in f:
                    if line.startswith(field + ":"):
                        return int(line.split()[1]) * 1024
        except OSError:
            pass
        return 0

    def _rss(self) -> int:
        if self.proc is not None:
            return int(self.proc.memory_info().rss)
        return self._status("VmRSS")

    def start(self) -> None:
        if self.can_reset:
            try:
                with open("/proc/self/clear_refs", "w") as f:
                    f.write("5")  # resets VmHWM (peak RSS) to the current RSS
            except OSError:
                self.can_reset = False
        self.t0, self.cpu0, self.io0, self.rss0 = (time.perf_counter(), self._cpu(), self._io(),
                                                   self._rss())
        self.wall0 = time.time()

    def stop(self) -> dict[str, Any]:
        peak = self._status("VmHWM") if self.can_reset else self._rss()
        return {"duration_s": time.perf_counter() - self.t0, "start": self.wall0,
                "cpu_s": max(0.0, self._cpu() - self.cpu0), "io_bytes": max(0, self._io()
                                                                           - self.io0),
                "rss_bytes": max(0, peak - self.rss0)}


def outcome_of(reports: list[Any]) -> tuple[str, str, str]:
    """(outcome, short message, long text) from a test's setup/call/teardown reports."""
    outcome, short, long = "passed", "", ""
    for r in reports:
        xfail = hasattr(r, "wasxfail")
        if r.when == "setup" and r.failed:
            outcome = "error"
        elif r.when == "setup" and r.skipped:
            outcome = "xfailed" if xfail else "skipped"
        elif r.when == "call":
            if r.passed:
                outcome = "xpassed" if xfail else "passed"
            elif r.skipped:
                outcome = "xfailed" if xfail else "skipped"
            else:
                outcome = "failed"
        elif r.when == "teardown" and r.failed and outcome in ("passed", "xpassed"):
            outcome = "error"
        if r.failed and not long:
            crash = getattr(r.longrepr, "reprcrash", None)
            short = getattr(crash, "message", "") or str(r.longrepr).splitlines()[-1:][0] \
                if str(r.longrepr) else ""
            long = r.longreprtext
            for title, content in getattr(r, "sections", []):
                long += f"\n----- {title} -----\n{content}"
        elif r.skipped and not short and isinstance(r.longrepr, tuple):
            short = str(r.longrepr[2])
    return outcome, short, long


def _journal(line: str) -> None:
    fd = _state.get("journal_fd")
    if fd is not None:
        os.write(fd, (line + "\n").encode("utf-8", "replace"))


@pytest.hookimpl(tryfirst=True)
def pytest_runtestloop(session: pytest.Session) -> bool | None:
    if not _active():
        return None
    from catalytic.client import Client

    if _state["journal"]:
        _state["journal_fd"] = os.open(_state["journal"],
                                       os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
    ids = [item.nodeid for item in session.items]
    if _state.get("recorder") is not None:
        _state["recorder"].collected(session.config, session.items)
    alone = [item.nodeid for item in session.items if item.get_closest_marker(ALONE_MARKER)]
    client = Client(_state["socket"], check_version=False)
    try:
        reply = client.call("internal.testrun.worker_hello", {
            "internal_token": _state["token"], "run": _state["run"],
            "worker": _state["worker"], "pid": os.getpid(),
            "tests": ids, "alone": alone, "errors": _state["collect_errors"],
            "skips": _state["collect_skips"],
            "reads": _reads.stop(os.getcwd()) if _reads is not None else []})
        if reply.get("stop"):
            return True
        _serve(session, client)
    finally:
        client.close()
    return True


def _serve(session: pytest.Session, client: Any) -> None:
    items = {item.nodeid: item for item in session.items}
    meter = _Meter()
    rec = _state.get("recorder")
    results: list[dict[str, Any]] = []
    while True:
        params: dict[str, Any] = {"internal_token": _state["token"], "run": _state["run"],
                                  "worker": _state["worker"], "results": results}
        if rec is not None:
            params["blocks"] = rec.take_new_blocks()
        reply = client.call("internal.testrun.pull", params)
        results = []
        batch = reply.get("tests") or []
        if not batch:
            return
        for i, nid in enumerate(batch):
            item = items[nid]
            nextitem = items[batch[i + 1]] if i + 1 < len(batch) else item.parent
            try:
                # Tear down what the previous batch left that this test does not share.
                session._setupstate.teardown_exact(item)
            except Exception:
                pass
            _journal(json.dumps({"e": "start", "id": nid}))
            _state["reports"].pop(nid, None)
            meter.start()
            if rec is not None:
                rec.begin()
            try:
                item.ihook.pytest_runtest_protocol(item=item, nextitem=nextitem)
            finally:
                deps = rec.end(item) if rec is not None else None
            measured = meter.stop()
            outcome, short, long = outcome_of(_state["reports"].pop(nid, []))
            result = {"nodeid": nid, "outcome": outcome, "message": _clip(short, 2000),
                      **measured}
            _journal(json.dumps({"e": "done", "id": nid, "r": result}))
            results.append({**result, "longrepr": _clip(long)})
            if deps is not None:
                results[-1]["deps"] = deps
            if session.shouldstop or session.shouldfail:
                break
