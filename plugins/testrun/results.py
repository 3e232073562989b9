"""A run's summary (counts, makespan, lower bound, efficiency) and its JUnit XML.

Why separate: the same figures feed the RPC answer, the CLI summary, the
history's run log and the benchmark, so they are computed in one place.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

from catalytic.plugins.testrun.schedule import efficiency, lower_bound

OUTCOMES = ("passed", "failed", "skipped", "xfailed", "xpassed", "error")
FAILING = ("failed", "error")


def not_run(nodeid: str, why: str = "") -> dict[str, Any]:
    """The result of a test that never ran (an error in the counts, never in the history)."""
    return {"nodeid": nodeid, "outcome": "error", "duration_s": 0.0, "worker": "",
            "message": f"not run ({why})" if why else "not run", "not_run": True}


def exit_status(counts: Mapping[str, int], tests: int) -> int:
    """pytest's exit codes: 0 all good, 1 some failed, 5 nothing collected."""
    if tests == 0:
        return 5
    return 1 if any(counts.get(o, 0) for o in FAILING) else 0


def summarize(results: Sequence[Mapping[str, Any]], workers: int, makespan: float,
              expected_makespan: float, order: Mapping[str, list[str]]) -> dict[str, Any]:
    """The answer of `testrun.run` (results in collection order are given by the caller)."""
    counts = Counter(str(r["outcome"]) for r in results)
    durations = [float(r["duration_s"]) for r in results]
    lb = lower_bound(durations, workers)
    return {
        "tests": len(results),
        **{("errors" if o == "error" else o): counts.get(o, 0) for o in OUTCOMES},
        # Like pytest: a module skipped at collection is counted, but not as a test that ran.
        "exit_status": exit_status(counts, sum(1 for r in results if not r.get("collection"))),
        "workers": workers,
        "makespan_s": round(makespan, 4),
        "lower_bound_s": round(lb, 4),
        "serial_estimate_s": round(sum(durations), 4),
        "expected_makespan_s": round(expected_makespan, 4),
        "efficiency": round(efficiency(lb, makespan), 4),
        "order_dependent": [r["nodeid"] for r in results if r.get("order_dependent")],
        "order": {w: list(ids) for w, ids in order.items()},
        "results": list(results),
    }


def write_junit(path: Path, summary: Mapping[str, Any],
                write: Callable[[Path, bytes], None], suite_name: str = "catalytic") -> None:
    """JUnit XML in the shape pytest's own `--junitxml` writes (one testsuite), handed to
    `write` (the plugin passes `ctx.atomic_write`: a reader never sees half a file)."""
    suite = ET.Element("testsuite", {
        "name": suite_name, "tests": str(summary["tests"]),
        "failures": str(summary["failed"]), "errors": str(summary["errors"]),
        "skipped": str(summary["skipped"] + summary["xfailed"]),
        "time": f"{summary['makespan_s']:.3f}"})
    for r in summary["results"]:
        nodeid = str(r["nodeid"])
        file, _, rest = nodeid.partition("::")
        parts = rest.split("::")
        classname = ".".join([file.removesuffix(".py").replace("/", "."), *parts[:-1]])
        case = ET.SubElement(suite, "testcase", {"classname": classname, "name": parts[-1],
                                                 "time": f"{float(r['duration_s']):.3f}"})
        outcome = r["outcome"]
        message = str(r.get("message", ""))
        if outcome in ("failed", "error"):
            el = ET.SubElement(case, "failure" if outcome == "failed" else "error",
                               {"message": message})
            el.text = str(r.get("longrepr", ""))
        elif outcome in ("skipped", "xfailed"):
            ET.SubElement(case, "skipped", {
                "type": "pytest.xfail" if outcome == "xfailed" else "pytest.skip",
                "message": message})
    root = ET.Element("testsuites")
    root.append(suite)
    write(path, ET.tostring(root, encoding="utf-8", xml_declaration=True))
