"""`space.validate` on a real Dask cluster: one task per sweep point, the local result."""

from __future__ import annotations

from typing import Any

import pytest

pytest.importorskip("distributed", reason="the dask extra is not installed")

from dask_cluster import DaskCluster

from daemon_process import DaemonProcess

SWEEP = {"preset": "quick", "sizes": [64, 128, 256, 512], "cm_max_work": 20_000}


def _strip(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _strip(v) for k, v in value.items() if k not in ("wall_s", "elapsed_s")}
    if isinstance(value, list):
        return [_strip(v) for v in value]
    return value


def test_validate_sweep_fans_out_on_the_cluster(cluster: DaskCluster) -> None:
    base: dict[str, dict[str, Any]] = {"daemon": {"plugins": ["space"], "workers": 2}}
    local = DaemonProcess(base).start()
    on_dask = DaemonProcess({"daemon": {**base["daemon"], "executor": "dask",
                                        "dask_address": cluster.address}}).start()
    try:
        with local.client() as c:
            expected = c.call("space.validate", SWEEP, timeout=120)
        seen: list[dict[str, Any]] = []
        with on_dask.client() as c:
            before = c.call("system.stats")["executor"]
            got = c.call("space.validate", SWEEP, progress=seen.append, timeout=120)
            after = c.call("system.stats")["executor"]
        items = seen[-1]["total"]
        assert _strip(got) == _strip(expected) and got["svg"] == expected["svg"]
        assert seen[-1]["done"] == items and items > 10
        assert after["completed"] - before["completed"] == items + 1
        assert after["fell_back"] == 0
    finally:
        local.cleanup()
        on_dask.cleanup()
