"""`space.checkpoint` with more revolve slots than the chain can use (issue 15: slots
2**63 answered -32603 RecursionError): the schedule runs on an explicit stack, so any
slot count answers, and one beyond n − 1 behaves as n − 1 would."""

from __future__ import annotations

from typing import Any

CONFIG = {"daemon": {"plugins": ["space"], "workers": 1}}


def test_huge_slot_counts_answer(make_daemon: Any) -> None:
    d = make_daemon(CONFIG)
    with d.client(timeout=120) as c:
        huge = c.call("space.checkpoint", strategy="revolve", n=3000, slots=2**63)
        enough = c.call("space.checkpoint", strategy="revolve", n=3000, slots=2999)
        assert huge["steps"] == enough["steps"] == 2999
        assert huge["peak_states"] == enough["peak_states"] == 3000
        deep = c.call("space.checkpoint", strategy="revolve", n=5000, slots=2500)
        assert deep["peak_states"] == 2501
        assert c.call("system.ping", payload=1)
