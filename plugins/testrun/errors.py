"""Every error code testrun answers with, defined once, and the exception that carries one.

Why one module: local runs (`runner.py`), shard jobs (`shard_job.py`) and the
RPC face (`plugin.py`) fail in the same ways and must answer the same codes;
`RunFailed` is picklable, so a shard job on another host raises it as is.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from catalytic.protocol.errors import RpcError

COLLECTION_ERROR = -33001
"""pytest reported collection errors: nothing ran."""
WORKERS_DIED = -33002
"""pytest exited before collecting (bad arguments, a conftest that fails to import)."""
COLLECTION_MISMATCH = -33003
"""Workers (or a shard's host) collected different tests."""
NO_PYTEST = -33004
"""The interpreter cannot run tests (missing, not Python, no pytest, older than 3.11)."""
BUSY = -33005
"""Another run of the same root is in progress and `testrun.same_root = "refuse"`."""


class RunFailed(Exception):
    """The run could not produce results; `code` is one of the codes above.

    Picklable (its arguments are its fields): a shard job raises it in a pool
    process or on a cluster worker, and `executor.map` then cancels the other shards.
    """

    def __init__(self, code: int, message: str, data: Any = None) -> None:
        super().__init__(code, message, data)
        self.code, self.message, self.data = code, message, data

    def __str__(self) -> str:
        return f"{self.message} (code {self.code})"

    def to_rpc(self) -> RpcError:
        """The answer a caller gets."""
        return RpcError(self.message, self.data, code=self.code)

    def to_map(self) -> dict[str, Any]:
        """As plain data, for results that cross hosts as dicts."""
        return {"code": self.code, "message": self.message, "data": self.data}

    @classmethod
    def from_map(cls, err: dict[str, Any]) -> RunFailed:
        return cls(int(err["code"]), str(err["message"]), err.get("data"))


def collection_failed(errors: Sequence[dict[str, Any]], where: str = "") -> RunFailed:
    """pytest's collection errors, one `nodeid: message` line each."""
    text = "\n".join(f"{e.get('nodeid')}: {e.get('message')}" for e in errors)
    return RunFailed(COLLECTION_ERROR, f"collection failed{where}:\n{text}", list(errors))


def died_before_collecting(status: int, output: str) -> RunFailed:
    """pytest exited before it collected: its output says why (usually a usage message)."""
    return RunFailed(WORKERS_DIED, f"pytest exited with status {status} before collecting "
                                   f"tests:\n{output}")
