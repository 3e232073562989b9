"""`select: "affected"` where a per-test trace alone would not see a dependency: code run
while a module was imported (before any test), a test whose trace was lost, an instance
another test constructed, and what a decorator kept at import."""

from __future__ import annotations

from pathlib import Path

from projects import edit, failing, project, ran, run
from suites import config

# A module body calls a function of another module (`WIDTH = double(40)`); tests read the
# value, directly or through a fixture of a conftest.py that imported the module.
IMPORT_TIME = {
    "mylib/__init__.py": "",
    "mylib/sizes.py": "def double(n):\n    return n * 2\n\n\ndef unused():\n    return 0\n",
    "mylib/defaults.py": "from mylib.sizes import double\n\nWIDTH = double(40)\n",
    "conftest.py": "import pytest\n\nfrom mylib import defaults\n\n\n@pytest.fixture\n"
                   "def width():\n    return defaults.WIDTH\n",
    "check_direct.py": "from mylib.defaults import WIDTH\n\n\ndef test_direct():\n"
                       "    assert WIDTH == 80\n",
    "check_fixture.py": "def test_fixture(width):\n    assert width == 80\n",
    "check_other.py": "def test_other():\n    assert 1 + 1 == 2\n",
}


def test_what_a_module_body_ran_at_import_counts(make_daemon, tmp_path: Path) -> None:
    root = project(tmp_path / "p", IMPORT_TIME)
    d = make_daemon(config(tmp_path, record="inline"))
    with d.client() as c:
        assert run(c, root)["failed"] == 0
        assert run(c, root)["selected"] == 0
        edit(root / "mylib/sizes.py", "return n * 2", "return n * 3")
        r = run(c, root)
        why = "changed: mylib/sizes.py::double"
        assert ran(r) == {"check_direct.py::test_direct": why,
                          "check_fixture.py::test_fixture": why}
        assert failing(r) == {"check_direct.py::test_direct", "check_fixture.py::test_fixture"}
        # a function nothing ran at import: nothing to run
        edit(root / "mylib/sizes.py", "return n * 3", "return n * 2")
        assert run(c, root)["failed"] == 0
        edit(root / "mylib/sizes.py", "return 0", "return 1")
        assert run(c, root)["selected"] == 0


# A test whose trace is lost part-way: at the recursion limit the trace function itself
# raises and Python unsets it; a test may also install its own.
LOST = {
    "mylib/__init__.py": "",
    "mylib/deep.py": "def down(n):\n    return down(n + 1)\n",
    "mylib/tail.py": "def after():\n    return 1\n",
    "mylib/spare.py": "def spare():\n    return 1\n",
    "check_deep.py": "import pytest\n\nfrom mylib import tail\nfrom mylib.deep import down\n\n\n"
                     "def test_recursive():\n    with pytest.raises(RecursionError):\n"
                     "        down(0)\n    assert tail.after() == 1\n",
    "check_own_trace.py": "import sys\n\nfrom mylib import spare\n\n\ndef test_traced():\n"
                          "    sys.settrace(lambda *a: None)\n    sys.settrace(None)\n"
                          "    assert spare.spare() == 1\n",
    "check_other.py": "def test_other():\n    assert 1 + 1 == 2\n",
}


def test_a_test_whose_trace_was_lost_depends_on_every_module_it_loaded(
        make_daemon, tmp_path: Path) -> None:
    root = project(tmp_path / "p", LOST)
    d = make_daemon(config(tmp_path, record="inline"))
    with d.client() as c:
        assert run(c, root, workers=1)["failed"] == 0
        assert run(c, root, workers=1)["selected"] == 0
        # what ran after the loss was not traced: the whole file counts
        edit(root / "mylib/tail.py", "return 1", "return 2")
        r = run(c, root, workers=1)
        assert ran(r) == {"check_deep.py::test_recursive": "changed: mylib/tail.py::<file>",
                          "check_own_trace.py::test_traced":
                              "changed: mylib/tail.py::<file>"}
        assert failing(r) == {"check_deep.py::test_recursive"}
        edit(root / "mylib/tail.py", "return 2", "return 1")
        assert run(c, root, workers=1)["failed"] == 0
        edit(root / "mylib/spare.py", "return 1", "return 3")
        r = run(c, root, workers=1)
        assert set(ran(r)) == {"check_deep.py::test_recursive", "check_own_trace.py::test_traced"}
        assert failing(r) == {"check_own_trace.py::test_traced"}


# A golden test reads a `.py` example file it never imports; a script no test imports.
EXAMPLES = {
    "examples/sample.py": "print('hello')\n",
    "scripts/tool.py": "print('a tool')\n",
    "check_golden.py": "from pathlib import Path\n\n\ndef test_golden():\n"
                       "    text = Path('examples/sample.py').read_text()\n"
                       "    assert text.startswith('print')\n",
    "check_other.py": "def test_other():\n    assert 1 + 1 == 2\n",
}


def test_a_py_file_read_as_data_counts_and_unimported_scripts_do_not(
        make_daemon, tmp_path: Path) -> None:
    root = project(tmp_path / "p", EXAMPLES)
    d = make_daemon(config(tmp_path, record="inline"))
    with d.client() as c:
        assert run(c, root)["failed"] == 0
        r = run(c, root)
        # the script no record names is unchanged since the full collection: no worker starts
        assert (r["selected"], r["collected_files"]) == (0, [])
        edit(root / "examples/sample.py", "print('hello')", "exit('hello')")
        r = run(c, root)
        assert ran(r) == {"check_golden.py::test_golden": "data: examples/sample.py"}
        assert failing(r) == {"check_golden.py::test_golden"}


# A process-wide instance made on first use (rich's `get_console()`): the first test to ask
# runs the constructor, later tests only use what it set up.
SINGLETON = {
    "mylib/__init__.py": "",
    "mylib/console.py": "class Console:\n    def __init__(self):\n        self.width = 80\n\n"
                        "    def render(self, text):\n        return text[:self.width]\n\n\n"
                        "_console = None\n\n\ndef get_console():\n    global _console\n"
                        "    if _console is None:\n        _console = Console()\n"
                        "    return _console\n",
    "check_a_first.py": "from mylib.console import get_console\n\n\ndef test_first():\n"
                        "    assert get_console().render('x') == 'x'\n",
    "check_b_later.py": "from mylib.console import get_console\n\n\ndef test_later():\n"
                        "    assert len(get_console().render('y' * 100)) == 80\n",
    "check_other.py": "def test_other():\n    assert 1 + 1 == 2\n",
}


def test_a_constructor_counts_for_every_user_of_its_instances(make_daemon,
                                                              tmp_path: Path) -> None:
    root = project(tmp_path / "p", SINGLETON)
    d = make_daemon(config(tmp_path, record="inline"))
    with d.client() as c:
        assert run(c, root, workers=1)["failed"] == 0  # one process: test_first constructs
        edit(root / "mylib/console.py", "self.width = 80", "self.width = 60")
        r = run(c, root, workers=1)
        why = "changed: mylib/console.py::Console.__init__"
        assert ran(r) == {"check_a_first.py::test_first": why,
                          "check_b_later.py::test_later": why}
        assert failing(r) == {"check_b_later.py::test_later"}


# A decorator registers a command at import, keeping its docstring and option default; a
# test reads the registry without running the command.
REGISTRY = {
    "mylib/__init__.py": "",
    "mylib/registry.py": "COMMANDS = {}\n\n\ndef command(name, default=0):\n"
                         "    def register(f):\n        COMMANDS[name] = (f, default)\n"
                         "        return f\n    return register\n",
    "mylib/cli.py": "from mylib.registry import command\n\n\n@command('greet', default=3)\n"
                    "def greet(times=1):\n    \"\"\"Say hello.\"\"\"\n    return 'hello' * times\n"
                    "\n\n@command('count')\ndef count():\n    return 1\n",
    "check_help.py": "from mylib import cli  # noqa: F401\nfrom mylib.registry import COMMANDS\n"
                     "\n\ndef test_help():\n    f, default = COMMANDS['greet']\n"
                     "    assert f.__doc__ == 'Say hello.' and default == 3\n",
    "check_count.py": "from mylib.cli import count\n\n\ndef test_count():\n"
                      "    assert count() == 1\n",
    "check_other.py": "def test_other():\n    assert 1 + 1 == 2\n",
}


def test_what_a_decorator_kept_at_import_counts(make_daemon, tmp_path: Path) -> None:
    root = project(tmp_path / "p", REGISTRY)
    d = make_daemon(config(tmp_path, record="inline"))
    with d.client() as c:
        assert run(c, root)["failed"] == 0
        why = "changed: mylib/cli.py::<module>"
        for old, new in [("Say hello.", "Say hi."), ("default=3", "default=4")]:
            edit(root / "mylib/cli.py", old, new)
            r = run(c, root)
            assert ran(r) == {"check_help.py::test_help": why,
                              "check_count.py::test_count": why}, old
            assert failing(r) == {"check_help.py::test_help"}
            edit(root / "mylib/cli.py", new, old)
            assert run(c, root)["failed"] == 0
        # the body of a decorated function counts only for the tests that ran it
        edit(root / "mylib/cli.py", "return 1", "return 2")
        r = run(c, root)
        assert ran(r) == {"check_count.py::test_count": "changed: mylib/cli.py::count"}


# Modules imported for the first time inside a test (a lazy import): the first test that
# imports one runs its module body, which calls `double`; a later test only reads the value.
LAZY = {
    **{f: text for f, text in IMPORT_TIME.items() if f.startswith("mylib/")},
    "check_a_first.py": "def test_first():\n    from mylib.defaults import WIDTH\n"
                        "    assert WIDTH == 80\n",
    "check_b_later.py": "def test_later():\n    from mylib import defaults\n"
                        "    assert defaults.WIDTH == 80\n",
    "check_other.py": "def test_other():\n    assert 1 + 1 == 2\n",
}


def test_what_a_module_imported_inside_a_test_ran_counts_for_later_tests(
        make_daemon, tmp_path: Path) -> None:
    root = project(tmp_path / "p", LAZY)
    d = make_daemon(config(tmp_path, record="inline"))
    with d.client() as c:
        assert run(c, root, workers=1)["failed"] == 0  # one process: test_first imports
        edit(root / "mylib/sizes.py", "return n * 2", "return n * 3")
        r = run(c, root, workers=1)
        why = "changed: mylib/sizes.py::double"
        assert ran(r) == {"check_a_first.py::test_first": why,
                          "check_b_later.py::test_later": why}
        assert failing(r) == {"check_a_first.py::test_first", "check_b_later.py::test_later"}
