"""A few lines of Python for the ask/tell loop against the daemon.

    from catalytic.plugins.evolve.study_client import Study
    study = Study.create(genes=[{"name": "x", "type": "real", "low": -5, "high": 5}],
                         objectives=[{"name": "f", "direction": "min"}])
    while not study.done:
        for cand in study.ask(8):
            study.tell(cand, [cand["genes"]["x"] ** 2])
    print(study.best())

Imports only the client library and the standard library, so it runs
wherever `catalytic.client` does.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import Any

from catalytic.client import Client

Values = Sequence[float] | float | None


class Study:
    """One study on the daemon; `tell` may be given one candidate or many results at once."""

    def __init__(self, study_id: str, client: Client | None = None) -> None:
        self.id = study_id
        self.client = client or Client()
        self.done = False

    @classmethod
    def create(cls, client: Client | None = None, **spec: Any) -> Study:
        """`evolve.create` with the given spec (genes, objectives, population, seed, ...)."""
        c = client or Client()
        return cls(c.call("evolve.create", spec)["study"], c)

    def ask(self, n: int = 1) -> list[dict[str, Any]]:
        """Up to n candidates `{"id", "genes"}`; an empty list once the study is done."""
        out = self.client.call("evolve.ask", {"study": self.id, "n": n})
        self.done = bool(out["done"])
        return list(out["candidates"])

    def tell(self, candidate: dict[str, Any] | int, values: Values = None, *,
             failed: bool = False, violation: float = 0.0) -> dict[str, Any]:
        """Report one result; `values=None` or `failed=True` reports a failed evaluation."""
        cid = candidate["id"] if isinstance(candidate, dict) else int(candidate)
        return self.tell_many([result(cid, values, failed=failed, violation=violation)])

    def tell_many(self, results: Iterable[dict[str, Any]]) -> dict[str, Any]:
        out = self.client.call("evolve.tell", {"study": self.id, "results": list(results)})
        self.done = bool(out["done"])
        return dict(out)

    def optimize(self, fn: Callable[[dict[str, Any]], Values], batch: int = 8,
                 max_evaluations: int | None = None) -> dict[str, Any]:
        """Ask, evaluate `fn(genes)` (an exception counts as a failure), tell, until done."""
        count = 0
        while not self.done and (max_evaluations is None or count < max_evaluations):
            cands = self.ask(batch)
            if not cands:
                break
            results = []
            for cand in cands:
                try:
                    results.append(result(cand["id"], fn(cand["genes"])))
                except Exception:
                    results.append(result(cand["id"], None, failed=True))
            self.tell_many(results)
            count += len(cands)
        return self.best()

    def status(self) -> dict[str, Any]:
        return dict(self.client.call("evolve.status", {"study": self.id}))

    def best(self) -> dict[str, Any]:
        return dict(self.client.call("evolve.best", {"study": self.id}))

    def pareto(self) -> list[dict[str, Any]]:
        return list(self.client.call("evolve.pareto", {"study": self.id})["front"])


def result(cid: int, values: Values, *, failed: bool = False,
           violation: float = 0.0) -> dict[str, Any]:
    """One entry of `evolve.tell`'s results."""
    if failed or values is None:
        return {"id": cid, "failed": True}
    vals = [float(values)] if isinstance(values, int | float) else [float(v) for v in values]
    out: dict[str, Any] = {"id": cid, "values": vals}
    if violation:
        out["violation"] = float(violation)
    return out
