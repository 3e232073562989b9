"""space over a real daemon: the interface the acceptance checks call, refusals, reports."""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from catalytic.client.errors import DeadlineExceeded, InvalidParams, RpcError, TooLarge
from catalytic.plugins.space.tree import random_instance

CONFIG = {"daemon": {"plugins": ["space"], "workers": 2}}


@pytest.fixture
def space_daemon(make_daemon):
    return make_daemon(CONFIG)


def test_tree_eval_both_algorithms(space_daemon) -> None:
    with space_daemon.client() as c:
        for seed in range(3):
            cl = c.call("space.tree_eval", {"h": 3, "b": 2, "seed": seed,
                                            "algorithm": "classical"})
            cm = c.call("space.tree_eval", {"h": 3, "b": 2, "seed": seed,
                                            "algorithm": "cook-mertz"})
            assert cl["value"] == cm["value"] == cm["direct_value"]
            assert cm["measured_bits"] == cm["formula_bits"]
            assert cl["measured_bits"] == cl["formula_bits"]
            assert cm["registers_restored"] is True
            assert cm["leaf_visits"] == 2 * (4 * 5) ** 3


def test_tree_eval_refuses_oversized_work_with_an_estimate(space_daemon) -> None:
    with space_daemon.client() as c:
        t0 = time.monotonic()
        with pytest.raises(TooLarge) as exc:
            c.call("space.tree_eval", {"h": 12, "b": 4, "seed": 0, "algorithm": "cook-mertz"})
        assert time.monotonic() - t0 < 5
        assert "space.max_work" in exc.value.message
        assert exc.value.data["estimate"] > exc.value.data["limit"]
        assert c.call("space.tree_eval", {"h": 12, "b": 4, "algorithm": "classical"})[
            "measured_bits"] > 0


def test_uploaded_instances(space_daemon) -> None:
    inst = random_instance(2, 2, 4).to_dict()
    with space_daemon.client() as c:
        res = c.call("space.tree_eval", {"instance": inst, "algorithm": "cook-mertz"})
        assert res["instance"] == "uploaded" and res["correct"] is True
        bad = dict(inst, nodes=[list(t) for t in inst["nodes"]])
        bad["nodes"][1][3] = 17
        with pytest.raises(InvalidParams, match="node 2"):
            c.call("space.tree_eval", {"instance": bad})
        with pytest.raises(InvalidParams, match="leaves"):
            c.call("space.tree_eval", {"instance": dict(inst, leaves=[1, 2])})


def test_checkpoint_interface(space_daemon) -> None:
    with space_daemon.client() as c:
        n = 5000
        out = {s: c.call("space.checkpoint", {"strategy": s, "n": n})
               for s in ("store-all", "sqrt", "bisection")}
        out["revolve"] = c.call("space.checkpoint", {"strategy": "revolve", "n": n, "slots": 6})
        assert len({r["digest"] for r in out.values()}) == 1
        assert out["store-all"]["peak_states"] == n
        assert out["sqrt"]["peak_states"] <= 2 * math.isqrt(n) + 2
        assert out["bisection"]["peak_states"] == 1 + math.ceil(math.log2(n))
        r = 0
        while math.comb(6 + r, 6) < n:
            r += 1
        assert out["revolve"]["steps"] == r * n - math.comb(6 + r, r - 1)
        for res in out.values():
            assert res["measured_bits"] == res["formula_bits"]
        default = c.call("space.checkpoint", {"strategy": "revolve", "n": 1000})
        assert default["slots"] == 10
        with pytest.raises(InvalidParams, match="slots"):
            c.call("space.checkpoint", {"strategy": "sqrt", "n": 10, "slots": 3})
        with pytest.raises(TooLarge, match=r"space\.max_n"):
            c.call("space.checkpoint", {"strategy": "sqrt", "n": 10**9})
        with pytest.raises(TooLarge, match=r"space\.max_steps"):
            c.call("space.checkpoint", {"strategy": "revolve", "n": 1_000_000, "slots": 1})
        with pytest.raises(InvalidParams):
            c.call("space.checkpoint", {"strategy": "zigzag", "n": 10})


def test_validate_progress_report_and_restart(make_daemon) -> None:
    d = make_daemon(CONFIG)
    seen: list[dict] = []
    with d.client() as c:
        with pytest.raises(RpcError) as exc:
            c.call("space.report")
        assert exc.value.code == -33001
        res = c.call("space.validate", {"preset": "quick", "sizes": [64, 256, 1024, 4096]},
                     progress=seen.append, timeout=120)
        assert res["summary"]["measured_equals_formula"] is True
        assert res["summary"]["chain_winners"]["sqrt"] == "sqrt n"
        assert res["svg"].startswith("<svg")
        assert seen and seen[-1]["done"] <= seen[-1]["total"]
    d.restart()
    with d.client() as c:
        again = c.call("space.report")
        http = c.call("system.hello")["http"]
        auth = {"Authorization": f"Bearer {c.call('system.http_token')['token']}"}
    assert again["summary"] == res["summary"]
    if http:  # the dashboard's view of the last figure
        with urllib.request.urlopen(urllib.request.Request(
                http.rstrip("/") + "/api/space/plot.svg", headers=auth), timeout=10) as r:
            assert r.headers["Content-Type"].startswith("image/svg+xml")
            assert r.read().decode() == res["svg"]
        with urllib.request.urlopen(urllib.request.Request(
                http.rstrip("/") + "/api/space/summary", headers=auth), timeout=10) as r:
            assert json.loads(r.read())["summary"] == res["summary"]


def test_validate_can_be_cancelled(space_daemon) -> None:
    with space_daemon.client() as c:
        with pytest.raises(DeadlineExceeded):
            c.call("space.validate", {"preset": "full"}, timeout=2.0)
        with pytest.raises(RpcError) as exc:
            c.call("space.report")
        assert exc.value.code == -33001
        # the pool is free again: a quick call is answered promptly
        t0 = time.monotonic()
        c.call("space.tree_eval", {"h": 2, "b": 1, "algorithm": "cook-mertz"}, timeout=30)
        assert time.monotonic() - t0 < 30


def cli(d, *args: str) -> subprocess.CompletedProcess[str]:
    exe = Path(sys.executable).with_name("catalytic")
    env = dict(os.environ, CATALYTIC_SOCKET=str(d.socket))
    return subprocess.run([str(exe), "--socket", str(d.socket), "--no-autostart", *args],
                          capture_output=True, text=True, env=env, timeout=120)


def test_cli(space_daemon, tmp_path: Path) -> None:
    out = cli(space_daemon, "--json", "space", "tree-eval", "--h", "3", "--b", "2")
    assert out.returncode == 0, out.stderr
    res = json.loads(out.stdout)
    assert res["measured_bits"] == res["formula_bits"] and res["correct"] is True
    out = cli(space_daemon, "space", "checkpoint", "--n", "10000", "--strategy", "sqrt")
    assert out.returncode == 0 and "peak" in out.stdout
    plot = tmp_path / "fig.svg"
    out = cli(space_daemon, "space", "validate", "--sizes", "64", "256", "1024",
              "--plot", str(plot))
    assert out.returncode == 0, out.stderr
    assert "R²" in out.stdout and plot.read_text().startswith("<svg")


def _without_timings(value: object) -> object:
    """The result with wall-clock figures removed (they differ from run to run)."""
    if isinstance(value, dict):
        return {k: _without_timings(v) for k, v in value.items()
                if k not in ("wall_s", "elapsed_s")}
    if isinstance(value, list):
        return [_without_timings(v) for v in value]
    return value


SWEEP = {"preset": "quick", "sizes": [64, 128, 256, 512], "cm_max_work": 20_000}


def _submitted(c) -> int:
    return int(c.call("system.stats")["executor"]["submitted"])


def test_validate_fans_out_per_item_with_the_sequential_result(make_daemon) -> None:
    from catalytic.plugins.space.validate import (
        item_label,
        resolve_spec,
        run_validation,
        sweep_items,
    )

    spec = resolve_spec("quick", {k: v for k, v in SWEEP.items() if k != "preset"})
    items = sweep_items(spec)
    expected = run_validation(spec)
    seen: list[dict] = []
    d = make_daemon(CONFIG)
    with d.client() as c:
        before = _submitted(c)
        got = c.call("space.validate", SWEEP, progress=seen.append, timeout=120)
        jobs = _submitted(c) - before
    assert _without_timings(got) == _without_timings({**expected,
                                                      "r2_table": got["r2_table"]})
    assert got["svg"] == expected["svg"]
    assert jobs == len(items) + 1  # one job per sweep point, one to fit and draw
    assert seen[-1]["done"] == seen[-1]["total"] == len(items)
    assert {s["message"] for s in seen} <= {item_label(i) for i in items}
    assert [s["done"] for s in seen] == sorted(s["done"] for s in seen)

    one = make_daemon({"daemon": {"plugins": ["space"], "workers": 1}})
    with one.client() as c:
        before = _submitted(c)
        alone = c.call("space.validate", SWEEP, timeout=120)
        assert _submitted(c) - before == 1  # a single worker: the whole sweep is one job
    assert _without_timings(alone) == _without_timings(got)
