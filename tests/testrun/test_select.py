"""`testrun.run {select}` over a real daemon: what an edit selects, and the reason given."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
import sysconfig
from pathlib import Path

from projects import copy_affected, edit, failing, ran, run
from suites import config

ALL = 13


def test_edits_select_exactly_the_tests_that_ran_the_edited_code(make_daemon,
                                                                 tmp_path: Path) -> None:
    root = copy_affected(tmp_path)
    d = make_daemon(config(tmp_path, record="inline"))
    with d.client() as c:
        first = run(c, root)
        assert first["selected"] == ALL and first["deselected"] == 0
        assert set(ran(first).values()) == {"new"}
        assert first["passed"] == ALL and first["first_failure_s"] is None

        again = run(c, root)
        assert again["selected"] == 0 and again["deselected"] == ALL
        assert again["exit_status"] == 0 and again["results"] == []

        edit(root / "mylib/arith.py", "return a - b", "return (a - b)")  # same syntax tree
        edit(root / "mylib/arith.py", "SCALE = 10", "SCALE = 10  # a comment")
        assert run(c, root)["selected"] == 0

        edit(root / "mylib/arith.py", "return (a - b)", "return a - b + 0")
        assert ran(run(c, root)) == {"check_arith.py::test_sub": "changed: mylib/arith.py::sub"}

        edit(root / "mylib/arith.py", "if x > hi:", "if x >= hi:")
        assert ran(run(c, root)) == {"check_arith.py::test_clamp":
                                     "changed: mylib/arith.py::clamp"}

        # a method that only a module-scoped fixture's setup ran
        edit(root / "mylib/arith.py", "self.value = start", "self.value = start + 0")
        assert ran(run(c, root)) == {"check_arith.py::test_counter":
                                     "changed: mylib/arith.py::Counter.__init__"}

        # a module constant read by a test through `from ... import`: the module body
        edit(root / "mylib/arith.py", "SCALE = 10", "SCALE = 10 * 1")
        got = ran(run(c, root))
        assert got["check_arith.py::test_scale_constant"] == "changed: mylib/arith.py::<module>"
        assert "check_arith.py::test_scaled" in got
        assert not any(k.startswith(("check_lexers", "check_data", "sub/")) for k in got)

        # a subclass's class-body table read by its base class's method
        edit(root / "mylib/lexers/colors.py", '"blue")', '"blue", "cyan")')
        got = ran(run(c, root))
        assert got == {"check_lexers.py::test_colors":
                       "changed: mylib/lexers/colors.py::<class ColorLexer>",
                       "check_lexers.py::test_colors_again":
                       "changed: mylib/lexers/colors.py::<class ColorLexer>"}

        # the base class: every lexer test
        edit(root / "mylib/base.py", "w.upper()", "w.upper().strip()")
        got = ran(run(c, root))
        assert set(got) == {"check_lexers.py::test_colors", "check_lexers.py::test_animals",
                            "check_lexers.py::test_colors_again"}
        assert set(got.values()) == {"changed: mylib/base.py::Lexer.tokens"}


def test_data_files_text_and_binary(make_daemon, tmp_path: Path) -> None:
    root = copy_affected(tmp_path)
    d = make_daemon(config(tmp_path, record="inline"))
    with d.client() as c:
        run(c, root)
        edit(root / "mylib/data/greek.txt", "beta", "beta ")  # passes still: split()
        assert ran(run(c, root)) == {"check_data.py::test_greek": "data: mylib/data/greek.txt"}
        (root / "mylib/data/blob.bin").write_bytes(b"\x00\x02\x02\xff")
        r = run(c, root)
        assert ran(r) == {"check_data.py::test_blob": "data: mylib/data/blob.bin"}
        assert failing(r) == {"tests/check_data.py::test_blob"}
        assert r["first_failure_s"] is not None and r["first_failure_s"] > 0
        # it failed: it runs again next time, even with nothing changed
        assert ran(run(c, root)) == {"check_data.py::test_blob": "failed-last"}
        (root / "mylib/data/blob.bin").write_bytes(b"\x00\x01")
        assert ran(run(c, root)) == {"check_data.py::test_blob": "failed-last"}
        assert run(c, root)["selected"] == 0
        (root / "mylib/data/greek.txt").unlink()
        r = run(c, root)
        assert ran(r) == {"check_data.py::test_greek": "data: mylib/data/greek.txt (deleted)"}
        assert r["failed"] == 1


def test_conftest_edits_select_the_tests_under_it(make_daemon, tmp_path: Path) -> None:
    root = copy_affected(tmp_path)
    d = make_daemon(config(tmp_path, record="inline"))
    with d.client() as c:
        run(c, root)
        edit(root / "tests/sub/conftest.py", 'return "hello"', 'return "hello!"')
        r = run(c, root)
        assert ran(r) == {"sub/check_greeting.py::test_greeting":
                          "config: tests/sub/conftest.py"}
        assert r["failed"] == 1
        edit(root / "tests/sub/conftest.py", 'return "hello!"', 'return "hello"')
        edit(root / "tests/conftest.py", "Counter(5)", "Counter(5)  # shared")
        got = ran(run(c, root))
        assert len(got) == ALL and all(v in ("config: tests/conftest.py", "failed-last")
                                       for v in got.values())
        # a new conftest.py: the tests under its folder
        (root / "tests/sub/deeper").mkdir()
        (root / "tests/sub/deeper/check_deep.py").write_text("def test_deep():\n    pass\n")
        assert ran(run(c, root)) == {"sub/deeper/check_deep.py::test_deep": "new"}
        for text in ("X = 1\n", "X = 2\n"):  # a new conftest.py, then an edited one
            (root / "tests/sub/deeper/conftest.py").write_text(text)
            assert ran(run(c, root)) == {"sub/deeper/check_deep.py::test_deep":
                                         "config: tests/sub/deeper/conftest.py"}
        (root / "tests/sub/deeper/check_deep.py").unlink()
        # pytest's configuration: every test
        (root / "pytest.ini").write_text((root / "pytest.ini").read_text() + "xfail_strict = true\n")
        got = ran(run(c, root))
        assert len(got) == ALL and set(got.values()) == {"config: pytest.ini"}
        # a comment in a conftest.py counts: the whole file is one block
        edit(root / "tests/sub/conftest.py", 'return "hello"', 'return "hello"  # same')
        assert set(ran(run(c, root))) == {"sub/check_greeting.py::test_greeting"}


def test_new_deleted_and_renamed_files_and_a_collection_error(make_daemon,
                                                              tmp_path: Path) -> None:
    root = copy_affected(tmp_path)
    d = make_daemon(config(tmp_path, record="inline"))
    with d.client() as c:
        run(c, root)
        (root / "tests/check_new.py").write_text("def test_fresh():\n    assert True\n")
        assert ran(run(c, root)) == {"check_new.py::test_fresh": "new"}
        (root / "tests/check_new.py").unlink()
        r = run(c, root)
        assert r["selected"] == 0 and r["deselected"] == ALL
        # a collection error after an edit: the failure, and nothing remembered is lost
        edit(root / "mylib/arith.py", "def add(a, b):", "def add(a, b:")
        err = None
        try:
            run(c, root)
        except Exception as exc:
            err = exc
        # (the conftest imports the module: pytest stops before collecting, -33002)
        assert err is not None and getattr(err, "code", None) in (-33001, -33002)
        assert "SyntaxError" in str(err)
        edit(root / "mylib/arith.py", "def add(a, b:", "def add(a, b):")
        assert run(c, root)["selected"] == 0
        # a renamed module: its users are edited too, and both sides are seen
        (root / "mylib/arith.py").rename(root / "mylib/numbers.py")
        for f in ("tests/check_arith.py", "tests/conftest.py"):
            edit(root / f, "from mylib.arith import", "from mylib.numbers import")
        got = ran(run(c, root))
        assert {k for k in got if k.startswith("check_arith")} == {
            f"check_arith.py::test_{n}" for n in ("add", "sub", "clamp", "scale_constant",
                                                  "scaled", "counter")}
        assert run(c, root)["selected"] == 0


def test_affected_first_runs_everything_affected_first(make_daemon, tmp_path: Path) -> None:
    root = copy_affected(tmp_path)
    d = make_daemon(config(tmp_path, record="inline"))
    with d.client() as c:
        run(c, root)
        edit(root / "mylib/arith.py", "return a + b", "return b + a + 0")
        r = run(c, root, select="affected-first", workers=1)
        assert r["selected"] == ALL and r["deselected"] == 0
        order = [x for w in r["order"].values() for x in w]
        assert order[0] == "tests/check_arith.py::test_add"
        reasons = ran(r)
        assert reasons["check_arith.py::test_add"] == "changed: mylib/arith.py::add"
        assert {v for k, v in reasons.items() if k != "check_arith.py::test_add"} == {"rest"}
        plain = run(c, root, select="all")
        assert set(ran(plain).values()) == {"all"} and plain["selected"] == ALL


def test_a_history_database_from_before_fingerprints(make_daemon, tmp_path: Path) -> None:
    root = copy_affected(tmp_path)
    d = make_daemon(config(tmp_path, record="inline"), start=False)
    state = d.state_dir / "testrun"
    state.mkdir(parents=True, exist_ok=True)
    db = sqlite3.connect(state / "history.sqlite")
    db.executescript("""
        CREATE TABLE tests (root TEXT NOT NULL, nodeid TEXT NOT NULL, ewma REAL NOT NULL,
            last REAL NOT NULL, runs INTEGER NOT NULL, outcome TEXT NOT NULL,
            rss INTEGER NOT NULL, cpu REAL NOT NULL, io INTEGER NOT NULL,
            order_dependent INTEGER NOT NULL DEFAULT 0, updated REAL NOT NULL,
            PRIMARY KEY (root, nodeid));
        CREATE TABLE runs (id INTEGER PRIMARY KEY AUTOINCREMENT, root TEXT NOT NULL,
            finished REAL NOT NULL, summary TEXT NOT NULL);""")
    db.execute("INSERT INTO tests VALUES (?, 'tests/check_arith.py::test_add', 0.1, 0.1, 3, "
               "'passed', 0, 0.0, 0, 0, 0.0)", (str(root.resolve()),))
    db.commit()
    db.close()
    d.start()
    with d.client() as c:
        r = run(c, root)
        got = ran(r)
        assert got["check_arith.py::test_add"] == "unrecorded"
        assert got["check_arith.py::test_sub"] == "new"
        assert run(c, root)["selected"] == 0
        hist = c.call("testrun.history", {"root": str(root)})
        assert {t["nodeid"]: t["runs"] for t in hist["tests"]}[
            "tests/check_arith.py::test_add"] == 4


def test_a_changed_installed_distribution_selects_everything(make_daemon,
                                                              tmp_path: Path) -> None:
    root = copy_affected(tmp_path)
    venv = root / ".venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    site = Path(subprocess.run(
        [str(venv / "bin" / "python"), "-c", "import sysconfig; print(sysconfig.get_paths()"
         "['purelib'])"], capture_output=True, text=True, check=True).stdout.strip())
    # the test environment's packages (pytest) through a .pth file
    (site / "outer.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    d = make_daemon(config(tmp_path, record="inline"))
    with d.client() as c:
        def go(select: str = "affected") -> dict[str, str]:
            return ran(c.call("testrun.run", {"root": str(root), "workers": 2, "select": select},
                              timeout=180))

        assert set(go().values()) == {"new"}
        assert go() == {}
        (site / "extra_tool-1.0.dist-info").mkdir()
        got = go()
        assert len(got) == ALL and set(got.values()) == {"environment"}
        assert go() == {}


def test_background_recording_keeps_the_run_untraced_and_records_after(make_daemon,
                                                                     tmp_path: Path) -> None:
    import time

    root = copy_affected(tmp_path)
    d = make_daemon(config(tmp_path, record="background", keep_warm_s=0))
    with d.client() as c:
        def stats() -> dict:
            return c.call("system.stats")["plugins"]["testrun"]

        def settled() -> dict:
            end = time.monotonic() + 120
            while time.monotonic() < end:
                st = stats()
                if not st["recording"]:
                    return st
                time.sleep(0.2)
            raise AssertionError("the background recording did not finish")

        first = run(c, root)
        assert set(ran(first).values()) == {"new"}
        st = settled()
        assert st["recorded_in_background"] == ALL
        assert run(c, root)["selected"] == 0
        edit(root / "mylib/arith.py", "return x * SCALE", "return SCALE * x")
        assert ran(run(c, root)) == {"check_arith.py::test_scaled":
                                     "changed: mylib/arith.py::scaled"}
        settled()
        assert run(c, root)["selected"] == 0
        # an edit before the recording finishes: the recording is dropped, nothing is missed
        edit(root / "mylib/arith.py", "return a + b", "return b + a")
        assert set(ran(run(c, root))) == {"check_arith.py::test_add"}
        edit(root / "mylib/arith.py", "return b + a", "return a + b + 1")
        r = run(c, root)
        assert failing(r) == {"tests/check_arith.py::test_add"}
