"""testrun's worker verbs are internal: only the workers of a live run may call them.

Over a real daemon: the verbs are not listed, a peer without the token (or with
a made-up one) is refused with -32003, the workers still work, and the token a
run's workers were given opens nothing once the run is over.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import pytest
from suites import config, write_suite

from catalytic.client import Forbidden, MethodNotFound, RpcError

# Runs inside a worker: it finds the token the daemon gave its worker process (the
# worker plugin took it out of os.environ, the process's initial environment keeps it).
INSIDE = '''
from pathlib import Path

import pytest

from catalytic.client import Client, Forbidden


def _initial_env():
    raw = Path("/proc/self/environ").read_bytes().split(b"\\0")
    return dict(x.decode().split("=", 1) for x in raw if b"=" in x)


def test_the_workers_token_opens_the_internal_verbs():
    env = _initial_env()
    token = env["CATALYTIC_WORKER_TOKEN"]
    Path(OUT).write_text(token)
    hello = {"run": "not-a-run", "worker": "w9", "pid": 1, "tests": [], "alone": [],
             "errors": []}
    with Client(env["CATALYTIC_WORKER_SOCKET"], check_version=False) as c:
        assert c.call("internal.testrun.worker_hello", {**hello, "internal_token": token}) \\
            == {"stop": True}
        with pytest.raises(Forbidden):
            c.call("internal.testrun.worker_hello", hello)
'''

HELLO = {"run": "x", "worker": "w0", "pid": 1, "tests": [], "alone": [], "errors": []}


@pytest.mark.skipif(not Path("/proc/self/environ").exists(), reason="needs /proc")
def test_internal_verbs_are_hidden_refused_to_peers_and_open_to_live_workers(
        make_daemon, tmp_path: Path) -> None:
    out = tmp_path / "token.txt"
    root = write_suite(tmp_path / "inside", {
        "check_inside.py": f"OUT = {str(out)!r}\n" + INSIDE})
    d = make_daemon(config(tmp_path, keep_warm_s=0.0, record="off"))
    with d.client() as c:
        methods = c.call("system.hello")["methods"]
        assert "testrun.run" in methods
        assert not [m for m in methods if m.startswith("internal.") or "pull" in m
                    or "worker_hello" in m]
        listed = next(p for p in c.call("system.plugins") if p["name"] == "testrun")
        assert "testrun.run" in listed["methods"]
        assert not [m for m in listed["methods"] if "pull" in m or "hello" in m]

        for verb in ("testrun.pull", "testrun.worker_hello"):
            with pytest.raises(MethodNotFound):
                c.call(verb, HELLO)
        with pytest.raises(Forbidden, match="internal"):
            c.call("internal.testrun.worker_hello", HELLO)
        with pytest.raises(Forbidden, match="internal_token"):
            c.call("internal.testrun.pull", {"run": "x", "worker": "w0", "results": [],
                                             "internal_token": "made-up"})

        r = c.call("testrun.run", {"root": str(root), "python": sys.executable,
                                   "workers": 1}, timeout=120)
        assert r["passed"] == 1 and r["failed"] == 0, r["results"]
        token = out.read_text()
        assert len(token) >= 24
        # the run answered at its last result; once its workers have exited (in the
        # background), their token is revoked
        deadline = time.monotonic() + 60
        while True:
            try:
                c.call("internal.testrun.worker_hello", {**HELLO, "internal_token": token})
            except Forbidden:
                break
            except RpcError:
                pass  # the token still opens the verb; the run itself is gone
            assert time.monotonic() < deadline, "the token outlived the run's workers"
            time.sleep(0.2)
