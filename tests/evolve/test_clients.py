"""The Python study helper, the CLI and autotune, against a real daemon."""

from __future__ import annotations

import json
import tomllib
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from catalytic.client import InvalidParams
from catalytic.client.cli import main
from catalytic.plugins.evolve.study_client import Study

MakeDaemon = Callable[..., Any]
CONFIG = {"daemon": {"plugins": ["evolve"], "workers": 2}}


def test_study_helper_loop(make_daemon: MakeDaemon) -> None:
    d = make_daemon(CONFIG)
    with d.client() as c:
        study = Study.create(c, genes=[{"name": "x", "type": "real", "low": -5, "high": 5},
                                       {"name": "y", "type": "real", "low": -5, "high": 5}],
                             objectives=[{"name": "f"}], population=12, seed=1,
                             termination={"evaluations": 240})
        for cand in study.ask(8):  # the loop the docs promise
            study.tell(cand, cand["genes"]["x"] ** 2 + cand["genes"]["y"] ** 2)

        def sphere(g: dict[str, float]) -> float:
            if g["x"] > 4.9:
                raise ValueError("pretend the evaluation crashed")
            return g["x"] ** 2 + g["y"] ** 2

        best = study.optimize(sphere, batch=12)
        st = study.status()
        assert st["done"] and st["reason"] == "evaluations" and st["evaluations"] == 240
        assert best["score"] < 1.0  # random points average ~16.7


def cli(d: Any, capsys: pytest.CaptureFixture[str], *argv: str) -> Any:
    assert main(["--socket", str(d.socket), "--json", "--no-autostart", *argv]) == 0
    return json.loads(capsys.readouterr().out)


def test_cli_run_status_pareto_plot(make_daemon: MakeDaemon, capsys: pytest.CaptureFixture[str],
                                    tmp_path: Path) -> None:
    d = make_daemon(CONFIG)
    res = cli(d, capsys, "evolve", "run", "zdt1", "--generations", "20", "--population", "20",
              "--islands", "1")
    assert res["evaluations"] == 20 * 21 and res["pareto"]
    st = cli(d, capsys, "evolve", "status", res["study"])
    assert st["generation"] == 20 and st["hypervolume"] == res["hypervolume"]
    plot = tmp_path / "front.svg"
    front = cli(d, capsys, "evolve", "pareto", res["study"], "--plot", str(plot))
    assert len(front["front"]) == len(res["pareto"])
    svg = plot.read_text()
    assert svg.startswith("<svg") and svg.count("<circle") == len(res["pareto"])
    listed = cli(d, capsys, "evolve", "list")
    assert [s["study"] for s in listed["studies"]] == [res["study"]]


def test_autotune_proposes_and_config_apply_installs(make_daemon: MakeDaemon, tmp_path: Path,
                                                      capsys: pytest.CaptureFixture[str]
                                                      ) -> None:
    d = make_daemon({**CONFIG, "daemon": {**CONFIG["daemon"], "gc_thresholds": [100, 10, 10]}})
    target = tmp_path / "user.toml"
    target.write_text('# my settings\n[daemon]\nlog_level = "info"  # keep this comment\n')
    with d.client() as c:
        out = c.call("evolve.autotune", {"calls": 2000, "population": 12, "generations": 3,
                                         "memory_budget": 160 << 20, "seed": 2, "apply": True},
                     timeout=300)
        with pytest.raises(Exception, match="weights"):
            c.call("evolve.autotune", {"weights": {"happiness": 1}})
    cur, best = out["current"], out["best"]
    assert cur["knobs"]["gc_gen0"] == 100 and cur["knobs"]["workers"] == 2
    assert best["score"] >= cur["score"]
    for part in (cur, best):
        assert all(0 <= v <= 1 for v in part["heldout_metrics"].values())
    proposal = Path(out["proposal"]["path"])
    assert proposal == d.state_dir / "evolve" / "proposal.toml"
    proposed = tomllib.loads(proposal.read_text())
    assert proposed["daemon"]["workers"] == best["knobs"]["workers"]
    assert proposed["daemon"]["gc_thresholds"][0] == best["knobs"]["gc_gen0"]
    before = target.read_text()

    res = cli(d, capsys, "config", "apply", str(proposal), "--config", str(target))
    assert res["applied"] and res["backup"] == f"{target}.bak"
    assert Path(res["backup"]).read_text() == before
    text = target.read_text()
    assert "# keep this comment" in text and "# my settings" in text
    installed = tomllib.loads(text)
    assert installed["daemon"]["log_level"] == "info"
    assert installed["daemon"]["workers"] == best["knobs"]["workers"]
    assert f"+workers = {best['knobs']['workers']}" in res["diff"]
    again = cli(d, capsys, "config", "apply", str(proposal), "--config", str(target))
    assert not again["applied"] and again["changed"] == {}


def test_config_apply_refuses_a_proposal_that_would_not_load(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    proposal = tmp_path / "proposal.toml"
    proposal.write_text("[daemon]\nworkers = 100000\n")  # above the setting's maximum
    target = tmp_path / "user.toml"
    target.write_text("[daemon]\nworkers = 2\n")
    code = main(["--json", "config", "apply", str(proposal), "--config", str(target)])
    err = capsys.readouterr().err
    assert code == 1 and "daemon.workers" in err and "100000" in err
    assert target.read_text() == "[daemon]\nworkers = 2\n"
    assert not (tmp_path / "user.toml.bak").exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["proposal.toml", "user.toml"]


def test_autotune_on_a_recorded_workload(make_daemon: MakeDaemon, tmp_path: Path) -> None:
    d = make_daemon({"daemon": {"plugins": ["evolve", "workspace"], "workers": 2},
                     "evolve": {"workload_roots": [str(tmp_path)]}})
    with d.client() as c:
        c.call("system.record", {"action": "start", "name": "mix"})
        for i in range(240):  # a small hot set and a colder tail
            key = f"hot{i % 5}" if i % 3 else f"cold{i}"
            if i < 20 or i % 7 == 0:
                c.call("workspace.put", {"key": key, "data": bytes(200 + 10 * (i % 13))})
            else:
                c.call("workspace.get", {"key": key})
        with pytest.raises(InvalidParams):  # refused for its params: no workload, not recorded
            c.call("workspace.get", {"key": ""})
        saved = c.call("system.record", {"action": "stop"})
        path = Path(saved["path"])
        assert path == d.state_dir / "workloads" / "mix.jsonl" and saved["calls"] == 240
        out = c.call("evolve.autotune", {"workload": "mix", "population": 8, "generations": 2,
                                         "memory_budget": 128 << 20, "seed": 1}, timeout=300)
        copy = tmp_path / "mix-copy.jsonl"
        copy.write_bytes(path.read_bytes())
        by_path = c.call("evolve.autotune", {"workload": str(copy), "population": 8,
                                             "generations": 0, "memory_budget": 128 << 20},
                         timeout=300)
        with pytest.raises(Exception, match="no recording named 'nothing'"):
            c.call("evolve.autotune", {"workload": "nothing"})
    assert out["workload"] == {"source": str(path), "calls": 240, "skipped": {}}
    assert by_path["workload"]["calls"] == 240 and out["held_out_calls"] == 72
    cur, best = out["current"], out["best"]
    assert best["validation_score"] >= cur["validation_score"]
    assert all(0 <= v <= 1 for v in best["heldout_metrics"].values())
    assert len(out["history"]) == 3 and len(out["validation_history"]) == 3
