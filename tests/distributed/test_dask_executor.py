"""The `dask` executor backend against a real cluster: `dask scheduler` + two `dask worker`s.

Everything runs on 127.0.0.1 in real processes: the scheduler and workers are
started here, and daemons with `daemon.executor = "dask"` are compared with
daemons on the local pool, call for call.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psutil
import pytest

pytest.importorskip("distributed", reason="the dask extra is not installed")

from dask_cluster import DaskCluster

from catalytic.client import Client, DeadlineExceeded, RpcError

from daemon_process import DaemonProcess

PLUGINS = ["evolve", "workspace"]
ISLANDS = {"problem": "zdt1", "generations": 30, "population": 24, "seed": 7, "islands": 4,
           "migration_interval": 5}
TRACE_UNREADABLE = -33002  # workspace's code for a trace that cannot be parsed


@pytest.fixture(scope="module")
def traces(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("traces")
    (root / "bad.txt").write_text("1\n2\nthree\n")
    return root


def _daemon(config: dict[str, Any], traces: Path) -> DaemonProcess:
    base: dict[str, dict[str, Any]] = {"daemon": {"plugins": PLUGINS, "workers": 2},
            "workspace": {"trace_roots": [str(traces)]}}
    for section, values in config.items():
        base.setdefault(section, {}).update(values)
    return DaemonProcess(base)


@pytest.fixture(scope="module")
def local(traces: Path) -> Iterator[DaemonProcess]:
    d = _daemon({}, traces).start()
    yield d
    d.cleanup()


@pytest.fixture(scope="module")
def on_dask(cluster: DaskCluster, traces: Path) -> Iterator[DaemonProcess]:
    d = _daemon({"daemon": {"executor": "dask", "dask_address": cluster.address}}, traces)
    d.start()
    yield d
    d.cleanup()


def executor_stats(d: DaemonProcess) -> dict[str, Any]:
    with d.client() as c:
        stats: dict[str, Any] = c.call("system.stats")["executor"]
        return stats


def test_connected_and_reported(on_dask: DaemonProcess, cluster: DaskCluster) -> None:
    stats = executor_stats(on_dask)
    assert stats["backend"] == "dask" and stats["connected"] and stats["error"] is None
    assert stats["address"] == cluster.address
    assert stats["cluster_workers"] == 2 and stats["workers"] == 2
    with on_dask.client() as c:
        entry = [p for p in c.call("system.plugins") if p["name"] == "executor"]
        assert entry and entry[0]["state"] == "running"


def test_islands_give_the_local_pareto_front(local: DaemonProcess,
                                             on_dask: DaemonProcess) -> None:
    pool_before = executor_stats(local)["completed"]
    with local.client() as c:
        expected = c.call("evolve.run", ISLANDS)
    epochs = executor_stats(local)["completed"] - pool_before
    before = executor_stats(on_dask)
    with on_dask.client() as c:
        got = c.call("evolve.run", ISLANDS)
    after = executor_stats(on_dask)
    assert got["islands"] == 4 and got["generation"] == 30
    assert got["pareto"] == expected["pareto"] and got["pareto"]
    assert got["evaluations"] == expected["evaluations"]
    assert got["hypervolume"] == expected["hypervolume"]
    # every epoch of every island ran as a task on the cluster (no local pool exists here)
    assert epochs >= 4 * (30 // 5) and after["completed"] - before["completed"] == epochs
    assert after["fallback"] is None and after["failed"] == before["failed"]


def test_simulate_sweep_equals_local_with_progress_and_errors(
        local: DaemonProcess, on_dask: DaemonProcess, traces: Path) -> None:
    keys = [(i * 7919) % 97 + (i // 50) for i in range(3000)]
    params = {"keys": keys, "policies": ["lru", "s3fifo"], "capacities": [8, 32, 64]}
    with local.client() as c:
        expected = c.call("workspace.simulate", params)
    seen: list[Any] = []
    with on_dask.client() as c:
        got = c.call("workspace.simulate", params, progress=seen.append)
        assert got == expected and len(got["results"]) == 6
        # progress travelled worker → scheduler → daemon → client, ending at total
        assert seen and seen[-1]["done"] == seen[-1]["total"] == 2  # one job per policy
        # an error raised by the job on a worker comes back as it does from the pool
        with pytest.raises(RpcError) as on_cluster:
            c.call("workspace.simulate", {"trace": str(traces / "bad.txt"),
                                          "capacities": [4]})
    with local.client() as c, pytest.raises(RpcError) as on_pool:
        c.call("workspace.simulate", {"trace": str(traces / "bad.txt"), "capacities": [4]})
    assert on_cluster.value.code == on_pool.value.code == TRACE_UNREADABLE
    assert on_cluster.value.message == on_pool.value.message
    assert "line 3" in on_cluster.value.message


def test_worker_killed_mid_epoch_loses_nothing(local: DaemonProcess, on_dask: DaemonProcess,
                                               cluster: DaskCluster) -> None:
    run = {"problem": "dtlz2", "generations": 240, "population": 80, "seed": 11,
           "islands": 4, "migration_interval": 120}
    pids = cluster.worker_pids()
    box: dict[str, Any] = {}

    def evolve() -> None:
        try:
            with on_dask.client() as c:
                box["result"] = c.call("evolve.run", run, timeout=120)
        except Exception as exc:
            box["error"] = exc

    thread = threading.Thread(target=evolve)
    thread.start()
    killed = None
    try:
        deadline = time.monotonic() + 30
        while killed is None and time.monotonic() < deadline and thread.is_alive():
            for worker, keys in cluster.processing().items():
                if any(k.startswith("run_epoch-") for k in keys) and worker in pids:
                    cluster.kill_worker(pids[worker])
                    killed = worker
                    break
            else:
                time.sleep(0.05)
        assert killed is not None, "no island epoch was seen running on a worker"
        thread.join(120)
        assert "error" not in box, box.get("error")
        with local.client() as c:
            expected = c.call("evolve.run", run)
        got = box["result"]
        assert got["generation"] == 240 and got["evaluations"] == expected["evaluations"]
        assert got["pareto"] == expected["pareto"]
        assert len(cluster.info()["workers"]) == 1  # the work finished on the survivor
    finally:
        thread.join(120)
        cluster.add_worker()


def _cpu_seconds(pids: list[int]) -> float:
    total = 0.0
    for pid in pids:
        t = psutil.Process(pid).cpu_times()
        total += t.user + t.system
    return total


def test_cancellation_stops_the_work_on_the_workers(on_dask: DaemonProcess,
                                                    cluster: DaskCluster) -> None:
    cluster.wait_for_workers(2)
    pids = list(cluster.worker_pids().values())
    before = executor_stats(on_dask)["cancelled"]
    box: dict[str, Any] = {}

    def evolve() -> None:
        with on_dask.client() as c:
            try:  # one epoch of a million generations per island: only cancelling ends it
                c.call("evolve.run", {"problem": "dtlz2", "generations": 1_000_000,
                                      "population": 60, "islands": 2,
                                      "migration_interval": 1_000_000, "seed": 1}, timeout=5)
            except Exception as exc:
                box["error"] = exc

    thread = threading.Thread(target=evolve)
    thread.start()
    running = 0
    while thread.is_alive() and running < 2:
        running = sum(k.startswith("run_epoch-") for keys in cluster.processing().values()
                      for k in keys)
        time.sleep(0.1)
    thread.join(30)
    assert running == 2, "the two island epochs were never seen running on the workers"
    assert isinstance(box.get("error"), DeadlineExceeded)
    deadline = time.monotonic() + 15
    while executor_stats(on_dask)["cancelled"] < before + 2:
        assert time.monotonic() < deadline, "the daemon never cancelled the island jobs"
        time.sleep(0.1)
    time.sleep(1.0)  # the next report() on each worker raises JobCancelled
    idle = _cpu_seconds(pids)
    time.sleep(2.0)
    idle = _cpu_seconds(pids) - idle
    assert idle < 0.5, f"workers still burnt {idle:.2f} s CPU in 2 s after the cancel"
    assert not any(cluster.processing().values())


def test_scheduler_unreachable_refused_or_local(traces: Path, local: DaemonProcess) -> None:
    from dask_cluster import free_port

    address = f"tcp://127.0.0.1:{free_port()}"
    down = {"executor": "dask", "dask_address": address, "dask_connect_timeout_s": 1.0,
            "dask_reconnect_interval_s": 30.0}
    strict = _daemon({"daemon": down}, traces)
    lenient = _daemon({"daemon": {**down, "dask_fallback_local": True}}, traces)
    starting = [threading.Thread(target=d.start) for d in (strict, lenient)]
    for t in starting:
        t.start()
    for t in starting:
        t.join(60)
    try:
        with strict.client() as c:
            with pytest.raises(RpcError) as refused:
                c.call("evolve.run", ISLANDS)
            assert refused.value.code == -32002
            assert address in refused.value.message
            assert "dask_fallback_local" in refused.value.message
            entry = next(p for p in c.call("system.plugins") if p["name"] == "executor")
            assert entry["state"] == "failed" and address in entry["error"]
            stats = c.call("system.stats")["executor"]
            assert not stats["connected"] and address in stats["error"]
            assert _healthz(c)[0] == 503
        with lenient.client() as c:
            got = c.call("evolve.run", ISLANDS)
            entry = next(p for p in c.call("system.plugins") if p["name"] == "executor")
            assert entry["state"] == "degraded"
            stats = c.call("system.stats")["executor"]
            assert stats["fell_back"] >= 4 * (30 // 5)
            assert stats["fallback"]["completed"] == stats["fell_back"]
            status, body = _healthz(c)
            assert status == 503 and any("local pool" in p for p in body["problems"])
        with local.client() as c:
            assert got["pareto"] == c.call("evolve.run", ISLANDS)["pareto"]
    finally:
        strict.cleanup()
        lenient.cleanup()


def _healthz(c: Client) -> tuple[int, dict[str, Any]]:
    import json
    import urllib.error
    import urllib.request

    url = c.call("system.hello")["http"] + "healthz"
    try:
        with urllib.request.urlopen(url, timeout=10) as r:
            return r.status, json.loads(r.read())
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read())


def test_empty_address_runs_a_local_cluster(local: DaemonProcess, traces: Path) -> None:
    d = _daemon({"daemon": {"executor": "dask", "dask_address": ""}}, traces).start()
    try:
        stats = executor_stats(d)
        assert stats["local_cluster"] and stats["connected"] and stats["cluster_workers"] == 2
        assert all(a.startswith("tcp://127.0.0.1:") for a in stats["worker_addresses"])
        params = {"keys": [i % 37 for i in range(2000)], "capacities": [4, 16]}
        with d.client() as c:
            got = c.call("workspace.simulate", params)
        with local.client() as c:
            assert got == c.call("workspace.simulate", params)
        children = psutil.Process(d.pid).children(recursive=True)
        assert len(children) >= 2  # the LocalCluster's worker processes
        assert d.stop() == 0
        # children die with the daemon (nanny shutdown, PR_SET_PDEATHSIG), but the kernel
        # delivers that asynchronously: give them a bounded moment
        _gone, alive = psutil.wait_procs(children, timeout=15)
        alive = [k for k in alive if k.is_running() and k.status() != psutil.STATUS_ZOMBIE]
        assert not alive, "the daemon left LocalCluster workers running"
    finally:
        d.cleanup()
