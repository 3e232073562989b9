"""Worker command lines, environment, the import shim and the tree fingerprint."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from catalytic.plugins.testrun.fingerprint import fingerprint
from catalytic.plugins.testrun.workers import (
    make_shim,
    strip_args,
    user_seed,
    worker_argv,
    worker_env,
)


def test_daemon_owned_options_are_stripped() -> None:
    args = ["-k", "x", "-n", "4", "--dist=load", "--junitxml", "a.xml", "-n2",
            "--junit-xml=b.xml", "tests/", "-x"]
    assert strip_args(args) == ["-k", "x", "tests/", "-x"]


def test_one_randomly_seed_for_every_worker_unless_the_user_chose() -> None:
    shim = (Path("a"), Path("b"))
    info = {"pytest_randomly": True, "xdist": True}
    argv = worker_argv("py", shim, ["-k", "x"], info, seed=1234)
    assert argv[-2:] == ["-n0", "--randomly-seed=1234"]
    assert "-p" in argv and "catalytic.plugins.testrun.pytest_worker" in argv
    assert "no:catalytic_testrun" in argv  # the entry point is not registered twice
    plain = worker_argv("py", shim, [], {"pytest_randomly": False, "xdist": False}, seed=1)
    assert not any(a.startswith(("--randomly", "-n0")) for a in plain)
    assert user_seed(["--randomly-seed=7"]) and user_seed(["-p", "no:randomly"])
    assert not user_seed(["-k", "x"])


def test_worker_environment_is_filtered(tmp_path: Path) -> None:
    base = {"PATH": "/usr/bin", "HOME": "/h", "LC_ALL": "C", "SECRET_TOKEN": "s"}
    env = worker_env(base, ["PATH", "HOME", "LC_*"], str(tmp_path / "bin" / "python"),
                     {"X": "1"})
    assert "SECRET_TOKEN" not in env and env["LC_ALL"] == "C" and env["X"] == "1"
    assert env["PATH"].split(os.pathsep)[0] == str(tmp_path / "bin")


def test_shim_makes_client_and_plugin_importable_in_an_isolated_interpreter(
        tmp_path: Path) -> None:
    first, last = make_shim(tmp_path / "shim")
    code = ("import sys; sys.path.insert(0, sys.argv[1]); sys.path.append(sys.argv[2]); "
            "import catalytic.client, catalytic.plugins.testrun.pytest_worker as w; "
            "print(w.__name__)")
    out = subprocess.run([sys.executable, "-I", "-c", code, str(first), str(last)],
                         capture_output=True, text=True, check=False)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "catalytic.plugins.testrun.pytest_worker"


def test_fingerprint_follows_sources_not_caches(tmp_path: Path) -> None:
    (tmp_path / "pkg").mkdir()
    src = tmp_path / "pkg" / "test_a.py"
    src.write_text("def test_a(): pass\n")
    before = fingerprint(tmp_path)
    (tmp_path / "pkg" / "__pycache__").mkdir()
    (tmp_path / "pkg" / "__pycache__" / "x.pyc").write_bytes(b"x")
    assert fingerprint(tmp_path) == before
    st = src.stat()
    os.utime(src, ns=(st.st_atime_ns, st.st_mtime_ns + 1_000_000_000))
    assert fingerprint(tmp_path) != before


def test_worker_variables_cannot_be_read_as_setting_overrides(tmp_path: Path) -> None:
    """`CATALYTIC_<SECTION>_<KEY>` overrides settings: a variable the daemon sets for its
    workers must not look like one, or a daemon started inside a test would take the
    worker's flag for a setting (as `CATALYTIC_TESTRUN_RECORD=1` once did for
    `testrun.record`)."""
    from catalytic.config.load import load
    from catalytic.config.model import installed_schema
    from catalytic.plugins.testrun import pytest_shard, workers

    names = [v for m in (workers, pytest_shard) for k, v in vars(m).items()
             if k.startswith("ENV") and isinstance(v, str) and v.startswith("CATALYTIC_")]
    assert {"CATALYTIC_WORKER_RECORD", "CATALYTIC_WORKER_TOKEN", "CATALYTIC_WORKER_SHARD",
            "CATALYTIC_WORKER_ID"} <= set(names)
    schema = installed_schema()
    assert "testrun" in schema
    clashes = [n for n in names for section in schema
               if n.lower().startswith(f"catalytic_{section}_")]
    assert not clashes
    env = {"XDG_CONFIG_HOME": str(tmp_path), **{n: "1" for n in names}}
    cfg = load(schema, env=env)  # every worker variable set: read as no setting
    assert cfg.values["testrun"]["record"] == "background"
