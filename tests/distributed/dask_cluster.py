"""A real Dask cluster on 127.0.0.1 for tests and benchmarks: `dask scheduler` + `dask worker`s.

Each process is started from this interpreter (`python -m distributed.cli...`, what the
`dask scheduler` / `dask worker` commands run), in its own session so it can be
killed alone. Workers run without a nanny, one thread each, so the pid we hold is
the process that runs tasks (SIGKILL it and the work really is lost).
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class DaskCluster:
    """`start()` the scheduler, `add_worker()` workers; `close()` ends every process."""

    def __init__(self, root: Path | None = None, port: int = 0) -> None:
        self.root = root or Path(tempfile.mkdtemp(prefix="dask"))
        self.port = port or free_port()
        self.address = f"tcp://127.0.0.1:{self.port}"
        self.scheduler: subprocess.Popen[bytes] | None = None
        self.workers: list[subprocess.Popen[bytes]] = []
        self._n = 0

    def _spawn(self, module: str, args: list[str], log: str) -> subprocess.Popen[bytes]:
        env = dict(os.environ, PYTHONUNBUFFERED="1", DASK_TEMPORARY_DIRECTORY=str(self.root))
        with (self.root / log).open("ab") as out:
            return subprocess.Popen([sys.executable, "-m", module, *args], cwd=self.root,
                                    env=env, stdout=out, stderr=subprocess.STDOUT,
                                    stdin=subprocess.DEVNULL, start_new_session=True)

    def start(self, workers: int = 2, timeout: float = 60.0) -> DaskCluster:
        self.scheduler = self._spawn("distributed.cli.dask_scheduler", [
            "--host", "127.0.0.1", "--port", str(self.port),
            "--dashboard-address", "127.0.0.1:0"],
            "scheduler.log")
        for _ in range(workers):
            self.add_worker(wait=False)
        self.wait_for_workers(workers, timeout)
        return self

    def add_worker(self, wait: bool = True, timeout: float = 60.0) -> subprocess.Popen[bytes]:
        self._n += 1
        proc = self._spawn("distributed.cli.dask_worker", [
            self.address, "--no-nanny", "--nthreads", "1", "--no-dashboard",
            "--host", "127.0.0.1", "--name", f"w{self._n}", "--death-timeout", "30",
            "--local-directory", str(self.root / f"w{self._n}")], f"worker{self._n}.log")
        self.workers.append(proc)
        if wait:
            self.wait_for_workers(len(self.live_workers()), timeout)
        return proc

    def live_workers(self) -> list[subprocess.Popen[bytes]]:
        return [w for w in self.workers if w.poll() is None]

    def info(self) -> dict[str, Any]:
        """The scheduler's identity (workers, threads), asked by a short-lived client."""
        from distributed import Client

        with Client(self.address, timeout=10) as c:
            return dict(c.scheduler_info())  # (lists up to 5 workers on new versions)

    def wait_for_workers(self, n: int, timeout: float = 60.0) -> None:
        deadline = time.monotonic() + timeout
        last: Any = None
        while time.monotonic() < deadline:
            if self.scheduler is not None and self.scheduler.poll() is not None:
                raise RuntimeError(f"dask scheduler exited\n{self.logs()}")
            try:
                last = self.info()
                if len(last.get("workers", {})) >= n:
                    return
            except OSError as exc:
                last = exc
            time.sleep(0.3)
        raise RuntimeError(f"{n} Dask workers did not join in {timeout} s ({last})\n"
                           f"{self.logs()}")

    def processing(self) -> dict[str, list[str]]:
        """Task keys each worker is running now, by worker address."""
        from distributed import Client

        with Client(self.address, timeout=10) as c:
            return {w: [str(k) for k in keys] for w, keys in c.processing().items()}

    def worker_pids(self) -> dict[str, int]:
        from distributed import Client

        with Client(self.address, timeout=10) as c:
            return dict(c.run(os.getpid))

    def logs(self) -> str:
        parts = []
        for path in sorted(self.root.glob("*.log")):
            text = path.read_text(errors="replace")
            parts.append(f"--- {path.name} ---\n{text[-3000:]}")
        return "\n".join(parts)

    def kill_worker(self, pid: int) -> None:
        os.kill(pid, signal.SIGKILL)
        for w in self.workers:
            if w.pid == pid:
                w.wait(10)

    def close(self) -> None:
        for proc in [*self.workers, self.scheduler]:
            if proc is not None and proc.poll() is None:
                try:
                    os.killpg(proc.pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
                proc.wait(10)
        shutil.rmtree(self.root, ignore_errors=True)

    def describe(self) -> str:
        return json.dumps({"address": self.address, "workers": len(self.live_workers())})
