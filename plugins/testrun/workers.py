"""Starting worker processes in the project's own interpreter, without a shell.

Why a shim: the project's virtualenv usually does not have catalytic installed.
The worker only needs `catalytic.client` (stdlib + msgpack, with the wire protocol's
`catalytic.protocol`) and the pytest plugin,
so a small directory of symlinks to this installation is put first on the
worker's `sys.path`; msgpack and psutil are offered last, as a fallback the
project's own copies win over (msgpack falls back to pure Python when its C
extension does not match the interpreter).
"""

from __future__ import annotations

import fnmatch
import json
import os
import subprocess
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

PROBE = r"""
import hashlib, importlib.util as u, json, os, sys
try:
    import site
    dirs = [*site.getsitepackages(), site.getusersitepackages()]
except Exception:
    dirs = [p for p in sys.path if p.endswith(("site-packages", "dist-packages"))]
names = sorted(n for d in dirs if os.path.isdir(d) for n in os.listdir(d)
               if n.endswith((".dist-info", ".egg-info", ".egg-link", ".pth")))
env = hashlib.sha1("\n".join([RECORDING, os.path.realpath(sys.executable), sys.version,
                              *names]).encode()).hexdigest()[:20]
print(json.dumps({"version": list(sys.version_info[:3]), "env": env,
                  **{m: u.find_spec(m) is not None
                     for m in ("pytest", "msgpack", "psutil", "pytest_randomly", "xdist")}}))
"""
"""What the interpreter has; `env` fingerprints it and its installed distributions (and
the recording version: records an older recorder made count as another environment)."""
RECORDING_VERSION = 2
"""Bumped when the recorder records more per test: old records then select their tests
once (reason `environment`), and the new recording replaces them."""
PROBE = PROBE.replace("RECORDING", repr(f"recording {RECORDING_VERSION}"), 1)

BOOT = (
    "import sys; sys.path.insert(0, sys.argv.pop(1)); sys.path.append(sys.argv.pop(1)); "
    "import pytest; sys.exit(pytest.main(sys.argv[1:]))"
)

WORKER_PLUGIN = "catalytic.plugins.testrun.pytest_worker"
ENV_PREFIX = "CATALYTIC_WORKER_"
"""Every variable the daemon sets for its workers begins with this, never with
`CATALYTIC_<SECTION>_`, the settings' environment overrides (no section is `worker`)."""
ENV = ENV_PREFIX + "ID"
"""Activates the worker plugin: `<run id>:<worker name>`."""
ENV_SOCKET = ENV_PREFIX + "SOCKET"
ENV_JOURNAL = ENV_PREFIX + "JOURNAL"
ENV_MAX_OUTPUT = ENV_PREFIX + "MAX_OUTPUT"
ENV_RECORD = ENV_PREFIX + "RECORD"
"""`1`: record each test's dependencies (see recorder.py)."""
ENV_TOKEN = ENV_PREFIX + "TOKEN"
"""The token that opens the internal verbs (`internal.testrun.*`) for this run's workers."""


class PreflightError(Exception):
    """The interpreter cannot run workers; the message says how to fix it."""


def probe(python: str, root: Path, env: Mapping[str, str], timeout: float = 60) -> dict[str, Any]:
    """What the project's interpreter has (pytest, msgpack, psutil, randomly, xdist)."""
    try:
        out = subprocess.run([python, "-I", "-c", PROBE], cwd=root, env=dict(env),
                             capture_output=True, text=True, timeout=timeout, check=False)
    except OSError as exc:
        raise PreflightError(f"cannot run the interpreter {python}: {exc}") from exc
    if out.returncode != 0:
        raise PreflightError(f"the interpreter {python} failed: {out.stderr.strip()[-2000:]}")
    try:
        info: dict[str, Any] = json.loads(out.stdout.strip().splitlines()[-1])
        if not isinstance(info, dict) or "pytest" not in info:
            raise ValueError(info)
    except (ValueError, IndexError) as exc:
        raise PreflightError(f"{python} did not answer like a Python interpreter "
                             f"(output: {out.stdout.strip()[-200:]!r})") from exc
    if not info["pytest"]:
        raise PreflightError(
            f"the interpreter {python} has no pytest; install it into the project's "
            f"environment with `{python} -m pip install pytest`")
    if tuple(info["version"]) < (3, 11):
        raise PreflightError(
            f"the interpreter {python} is Python {'.'.join(map(str, info['version']))}; "
            "catalytic's test workers need Python 3.11 or newer")
    return info


def make_shim(where: Path) -> tuple[Path, Path]:
    """(first, last) sys.path entries for workers: catalytic's client + plugin, msgpack/psutil."""
    import catalytic.client
    import catalytic.config
    import catalytic.plugins
    import catalytic.protocol

    first, last = where / "first", where / "last"
    pkg = first / "catalytic"
    pkg.mkdir(parents=True, exist_ok=True)
    last.mkdir(parents=True, exist_ok=True)
    links = {pkg / "client": Path(catalytic.client.__file__).parent,
             pkg / "config": Path(catalytic.config.__file__).parent,
             pkg / "plugins": Path(catalytic.plugins.__file__).parent,
             pkg / "protocol": Path(catalytic.protocol.__file__).parent}
    for name in ("msgpack", "psutil"):
        try:
            mod = __import__(name)
            links[last / name] = Path(mod.__file__ or "").parent
        except ImportError:
            pass
    for link, target in links.items():
        if not link.exists():
            link.symlink_to(target, target_is_directory=True)
    return first, last


def worker_argv(python: str, shim: tuple[Path, Path], args: Sequence[str],
                info: Mapping[str, Any], seed: int | None) -> list[str]:
    """The worker's command line: pytest with the worker plugin, quiet, no cache writes."""
    argv = [python, "-c", BOOT, str(shim[0]), str(shim[1]),
            "-p", "no:catalytic_testrun", "-p", WORKER_PLUGIN,
            "-p", "no:cacheprovider", "-q", "--junitxml=", *args]
    if info.get("xdist"):
        argv.append("-n0")
    if info.get("pytest_randomly") and seed is not None:
        argv.append(f"--randomly-seed={seed}")
    return argv


def strip_args(args: Sequence[str]) -> list[str]:
    """Drop options the daemon owns (it writes JUnit XML itself and is the parallelism)."""
    out: list[str] = []
    skip = False
    for a in args:
        if skip:
            skip = False
            continue
        if a in ("-n", "--numprocesses", "--dist", "--junitxml", "--junit-xml"):
            skip = True
            continue
        if a.startswith(("--junitxml=", "--junit-xml=", "--numprocesses=", "--dist=")) or (
                a.startswith("-n") and a[2:].isdigit()):
            continue
        out.append(a)
    return out


def user_seed(args: Sequence[str]) -> bool:
    """True when the caller chose pytest-randomly's seed (or turned it off) already."""
    return any(a.startswith("--randomly-seed") or a in ("-p no:randomly", "no:randomly")
               or a == "--randomly-dont-reorganize" for a in args)


def worker_env(base: Mapping[str, str], passthrough: Sequence[str], python: str,
               extra: Mapping[str, str]) -> dict[str, str]:
    """Only the variables the config allows, plus the worker's own, PATH led by the venv."""
    env = {k: v for k, v in base.items() if any(fnmatch.fnmatchcase(k, p) for p in passthrough)}
    bindir = str(Path(python).parent)
    env["PATH"] = bindir + os.pathsep + env.get("PATH", os.defpath)
    if (Path(python).parent.parent / "pyvenv.cfg").exists():
        env["VIRTUAL_ENV"] = str(Path(python).parent.parent)
    env.update(extra)
    return env


def tail(path: Path, limit: int = 4000) -> str:
    """The last `limit` bytes of a worker's output (crash reasons live there)."""
    try:
        with open(path, "rb") as f:
            f.seek(0, os.SEEK_END)
            size = f.tell()
            f.seek(max(0, size - limit))
            return f.read().decode("utf-8", "replace")
    except OSError:
        return ""
