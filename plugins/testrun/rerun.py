"""Re-runs of suspected order-dependent failures, and how a confirmed one is reported.

Why a fresh worker: a test that passed last time and fails now may have failed
because a test run before it on the same worker left state behind (a module
global changed in place). Re-running it on that worker, or on any worker that
already ran other tests, keeps the state and the failure. A worker started only
for the re-runs has imported nothing but the collection; there the test runs
after its own module's earlier tests, in collection order, as a serial run would.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from catalytic.plugins.testrun.estimate import file_of


@dataclass
class Reruns:
    """Failures waiting for a fresh worker."""

    waiting: list[str] = field(default_factory=list)

    def add(self, nid: str) -> None:
        if nid not in self.waiting:
            self.waiting.append(nid)

    def batch(self, tests: list[str]) -> tuple[list[str], dict[str, str]]:
        """Take every waiting re-run: the node ids to run in collection order (each target
        after its module's earlier tests, overlapping prefixes run once) and, for each of
        them, the target it serves (a target serves itself)."""
        index = {t: i for i, t in enumerate(tests)}
        targets = sorted((t for t in self.waiting if t in index), key=index.__getitem__)
        self.waiting.clear()
        last: dict[str, int] = {}
        for t in targets:
            last[file_of(t)] = index[t]
        serves: dict[str, str] = {}
        for t in targets:  # later targets of a module reuse the earlier ones' prefix
            for nid in tests[: index[t] + 1]:
                if file_of(nid) == file_of(t) and nid not in serves:
                    serves[nid] = t
        ordered = sorted(serves, key=index.__getitem__)
        return ordered, serves


def order_dependent_message(nid: str, before: list[str], first_message: str) -> str:
    """Why a failure was not reported: the tests its worker ran first, and what passed."""
    module = file_of(nid)
    others = [t for t in before if file_of(t) != module]
    if others:
        lead = (f"fails only after {others[-1]}" if len(others) == 1 else
                f"fails only after other tests on its worker (last: {others[-1]}; "
                f"{len(others)} from other modules ran before it)")
    else:
        lead = "fails only when selected alone or apart from its module's earlier tests"
    return (f"{lead}: {first_message}; passed when re-run on a fresh worker after its "
            "module's earlier tests in collection order")
