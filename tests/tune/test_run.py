"""tune.run on a workload recorded through the client: the proposal is measured at
least as good as the running configuration, lands in the state directory, and
`catalytic config apply` installs it into a file the daemon then starts with."""

from __future__ import annotations

import json
import tomllib
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from tune_helpers import CONFIG, record

from catalytic.client.cli import main

MakeDaemon = Callable[..., Any]


def test_run_proposes_a_measured_config_and_apply_installs_it(
        make_daemon: MakeDaemon, capsys: pytest.CaptureFixture[str],
        monkeypatch: pytest.MonkeyPatch) -> None:
    d = make_daemon(CONFIG)
    with d.client(timeout=300) as c:
        path = record(c, "mix")
        assert path == d.state_dir / "workloads" / "mix.jsonl"
        seen: list[dict[str, Any]] = []
        out = c.call("tune.run", {"workload": "mix", "budget": 40,
                                  "memory_budget": 2 << 20}, progress=seen.append)
        again = c.call("tune.score", {"workload": "mix", "config": out["best"]["config"],
                                      "memory_budget": 2 << 20})
        running = c.call("tune.score", {"workload": "mix", "memory_budget": 2 << 20})
    assert seen and "rung" in seen[0]["message"]
    assert out["evaluations"] <= 40 + 1
    cur, best = out["current"], out["best"]
    assert cur["config"]["workspace"]["memory_capacity"] == 8 << 20
    assert best["score"] >= cur["score"]
    # the running 8 MiB tier is above the 2 MiB budget: a smaller one measures better
    assert best["config"]["workspace"]["memory_capacity"] < 8 << 20
    assert best["score"] > cur["score"]
    assert all(0 <= v <= 1 for v in best["metrics"].values())
    assert again["score"] == best["score"] and running["score"] == cur["score"]
    assert "workspace.memory_capacity" in out["changes"]
    assert "+workspace.memory_capacity" in out["diff"]

    proposal = Path(out["proposal"])
    assert proposal == d.state_dir / "tune" / "proposal.toml"
    assert tomllib.loads(proposal.read_text()) == best["config"]

    target = d.config_path
    before = target.read_text()
    monkeypatch.setenv("XDG_STATE_HOME", str(d.state_dir.parent))
    capsys.readouterr()
    code = main(["--json", "config", "apply", "--config", str(target)])  # default: tune's
    res = json.loads(capsys.readouterr().out)
    assert code == 0 and res["applied"] and res["proposal"] == str(proposal)
    assert Path(res["backup"]).read_text() == before
    installed = tomllib.loads(target.read_text())
    for key, value in best["config"]["workspace"].items():
        assert installed["workspace"][key] == value
    d.stop()
    d.start()  # the daemon accepts the installed file
    with d.client() as c:
        shown = c.call("system.config")
    ws = shown["values"]["workspace"] if "values" in shown else shown["workspace"]
    assert ws["memory_capacity"] == best["config"]["workspace"]["memory_capacity"]
