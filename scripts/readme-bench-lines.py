"""Copy each benchmark's latest summary line from bench/RESULTS.md into the README table.

Each section of bench/RESULTS.md lists its latest run first.

Run after updating bench/RESULTS.md: `.venv/bin/python scripts/readme-bench-lines.py`.
"""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
NAMES = {"ipc": "IPC", "workspace": "WS", "prd": "PRD", "evolve": "EVOLVE",
         "testrun": "TESTRUN", "space": "SPACE", "monitor": "MONITOR", "distributed": "DIST"}


def main() -> None:
    results = (ROOT / "bench" / "RESULTS.md").read_text()
    readme = (ROOT / "README.md").read_text()
    for name, tag in NAMES.items():
        lines = re.findall(rf"^{name}: .*$", results, flags=re.MULTILINE)
        if not lines:
            continue
        cell = f"`{lines[0].strip()}`"  # each section lists its latest run first
        # a row holds a previous line of the same benchmark (or, at first, its placeholder)
        readme = re.sub(rf"\| (?:{tag}_LINE|`{name}: [^`]*`) \|",
                        lambda _m, c=cell: f"| {c} |", readme)
    (ROOT / "README.md").write_text(readme)


if __name__ == "__main__":
    main()
