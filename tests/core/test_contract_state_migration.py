"""A state directory left by release 0.1.0 (no schema versions) migrates on start:
every plugin starts, its data is still there, and the stores opened through
`ctx.sqlite` now carry a schema version. A store newer than the code is refused
by that plugin alone."""

from __future__ import annotations

import sqlite3
import tarfile
from pathlib import Path
from typing import Any

import pytest

from daemon_process import DaemonProcess

FIXTURE = Path(__file__).resolve().parents[1] / "data" / "state-0.1.0" / "state.tar.gz"
PLUGINS = ["workspace", "prd", "evolve", "testrun", "monitor", "space"]
STUDY = "dc44740e1116"
BASELINE_CREATED = 1796406430.5441477

VERSIONED: dict[str, bool] = {
    # store (relative to the state dir) → whether it is opened with ctx.sqlite, so must
    # carry user_version >= 1 after the start (every store of 0.1.0 now is).
    "monitor/monitor.sqlite": True,
    "workspace/index.sqlite3": True,
    "prd/documents.sqlite": True,
    "prd/memo.sqlite": True,
    "evolve/evolve.sqlite3": True,
    "testrun/history.sqlite": True,
}


def unpack(d: DaemonProcess) -> None:
    d.state_dir.parent.mkdir(parents=True, exist_ok=True)
    with tarfile.open(FIXTURE) as tar:
        tar.extractall(d.state_dir.parent, filter="data")
    assert d.state_dir.is_dir()


def user_version(path: Path) -> int:
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        return int(conn.execute("PRAGMA user_version").fetchone()[0])
    finally:
        conn.close()


def plugins_by_name(d: DaemonProcess) -> dict[str, dict[str, Any]]:
    with d.client() as c:
        return {p["name"]: p for p in c.call("system.plugins")}


@pytest.fixture
def migrated(make_daemon: Any) -> DaemonProcess:
    d: DaemonProcess = make_daemon({"daemon": {"plugins": PLUGINS, "workers": 2}}, start=False)
    unpack(d)
    for store in VERSIONED:
        assert user_version(d.state_dir / store) == 0, "the fixture predates schema versions"
    return d.start(timeout=60)


def test_previous_release_state_migrates(migrated: DaemonProcess) -> None:
    d = migrated
    plugins = plugins_by_name(d)
    for name in PLUGINS:
        assert plugins[name]["state"] == "running", (name, plugins[name]["error"])
    with d.client(timeout=60) as c:
        assert c.call("workspace.get", key="fixture/alpha")["data"] == b"alpha value " * 100
        assert c.call("workspace.get", key="fixture/beta")["data"] == b"beta"

        task = c.call("prd.status", document="fixture-prd", id="core-features")
        assert task["status"] == "done"
        everything = c.call("prd.status", document="fixture-prd")
        assert len(everything["status"]) == 44 and everything["counts"]["done"] >= 1

        study = c.call("evolve.status", study=STUDY)
        assert study["name"] == "fixture-study" and study["evaluations"] == 16

        baselines = {b["name"]: b for b in c.call("monitor.baseline.list")}
        assert baselines["fixture-baseline"]["created"] == pytest.approx(BASELINE_CREATED)

        report = c.call("space.report")
        assert report["spec"] and report["r2_table"]
    assert d.stop() == 0
    history = next(iter(sorted((d.state_dir / "testrun").glob("*.sqlite*"))))
    conn = sqlite3.connect(f"file:{history}?mode=ro", uri=True)
    try:
        tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master "
                                             "WHERE type = 'table'")}
        remembered = max(int(conn.execute(f'SELECT count(*) FROM "{t}"').fetchone()[0])
                         for t in tables)
    finally:
        conn.close()
    assert remembered >= 20, "the 24 tests of the fixture's run are remembered"
    for store, versioned in VERSIONED.items():
        if versioned:
            assert user_version(d.state_dir / store) >= 1, store


def test_a_newer_store_fails_only_its_plugin(make_daemon: Any) -> None:
    d: DaemonProcess = make_daemon({"daemon": {"plugins": PLUGINS, "workers": 2}}, start=False)
    unpack(d)
    store = d.state_dir / "monitor" / "monitor.sqlite"
    conn = sqlite3.connect(store)
    conn.execute("PRAGMA user_version = 99")
    conn.close()
    d.start(timeout=60)
    plugins = plugins_by_name(d)
    assert plugins["monitor"]["state"] == "failed"
    error = plugins["monitor"]["error"]
    assert "monitor.sqlite" in error and "99" in error and "newer" in error
    assert plugins["workspace"]["state"] == "running"
    with d.client() as c:
        assert c.call("workspace.get", key="fixture/beta")["data"] == b"beta"
    assert user_version(store) == 99, "a refused store is left untouched"
