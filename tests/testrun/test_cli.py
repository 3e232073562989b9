"""`catalytic test` against a real daemon: summary, exit status as pytest's, pytest args."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from suites import config, copy_sample

CLI = [sys.executable, "-m", "catalytic.client.cli"]


def cli(d, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "CATALYTIC_SOCKET": str(d.socket)}
    return subprocess.run([*CLI, "--no-autostart", *args], env=env, capture_output=True,
                          text=True, timeout=120, check=False)


def test_catalytic_test_summary_and_exit_status(make_daemon, tmp_path: Path) -> None:
    root = copy_sample(tmp_path)
    d = make_daemon(config(tmp_path))
    out = cli(d, "test", str(root), "-n", "2", "--python", sys.executable)
    assert out.returncode == 1, out.stderr
    assert "FAILED check_basic.py::test_fail - assert [1, 2] == [1, 3]" in out.stdout
    assert "ERROR check_basic.py::test_error_in_setup" in out.stdout
    assert "slowest tests" in out.stdout and "check_slow.py::test_long_last" in out.stdout
    assert "3 failed, 16 passed, 2 skipped, 1 xfailed, 1 xpassed, 1 error" in out.stdout
    assert "lower bound" in out.stdout
    ok = cli(d, "test", str(root), "--python", sys.executable, "--", "-k", "test_pass")
    assert ok.returncode == 0 and "1 passed" in ok.stdout
    none = cli(d, "test", str(root), "--python", sys.executable, "--", "-k", "nothing_matches")
    assert none.returncode == 5 and "no tests ran" in none.stdout
    plan = cli(d, "--json", "test", str(root), "--plan", "-n", "2",
               "--python", sys.executable)
    assert plan.returncode == 0 and json.loads(plan.stdout)["tests"] == 23


def test_shard_options_parse_before_and_after_the_path() -> None:
    import argparse

    from catalytic.client.commands.testrun import register, split_rest

    parser = argparse.ArgumentParser()
    register(parser.add_subparsers())
    args = parser.parse_args(["test", "proj", "--shards", "dask", "--worker-root", "/srv/p",
                              "--", "-k", "fast"])
    root, rest = split_rest(args)
    assert root.name == "proj" and rest == ["-k", "fast"]
    assert args.shards == "dask" and args.worker_root == "/srv/p"
    args = parser.parse_args(["test", "--shards", "local", "proj"])
    assert split_rest(args)[1] == [] and args.shards == "local"


def test_catalytic_test_affected(make_daemon, tmp_path: Path) -> None:
    from projects import copy_affected, edit

    root = copy_affected(tmp_path)
    d = make_daemon(config(tmp_path, record="inline"))
    first = cli(d, "test", str(root), "--affected", "--python", sys.executable)
    assert first.returncode == 0, first.stdout + first.stderr
    assert "affected: ran 13 of 13 tests (13 new)" in first.stdout
    none = cli(d, "test", "--affected", str(root), "--python", sys.executable)
    assert none.returncode == 0 and "ran 0 of 13 tests (nothing affected)" in none.stdout
    edit(root / "mylib/arith.py", "return a + b", "return a + b + 1")
    broke = cli(d, "--json", "test", str(root), "--affected", "--python", sys.executable)
    r = json.loads(broke.stdout)
    assert broke.returncode == 1 and r["selected"] == 1 and r["failed"] == 1
    assert r["results"][0]["reason"] == "changed: mylib/arith.py::add"
    both = cli(d, "test", str(root), "--affected-first", "--python", sys.executable)
    assert both.returncode == 1 and "affected-first: ran 13 of 13 tests" in both.stdout
