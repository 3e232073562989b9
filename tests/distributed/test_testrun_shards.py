"""`testrun.run` with `shards = "dask"` against a real `dask scheduler` + two `dask worker`s.

The bundled small suite runs once on a daemon with the local pool (workers that
pull tests) and once as static shards on the cluster; the merged counts must be
the same. The workers are on this host, so the project is at the same path.
"""

from __future__ import annotations

import shutil
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("distributed", reason="the dask extra is not installed")

from dask_cluster import DaskCluster

from catalytic.client import InvalidParams, RpcError

from daemon_process import DaemonProcess

SAMPLE = Path(__file__).resolve().parents[1] / "data" / "testrun" / "sample_suite"
COUNTS = ("tests", "passed", "failed", "skipped", "xfailed", "xpassed", "errors",
          "exit_status")


@pytest.fixture(scope="module")
def roots(tmp_path_factory: pytest.TempPathFactory) -> Path:
    base = tmp_path_factory.mktemp("suites")
    shutil.copytree(SAMPLE, base / "sample")
    rough = base / "rough"
    rough.mkdir()
    (rough / "pytest.ini").write_text("[pytest]\npython_files = check_*.py\n")
    (rough / "check_rough.py").write_text(
        "import os, time\n\n"
        "def test_before():\n    pass\n\n"
        "def test_crashes():\n    os._exit(3)\n\n"
        "def test_hangs():\n    time.sleep(60)\n\n"
        "def test_after():\n    pass\n")
    return base


def _config(roots: Path, extra: dict[str, Any] | None = None) -> dict[str, dict[str, Any]]:
    cfg: dict[str, dict[str, Any]] = {
        "daemon": {"plugins": ["testrun"], "workers": 2},
        "testrun": {"allowed_roots": [str(roots)], "keep_warm_s": 0.0, "timeout_s": 3.0}}
    for section, values in (extra or {}).items():
        cfg.setdefault(section, {}).update(values)
    return cfg


@pytest.fixture(scope="module")
def local(roots: Path) -> Iterator[DaemonProcess]:
    d = DaemonProcess(_config(roots)).start()
    yield d
    d.cleanup()


@pytest.fixture(scope="module")
def on_dask(cluster: DaskCluster, roots: Path) -> Iterator[DaemonProcess]:
    d = DaemonProcess(_config(roots, {"daemon": {"executor": "dask",
                                                 "dask_address": cluster.address}})).start()
    yield d
    d.cleanup()


def _run(d: DaemonProcess, root: Path, progress: Any = None, **kw: Any) -> dict[str, Any]:
    with d.client() as c:
        result: dict[str, Any] = c.call("testrun.run", {"root": str(root),
                                                        "python": sys.executable, **kw},
                                        timeout=180, progress=progress)
        return result


def _executor(d: DaemonProcess) -> dict[str, Any]:
    with d.client() as c:
        stats: dict[str, Any] = c.call("system.stats")["executor"]
        return stats


def test_shards_on_the_cluster_give_the_local_counts(local: DaemonProcess,
                                                     on_dask: DaemonProcess,
                                                     roots: Path) -> None:
    root = roots / "sample"
    expected = _run(local, root, workers=2)
    before = _executor(on_dask)
    seen: list[dict[str, Any]] = []
    got = _run(on_dask, root, progress=seen.append, shards="dask")
    after = _executor(on_dask)
    assert {k: got[k] for k in COUNTS} == {k: expected[k] for k in COUNTS}
    assert expected["failed"] and expected["skipped"] and expected["xfailed"]
    assert ({(r["nodeid"], r["outcome"]) for r in got["results"]}
            == {(r["nodeid"], r["outcome"]) for r in expected["results"]})
    assert got["shards_mode"] == "dask" and got["shards"] == 2 and got["workers"] == 2
    # each shard was one job on the cluster, and both shards ran tests
    assert after["completed"] - before["completed"] == 2 and after["fell_back"] == 0
    assert len(got["order"]) == 2 and all(got["order"].values())
    assert seen and seen[-1]["done"] == seen[-1]["total"] == 23
    noisy = next(r for r in got["results"] if r["nodeid"] == "check_noisy.py::test_prints_a_lot")
    assert len(noisy["longrepr"]) < 70_000

    # The history the cluster run left makes the next plan put the long test first.
    again = _run(on_dask, root, shards="dask")
    assert {k: again[k] for k in COUNTS} == {k: expected[k] for k in COUNTS}
    assert again["lower_bound_s"] <= again["makespan_s"]
    with on_dask.client() as c:
        hist = c.call("testrun.history", {"root": str(root)})
        assert hist["tests"][0]["nodeid"] == "check_slow.py::test_long_last"
        assert hist["tests"][0]["runs"] == 2
        recent = c.call("system.stats")["plugins"]["testrun"]["recent_runs"]
        assert [r["shards"] for r in recent] == ["dask", "dask"]


def test_a_crash_and_a_hang_in_a_shard_are_reported_and_the_rest_runs(
        on_dask: DaemonProcess, roots: Path) -> None:
    got = _run(on_dask, roots / "rough", shards="dask", workers=1)
    by_id = {r["nodeid"].split("::")[1]: r for r in got["results"]}
    assert by_id["test_before"]["outcome"] == by_id["test_after"]["outcome"] == "passed"
    assert by_id["test_crashes"]["outcome"] == "failed"
    assert "exited with status 3" in by_id["test_crashes"]["message"]
    assert by_id["test_hangs"]["outcome"] == "failed"
    assert "timed out after 3 s" in by_id["test_hangs"]["message"]
    assert got["exit_status"] == 1 and got["shards"] == 1


def test_dask_shards_need_the_dask_executor(local: DaemonProcess, on_dask: DaemonProcess,
                                            roots: Path) -> None:
    with local.client() as c, pytest.raises(InvalidParams, match=r"daemon\.executor"):
        c.call("testrun.run", {"root": str(roots / "sample"), "shards": "dask"})
    with on_dask.client() as c:
        with pytest.raises(InvalidParams, match="worker_root"):
            c.call("testrun.run", {"root": str(roots / "sample"), "worker_root": "rel"})
        # a worker_root the workers do not have: a clear error, not a hang
        with pytest.raises(RpcError, match="does not exist on"):
            c.call("testrun.run", {"root": str(roots / "sample"), "shards": "dask",
                                   "python": sys.executable,
                                   "worker_root": str(roots / "nowhere")}, timeout=120)
