"""Fixtures: real daemons on temporary sockets, talked to with the real client.

    def test_x(make_daemon):
        d = make_daemon({"daemon": {"plugins": ["workspace"]}})   # started
        with d.client() as c:
            c.call("workspace.put", data=b"x")

`make_daemon(config=None, env=None, start=True)` returns a `DaemonProcess`
(see tests/daemon_process.py); every daemon is killed and its files removed at
the end of the test. `daemon` is one started with every installed plugin.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

# Tests are imported with --import-mode=importlib (so test files in different folders
# may share a name); their helper modules are found through these paths.
HERE = Path(__file__).resolve().parent
for folder in [HERE, *sorted(p for p in HERE.iterdir() if p.is_dir() and p.name != "data")]:
    sys.path.insert(0, str(folder))

from daemon_process import DaemonProcess  # noqa: E402

MakeDaemon = Callable[..., DaemonProcess]


@pytest.fixture
def make_daemon() -> Iterator[MakeDaemon]:
    made: list[DaemonProcess] = []

    def make(config: dict[str, dict[str, Any]] | None = None, env: dict[str, str] | None = None,
             start: bool = True) -> DaemonProcess:
        d = DaemonProcess(config, env)
        made.append(d)
        return d.start() if start else d

    yield make
    for d in made:
        d.cleanup()


@pytest.fixture
def daemon(make_daemon: MakeDaemon) -> DaemonProcess:
    return make_daemon()


EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "hello-plugin"


@pytest.fixture(scope="session")
def example_plugin() -> str:
    """The third-party example plugin, installed into the test venv as its own distribution."""
    import importlib.metadata
    import subprocess
    import tomllib

    wanted = tomllib.loads((EXAMPLE / "pyproject.toml").read_text())["project"]["version"]
    try:
        installed = importlib.metadata.version("catalytic-hello-example")
    except importlib.metadata.PackageNotFoundError:
        installed = None
    if installed != wanted:
        subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "--no-deps",
                        str(EXAMPLE)], check=True)
        importlib.invalidate_caches()
    return "example"


@pytest.fixture
def core_daemon(make_daemon: MakeDaemon, example_plugin: str) -> DaemonProcess:
    """A daemon with no optimizer plugins: `system.*` and the third-party example."""
    return make_daemon({"daemon": {"plugins": [example_plugin]}})


@pytest.fixture(scope="module")
def cluster() -> Iterator[Any]:
    """A real Dask cluster (`dask scheduler` + two workers), one per test module (some
    tests kill its workers), started on first use."""
    from dask_cluster import DaskCluster

    c = DaskCluster().start(workers=2)
    yield c
    c.close()
