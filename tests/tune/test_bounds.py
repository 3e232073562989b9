"""tune's bounds against a live daemon: workload files only from the recordings folder
or under tune.workload_roots (refusals never quote a file nor say whether one exists
outside), bad budgets and configs refused naming what is wrong, and a config that still
sets evolve.workload_roots stops start-up saying where the setting went."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from tune_helpers import CONFIG, record

from catalytic.client import Forbidden, InvalidParams

MakeDaemon = Callable[..., Any]


def test_workload_paths_stay_under_their_roots(make_daemon: MakeDaemon, tmp_path: Path) -> None:
    root = tmp_path / "root"
    root.mkdir()
    outside = tmp_path / "secret.env"
    outside.write_text("API_KEY=hunter2\n")
    inside = root / "notes.jsonl"
    inside.write_text("API_KEY=hunter2\n")
    (root / "link.jsonl").symlink_to(outside)
    d = make_daemon({**CONFIG, "tune": {"workload_roots": [str(root)]}})
    with d.client(timeout=120) as c:
        messages = []
        for path in (str(outside), str(tmp_path / "missing.env"), str(root / "link.jsonl"),
                     str(root / ".." / "secret.env"), "/proc/self/environ"):
            with pytest.raises(Forbidden, match=r"tune\.workload_roots") as e:
                c.call("tune.run", workload=path)
            messages.append(e.value.message.replace(path, "<path>"))
        assert len(set(messages)) == 1  # existing or not: the same answer
        for bad in ("relative/file.jsonl", str(root) + "/nul\x00.jsonl"):
            with pytest.raises(InvalidParams):
                c.call("tune.run", workload=bad)
        with pytest.raises(InvalidParams) as e:
            c.call("tune.score", workload=str(inside))
        assert "hunter2" not in e.value.message and "API_KEY" not in e.value.message
        assert "line 1" in e.value.message
        with pytest.raises(InvalidParams, match="does not exist"):
            c.call("tune.run", workload=str(root / "none.jsonl"))
        with pytest.raises(InvalidParams, match="no recording named 'nothing'"):
            c.call("tune.run", workload="nothing")
        recorded = record(c, "small", calls=300)
        copy = root / "copy.jsonl"
        shutil.copy(recorded, copy)
        by_path = c.call("tune.score", workload=str(copy))  # under the roots: read
        by_name = c.call("tune.score", workload="small")
        in_state = c.call("tune.score", workload=str(recorded))  # the recordings folder
    assert by_path["score"] == by_name["score"] == in_state["score"]
    assert 0 < by_path["score"] <= 1


def test_bad_budget_and_config_are_refused(make_daemon: MakeDaemon) -> None:
    d = make_daemon({**CONFIG, "tune": {"max_evaluations": 50}})
    with d.client(timeout=120) as c:
        record(c, "small", calls=300)
        with pytest.raises(InvalidParams, match="budget"):
            c.call("tune.run", workload="small", budget=0)
        with pytest.raises(InvalidParams, match=r"budget.*tune\.max_evaluations \(50\)"):
            c.call("tune.run", workload="small", budget=51)
        with pytest.raises(InvalidParams, match="budget"):
            c.call("tune.run", workload="small", budget="many")
        with pytest.raises(InvalidParams, match="first: must be below last"):
            c.call("tune.run", workload="small", first=0.6, last=0.5)
        with pytest.raises(InvalidParams, match=r"last: 1\.5 must be a share"):
            c.call("tune.score", workload="small", last=1.5)
        with pytest.raises(InvalidParams, match=r"config\.workspace\.policy: 'fifo'"):
            c.call("tune.score", workload="small", config={"workspace": {"policy": "fifo"}})
        with pytest.raises(InvalidParams, match=r"config: sections \['daemon'\]"):
            c.call("tune.score", workload="small", config={"daemon": {"workers": 3}})
        with pytest.raises(InvalidParams, match=r"memory_capacity: -1"):
            c.call("tune.score", workload="small",
                   config={"workspace": {"memory_capacity": -1}})
        with pytest.raises(InvalidParams, match="cache accesses"):
            c.call("tune.score", workload="small", first=0.0, last=0.01)
        ok = c.call("tune.run", workload="small", budget=4)
    assert ok["evaluations"] <= 5


def test_the_moved_workload_roots_setting_is_named(make_daemon: MakeDaemon) -> None:
    d = make_daemon({"daemon": {"plugins": ["evolve", "tune"]},
                     "evolve": {"workload_roots": ["/srv"]}}, start=False)
    with pytest.raises(RuntimeError):
        d.start(timeout=15)
    assert d.proc is not None and d.proc.returncode == 78
    assert "evolve.workload_roots" in d.log() and "moved to [tune] workload_roots" in d.log()
