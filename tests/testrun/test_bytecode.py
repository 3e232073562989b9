"""An edit that keeps a module's size and mtime is still seen by the workers.

Python trusts a `.pyc` whose header matches the source's whole-second mtime and
size; the daemon deletes bytecode written before its source's last change (by
ctime), and warm workers are not reused after such an edit.
"""

from __future__ import annotations

import os
from pathlib import Path

from projects import copy_affected, failing, ran, run
from suites import config

from catalytic.plugins.testrun.bytecode import source_of, stale_bytecode


def edit_keeping_stat(path: Path, old: str, new: str) -> None:
    """Replace `old` by `new` (same length), then put the mtime back: size and mtime equal."""
    assert len(old) == len(new)
    st = path.stat()
    text = path.read_text()
    assert old in text
    path.write_text(text.replace(old, new, 1))
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns))
    after = path.stat()
    assert (after.st_size, after.st_mtime_ns) == (st.st_size, st.st_mtime_ns)


def pycs(root: Path, module: str) -> list[Path]:
    return sorted((root / "mylib" / "__pycache__").glob(f"{module}.*.pyc"))


def test_stale_bytecode_is_found_by_change_time(tmp_path: Path) -> None:
    pkg = tmp_path / "pkg"
    (pkg / "__pycache__").mkdir(parents=True)
    src = pkg / "mod.py"
    src.write_text("X = 1\n")
    pyc = pkg / "__pycache__" / "mod.cpython-311-pytest-8.3.2.pyc"
    pyc.write_bytes(b"old")
    assert source_of(pyc) == src
    later = src.stat().st_ctime_ns + 10**9
    os.utime(pyc, ns=(later, later))
    assert stale_bytecode(tmp_path) == []
    edit_keeping_stat(src, "X = 1", "X = 2")  # the ctime moves on
    os.utime(pyc, ns=(src.stat().st_ctime_ns - 1,) * 2)
    assert stale_bytecode(tmp_path) == [pyc]
    (pkg / "__pycache__" / "gone.cpython-311.pyc").write_bytes(b"no source")
    assert stale_bytecode(tmp_path) == [pyc]


def test_an_edit_keeping_size_and_mtime_runs_the_new_code(make_daemon, tmp_path: Path) -> None:
    root = copy_affected(tmp_path)
    d = make_daemon(config(tmp_path, record="inline", keep_warm_s=0))
    with d.client() as c:
        assert run(c, root)["passed"] == 13
        assert pycs(root, "arith"), "the workers wrote no bytecode: the check proves nothing"
        edit_keeping_stat(root / "mylib/arith.py", "return a + b", "return a - b")
        r = run(c, root)
        assert ran(r) == {"check_arith.py::test_add": "changed: mylib/arith.py::add"}
        assert failing(r) == {"tests/check_arith.py::test_add"}
        edit_keeping_stat(root / "mylib/arith.py", "return a - b", "return a + b")
        r = run(c, root)
        assert r["selected"] == 1 and r["passed"] == 1 and r["failed"] == 0


def test_warm_workers_are_not_reused_after_such_an_edit(make_daemon, tmp_path: Path) -> None:
    import time

    root = copy_affected(tmp_path)
    d = make_daemon(config(tmp_path, record="inline", keep_warm_s=60))
    with d.client() as c:
        assert run(c, root, select="all")["passed"] == 13
        end = time.monotonic() + 60
        while c.call("system.stats")["plugins"]["testrun"]["warm_ready"] < 1:
            assert time.monotonic() < end, "no warm workers"
            time.sleep(0.1)
        edit_keeping_stat(root / "mylib/arith.py", "return a - b", "return a + b")
        r = run(c, root, select="all")
        assert r["warm_workers"] is False
        assert failing(r) == {"tests/check_arith.py::test_sub"}
