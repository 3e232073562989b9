"""testrun's boundary over a real daemon: interpreters, pytest arguments, NUL, bad interpreters.

The project lies under `[testrun] allowed_roots`; every target of an attack lies outside.
"""

from __future__ import annotations

import os
import stat
import sys
from pathlib import Path
from typing import Any

import pytest
from suites import write_suite

from catalytic.client.errors import RpcError

SUITE = {"check_a.py": "def test_one():\n    pass\n\n\ndef test_two():\n    pass\n"}


def setup(tmp_path: Path) -> tuple[Path, Path, dict[str, Any]]:
    allowed = tmp_path / "allowed"
    outside = tmp_path / "outside"
    outside.mkdir()
    root = write_suite(allowed / "proj", SUITE)
    return root, outside, {"testrun": {"allowed_roots": [str(allowed)], "keep_warm_s": 0}}


def refused(c: Any, method: str, params: dict[str, Any]) -> RpcError:
    with pytest.raises(RpcError) as err:
        c.call(method, params, timeout=120)
    return err.value


def evil_script(where: Path) -> tuple[Path, Path]:
    marker = where / "ran"
    script = where / "evil"
    script.write_text(f"#!/bin/sh\necho ran >> {marker}\n")
    script.chmod(script.stat().st_mode | stat.S_IXUSR)
    return script, marker


def test_an_interpreter_outside_the_root_and_the_allowed_list_is_refused(
        make_daemon, tmp_path: Path) -> None:
    root, outside, cfg = setup(tmp_path)
    script, marker = evil_script(outside)
    d = make_daemon(cfg)
    with d.client() as c:
        for method in ("testrun.run", "testrun.plan"):
            err = refused(c, method, {"root": str(root), "python": str(script)})
            assert err.code == -32003, err
            assert "testrun.allowed_interpreters" in err.message
            # relative paths resolve against the root and may not climb out of it
            err = refused(c, method, {"root": str(root), "python": "../../outside/evil"})
            assert err.code == -32003, err
        assert not marker.exists()
        # the daemon's own interpreter (the default for a project without a venv) still runs
        r = c.call("testrun.run", {"root": str(root), "python": sys.executable}, timeout=120)
        assert r["passed"] == 2


def test_an_interpreter_in_the_root_or_the_allowed_list_runs(make_daemon,
                                                             tmp_path: Path) -> None:
    root, outside, cfg = setup(tmp_path)
    venv_bin = root / ".venv" / "bin"
    venv_bin.mkdir(parents=True)
    (venv_bin / "python").symlink_to(sys.executable)  # a venv's python is a symlink
    script, marker = evil_script(outside)
    cfg["testrun"]["allowed_interpreters"] = [str(script)]
    d = make_daemon(cfg)
    with d.client() as c:
        r = c.call("testrun.run", {"root": str(root), "python": ".venv/bin/python"},
                   timeout=120)
        assert r["passed"] == 2
        # allowed, but not Python: a clear error of testrun's own, never -32603
        err = refused(c, "testrun.plan", {"root": str(root), "python": str(script)})
        assert err.code not in (-32603, -32003) and "Python" in err.message, err
    assert marker.exists()


def test_bin_true_as_interpreter_is_a_clear_error(make_daemon, tmp_path: Path) -> None:
    true = "/bin/true"
    if not os.access(true, os.X_OK):
        pytest.skip("no /bin/true on this machine")
    root, _, cfg = setup(tmp_path)
    cfg["testrun"]["allowed_interpreters"] = [true]
    d = make_daemon(cfg)
    with d.client() as c:
        for method in ("testrun.plan", "testrun.run"):
            err = refused(c, method, {"root": str(root), "python": true})
            assert err.code in (-32602, -33004), err
            assert "did not answer like a Python interpreter" in err.message
        assert c.call("system.ping", {}) is not None


@pytest.mark.parametrize("make_args", [
    lambda out: ["--debug=" + str(out / "debug.log")],
    lambda out: ["--basetemp=" + str(out / "victim")],
    lambda out: ["--basetemp", str(out / "victim")],
    lambda out: [str(out / "check_evil.py")],
    lambda out: ["../outside/check_evil.py"],
    lambda out: ["-p", "evil_plugin"],
    lambda out: ["-pevil_plugin"],
    lambda out: ["-c", str(out / "pytest.ini")],
    lambda out: ["--rootdir=" + str(out)],
    lambda out: ["-o", "python_files=*.py"],
    lambda out: ["--confcutdir", str(out)],
    lambda out: ["--deselect", str(out / "check_evil.py")],
    lambda out: ["--junitxml=" + str(out / "x.xml")],
    lambda out: ["--maxfail=1; rm -rf /"],
])
def test_pytest_arguments_outside_the_allowlist_are_refused(make_daemon, tmp_path: Path,
                                                            make_args: Any) -> None:
    root, outside, cfg = setup(tmp_path)
    victim = outside / "victim"
    victim.mkdir()
    (victim / "keep.txt").write_text("precious")
    (outside / "check_evil.py").write_text(
        f"def test_evil():\n    open({str(outside / 'evil_ran')!r}, 'w').close()\n")
    args = make_args(outside)
    d = make_daemon(cfg)
    with d.client() as c:
        for method in ("testrun.run", "testrun.plan"):
            err = refused(c, method, {"root": str(root), "python": sys.executable,
                                      "args": args})
            assert err.code == -32602, err
            assert "allowed pytest arguments" in err.message
    assert (victim / "keep.txt").read_text() == "precious"
    assert not (outside / "debug.log").exists()
    assert not (outside / "evil_ran").exists()
    assert not (outside / "x.xml").exists()


def test_the_refusal_names_the_option(make_daemon, tmp_path: Path) -> None:
    root, outside, cfg = setup(tmp_path)
    d = make_daemon(cfg)
    with d.client() as c:
        err = refused(c, "testrun.run", {"root": str(root), "python": sys.executable,
                                         "args": ["-k", "one", "--debug=" + str(outside / "d")]})
    assert "'--debug'" in err.message


def test_allowed_arguments_still_select_and_order(make_daemon, tmp_path: Path) -> None:
    root, _, cfg = setup(tmp_path)
    d = make_daemon(cfg)
    with d.client() as c:
        def ids(args: list[str]) -> set[str]:
            r = c.call("testrun.run", {"root": str(root), "python": sys.executable,
                                       "args": args}, timeout=120)
            return {x["nodeid"] for x in r["results"]}

        assert ids(["-k", "one", "-q", "-p", "no:randomly"]) == {"check_a.py::test_one"}
        assert ids(["check_a.py::test_two", "-x", "--maxfail=3", "-v"]) == {
            "check_a.py::test_two"}
        assert ids([str(root / "check_a.py"), "--deselect", "check_a.py::test_one"]) == {
            "check_a.py::test_two"}
        # --lf / --ff come from the daemon's history: nothing failed, so everything runs
        assert ids(["--lf"]) == ids(["--ff"]) == {"check_a.py::test_one", "check_a.py::test_two"}


def test_nul_in_paths_is_invalid_params(make_daemon, tmp_path: Path) -> None:
    root, _, cfg = setup(tmp_path)
    d = make_daemon(cfg)
    with d.client() as c:
        for method, params in (
                ("testrun.run", {"root": str(root) + "\0x"}),
                ("testrun.history", {"root": str(root) + "\0"}),
                ("testrun.plan", {"root": "\0"}),
                ("testrun.forget", {"root": str(root) + "\0"}),
                ("testrun.run", {"root": str(root), "python": sys.executable + "\0"}),
                ("testrun.run", {"root": str(root), "junitxml": "a\0b.xml"}),
                ("testrun.run", {"root": str(root), "args": ["check_a.py\0"]})):
            err = refused(c, method, params)
            assert err.code == -32602, (method, params, err)
            assert "NUL" in err.message
