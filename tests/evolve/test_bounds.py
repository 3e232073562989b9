"""evolve's bounds against a live daemon (issue 15 findings 1, 2, 7 and 16).

- 7: studies are admitted by their estimated memory: too large for the budget is
  -32004, over what is left is -32002, both naming daemon.memory_budget; a study
  too large to rebuild at start is left on disk with a log line.
- 16: NaN or infinite autotune weights are -32602.
- 1: autotune writes nothing outside the daemon's state directory.
- 2: workload files are read only under evolve.workload_roots; errors neither
  quote their content nor tell whether a file outside exists.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from catalytic.client import Forbidden, InvalidParams, Overloaded, TooLarge

MakeDaemon = Callable[..., Any]

MIB = 1 << 20


def genes(n: int) -> list[dict[str, Any]]:
    return [{"name": f"x{i}", "type": "real", "low": 0, "high": 1} for i in range(n)]


TWO = [{"name": "a"}, {"name": "b"}]


def test_huge_studies_are_refused_by_memory(make_daemon: MakeDaemon) -> None:
    d = make_daemon({"daemon": {"plugins": ["evolve"], "workers": 2,
                                "memory_budget": 512 * MIB}})
    with d.client(timeout=60) as c:
        with pytest.raises(TooLarge, match=r"daemon\.memory_budget") as e:
            c.call("evolve.create", genes=genes(1000), objectives=TWO, population=10_000,
                   islands=256)
        assert e.value.data["limit"] == "daemon.memory_budget"
        with pytest.raises(TooLarge, match=r"daemon\.memory_budget"):
            c.call("evolve.run", problem="zdt1", population=10_000, islands=256,
                   generations=1)
        assert c.call("evolve.list")["studies"] == []  # nothing was created
        sid = c.call("evolve.create", genes=genes(5), objectives=TWO, population=100)["study"]
        assert c.call("evolve.ask", study=sid, n=100)["candidates"]
        assert c.call("system.ping") is not None


def test_a_study_over_what_is_left_is_overloaded(make_daemon: MakeDaemon) -> None:
    budget = 250 * MIB
    d = make_daemon({"daemon": {"plugins": ["evolve"], "workers": 2, "memory_budget": budget}})
    with d.client(timeout=60) as c:
        rss = c.call("system.stats")["rss_bytes"]
        if rss > budget // 2:
            pytest.skip(f"the daemon alone holds {rss >> 20} MiB here")
        # one objective (no sorting peak): population × (genes + 3) floats, four copies;
        # sized to fit the budget alone but not beside the daemon's own memory
        need = budget - rss // 2
        n_genes = need // (10_000 * 8 * 4) - 3
        with pytest.raises(Overloaded, match=r"daemon\.memory_budget") as e:
            c.call("evolve.create", genes=genes(n_genes), objectives=[{"name": "f"}],
                   population=10_000)
        assert e.value.data["needed"] < budget < e.value.data["needed"] + e.value.data["rss"]
        assert c.call("evolve.list")["studies"] == []


def test_study_too_large_to_rebuild_is_left_on_disk(make_daemon: MakeDaemon) -> None:
    d = make_daemon({"daemon": {"plugins": ["evolve"], "workers": 2}})
    with d.client(timeout=60) as c:
        big = c.call("evolve.create", genes=genes(4), objectives=TWO, population=3000,
                     name="big")["study"]  # its sort peak: 6 × 6000² bytes ≈ 206 MiB
        small = c.call("evolve.create", genes=genes(4), objectives=TWO, population=20,
                       name="small")["study"]
    d.stop()
    d.write_config({"daemon": {"memory_budget": 160 * MIB}})
    d.start()
    with d.client(timeout=60) as c:
        assert [s["study"] for s in c.call("evolve.list")["studies"]] == [small]
        with pytest.raises(TooLarge, match="not loaded at start"):
            c.call("evolve.status", study=big)
        assert c.call("evolve.delete", study=big) == {"deleted": big}
        with pytest.raises(InvalidParams, match="expected the id of a study"):
            c.call("evolve.status", study=big)
    assert f"study {big} left on disk, not loaded" in d.log()


@pytest.mark.parametrize("bad", [math.nan, math.inf, -math.inf])
def test_autotune_refuses_non_finite_weights(make_daemon: MakeDaemon, bad: float) -> None:
    d = make_daemon({"daemon": {"plugins": ["evolve"], "workers": 2}})
    with d.client(timeout=60) as c, pytest.raises(InvalidParams, match=r"weights\.hit_ratio"):
        c.call("evolve.autotune", weights={"hit_ratio": bad}, generations=0)


def test_autotune_writes_nothing_outside_the_state_dir(make_daemon: MakeDaemon,
                                                       tmp_path: Path) -> None:
    d = make_daemon({"daemon": {"plugins": ["evolve"], "workers": 2}})
    victim = tmp_path / "victim" / "catalytic.toml"
    empty = tmp_path / "empty.toml"
    empty.write_text("")
    with d.client(timeout=300) as c:
        for target in (str(victim), str(empty), "relative.toml"):
            with pytest.raises(Forbidden, match="state directory"):
                c.call("evolve.autotune", apply=True, config=target, calls=2000,
                       population=4, generations=0)
        out = c.call("evolve.autotune", apply=True, calls=2000, population=4, generations=0)
    assert not victim.parent.exists() and empty.read_text() == ""
    assert sorted(p.name for p in tmp_path.iterdir()) == ["empty.toml"]
    assert Path(out["proposal"]["path"]).parent == d.state_dir / "evolve"


def test_workload_paths_stay_under_their_roots(make_daemon: MakeDaemon, tmp_path: Path) -> None:
    root = tmp_path / "root"
    root.mkdir()
    outside = tmp_path / "secret.env"
    outside.write_text("API_KEY=hunter2\n")
    inside = root / "notes.jsonl"
    inside.write_text("API_KEY=hunter2\n")
    (root / "link.jsonl").symlink_to(outside)
    d = make_daemon({"daemon": {"plugins": ["evolve"], "workers": 2},
                     "evolve": {"workload_roots": [str(root)]}})
    with d.client(timeout=60) as c:
        messages = []
        for path in (str(outside), str(tmp_path / "missing.env"), str(root / "link.jsonl"),
                     str(root / ".." / "secret.env"), "/proc/self/environ"):
            with pytest.raises(Forbidden, match=r"evolve\.workload_roots") as e:
                c.call("evolve.autotune", workload=path)
            messages.append(e.value.message.replace(path, "<path>"))
        assert len(set(messages)) == 1  # existing or not: the same answer
        with pytest.raises(InvalidParams):
            c.call("evolve.autotune", workload="relative/file.jsonl")
        with pytest.raises(InvalidParams):
            c.call("evolve.autotune", workload=str(root) + "/nul\x00.jsonl")
        with pytest.raises(InvalidParams) as e:
            c.call("evolve.autotune", workload=str(inside))
        assert "hunter2" not in e.value.message and "API_KEY" not in e.value.message
        assert "line 1" in e.value.message
        with pytest.raises(InvalidParams, match="does not exist"):
            c.call("evolve.autotune", workload=str(root / "none.jsonl"))
