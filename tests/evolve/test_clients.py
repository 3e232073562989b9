"""The Python study helper and the CLI, against a real daemon."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

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


