"""The pytest plugin inside a shard's pytest process (`shards = "dask"`).

A shard is a static list of node ids that one executor job runs in a plain
pytest subprocess, with no way back to the daemon's socket (the job may run on
another host). So, unlike `pytest_worker`, this plugin does not replace the run
loop: pytest collects with the caller's arguments as a local worker would, the
plugin keeps only the shard's tests in the shard's order, and each test's
outcome and measurements go to a JSON-lines journal the job reads. Outcomes
use `pytest_worker.outcome_of`, so they are counted exactly as in a local run.

Inactive unless `CATALYTIC_WORKER_SHARD` names the journal. With
`CATALYTIC_WORKER_SHARD_IDS` (a JSON file of node ids) it runs those; without
it, it only reports the collection (for planning).
"""

from __future__ import annotations

import json
import os
from collections.abc import Generator
from typing import Any

import pytest

from catalytic.plugins.testrun.pytest_worker import ALONE_MARKER, _Meter, clip, outcome_of
from catalytic.plugins.testrun.workers import ENV_PREFIX

ENV_OUT = ENV_PREFIX + "SHARD"
ENV_IDS = ENV_PREFIX + "SHARD_IDS"
ENV_MAX_OUTPUT = ENV_PREFIX + "SHARD_MAX_OUTPUT"

_state: dict[str, Any] = {}


def _write(event: dict[str, Any]) -> None:
    fd = _state.get("fd")
    if fd is not None:
        os.write(fd, (json.dumps(event) + "\n").encode("utf-8", "replace"))


def _clip(text: str, limit: int | None = None) -> str:
    return clip(text, limit or int(_state.get("max_output", 65536)))


def pytest_configure(config: pytest.Config) -> None:
    out = os.environ.pop(ENV_OUT, "")
    if not out:
        return
    ids_file = os.environ.pop(ENV_IDS, "")
    ids: list[str] | None = None
    if ids_file:
        with open(ids_file, encoding="utf-8") as f:
            ids = [str(x) for x in json.load(f)]
    _state.update(fd=os.open(out, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600), ids=ids,
                  max_output=int(os.environ.pop(ENV_MAX_OUTPUT, "65536") or 65536),
                  errors=[], skips=[], reports={}, meter=_Meter())
    config.addinivalue_line("markers", f"{ALONE_MARKER}: run this test with no other test")


def pytest_collectreport(report: pytest.CollectReport) -> None:
    if not _state:
        return
    if report.failed:
        _state["errors"].append({"nodeid": report.nodeid,
                                 "message": _clip(str(report.longrepr))})
    elif report.skipped:
        why = report.longrepr[2] if isinstance(report.longrepr, tuple) else str(report.longrepr)
        _state["skips"].append({"nodeid": report.nodeid, "message": _clip(why, 2000)})


@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Report the whole collection, then keep the shard's tests in the shard's order."""
    if not _state:
        return
    _write({"e": "collected", "tests": [i.nodeid for i in items],
            "alone": [i.nodeid for i in items if i.get_closest_marker(ALONE_MARKER)],
            "errors": _state["errors"], "skips": _state["skips"]})
    ids = _state["ids"]
    if ids is None:
        return
    by_id = {i.nodeid: i for i in items}
    keep = [by_id[n] for n in ids if n in by_id]
    chosen = {id(i) for i in keep}
    dropped = [i for i in items if id(i) not in chosen]
    if dropped:
        config.hook.pytest_deselected(items=dropped)
    items[:] = keep


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    if _state:
        _state["reports"].setdefault(report.nodeid, []).append(report)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_protocol(item: pytest.Item,
                            nextitem: pytest.Item | None) -> Generator[None, Any, None]:
    if not _state or _state["ids"] is None:
        yield
        return
    nid = item.nodeid
    _write({"e": "start", "id": nid})
    _state["reports"].pop(nid, None)
    meter: _Meter = _state["meter"]
    meter.start()
    yield
    measured = meter.stop()
    outcome, short, long = outcome_of(_state["reports"].pop(nid, []))
    _write({"e": "done", "id": nid, "r": {"nodeid": nid, "outcome": outcome,
                                          "message": _clip(short, 2000), **measured,
                                          "longrepr": _clip(long)}})
