"""evolve's bounds against a live daemon (issue 15 findings 1, 2, 7 and 16).

- 7: studies are admitted by their estimated memory: too large for the budget is
  -32004, over what is left is -32002, both naming daemon.memory_budget; a study
  too large to rebuild at start is left on disk with a log line.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from catalytic.client import InvalidParams, Overloaded, TooLarge

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
