"""What `select = "affected"` cannot see, shown: each test here passes because the limit is
real (docs/testrun.md, "What is not tracked"). Force a full run (`select = "all"`) when these
matter.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from projects import edit, failing, project, ran, run
from suites import config


def serial_failing(root: Path) -> set[str]:
    """The failing set of a plain serial pytest run (collection order)."""
    out = subprocess.run([sys.executable, "-m", "pytest", "-q", "-rfE", "-p", "no:cacheprovider",
                          "-p", "no:randomly"], cwd=root, capture_output=True, text=True,
                         check=False).stdout
    return {ln.split()[1] for ln in out.splitlines() if ln.startswith(("FAILED ", "ERROR "))}


# A table style held in a module-level object; one test changes it in place (as rich's
# test_table once did with box.ASCII) and a test in another module reads it.
BOX = {
    "mylib/__init__.py": "",
    "mylib/box.py": "class Box:\n    def __init__(self, chars):\n        self.chars = chars\n\n\n"
                    "ASCII = Box('+-|')\n",
    "mylib/render.py": "from mylib import box\n\n\ndef corner():\n    return box.ASCII.chars[1]\n",
    "check_a_mutates.py": "from mylib import box\n\n\ndef test_mutates():\n"
                          "    box.ASCII.chars = '#-|'\n    assert box.ASCII.chars[0] == '#'\n",
    "check_b_reads.py": "from mylib.render import corner\n\n\ndef test_reads():\n"
                        "    assert corner() in '+-'\n",
}


# A cached function: the first test to call it runs its body, later tests only get the
# cached value, so their records do not name the body.
CACHE = {
    "mylib/__init__.py": "",
    "mylib/settings.py": "import functools\n\n\n@functools.cache\ndef limit():\n"
                         "    return 10\n",
    "check_cache.py": "from mylib.settings import limit\n\n\ndef test_first():\n"
                      "    assert limit() > 0\n\n\ndef test_second():\n    assert limit() == 10\n",
}


LIMITS = {
    # the full serial run fails test_reads: test_mutates ran first in the same process;
    # selected alone it passes
    "global state": (BOX, "mylib/render.py", "return box.ASCII.chars[1]",
                     "return box.ASCII.chars[0]", "check_b_reads.py::test_reads",
                     {"check_b_reads.py::test_reads": "changed: mylib/render.py::corner"}),
    # one worker: the module's tests in collection order; test_first fills the cache, and
    # test_second, which only got the cached value, is not selected
    "cached result": (CACHE, "mylib/settings.py", "return 10", "return 11",
                      "check_cache.py::test_second",
                      {"check_cache.py::test_first": "changed: mylib/settings.py::limit"}),
}


@pytest.mark.parametrize("limit", sorted(LIMITS))
def test_a_known_limit_misses_a_failure_a_full_run_finds(make_daemon, tmp_path: Path,
                                                          limit: str) -> None:
    files, file, old, new, missed, selected = LIMITS[limit]
    root = project(tmp_path / "p", files)
    d = make_daemon(config(tmp_path, record="inline"))
    with d.client() as c:
        assert run(c, root, workers=1)["failed"] == 0
        edit(root / file, old, new)
        assert serial_failing(root) == {missed}
        r = run(c, root, workers=1)
        assert ran(r) == selected
        assert failing(r) == set()  # the failure a full run shows is missed
        assert missed in failing(run(c, root, select="all", workers=1)) or limit == (
            "global state")  # (our full run orders the two modules as it likes)
