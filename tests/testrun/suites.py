"""Helpers for the testrun integration tests: copy the bundled suite, write small suites."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from collections import Counter
from pathlib import Path
from typing import Any

SAMPLE = Path(__file__).resolve().parents[1] / "data" / "testrun" / "sample_suite"
INI = "[pytest]\npython_files = check_*.py\n"


def copy_sample(dest: Path) -> Path:
    root = dest / "sample"
    shutil.copytree(SAMPLE, root)
    return root


def write_suite(dest: Path, files: dict[str, str]) -> Path:
    dest.mkdir(parents=True, exist_ok=True)
    (dest / "pytest.ini").write_text(INI)
    for name, text in files.items():
        (dest / name).write_text(text)
    return dest


def serial_counts(root: Path, *args: str) -> dict[str, int]:
    """Counts from a plain serial pytest run's summary line."""
    out = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
                          "-p", "no:randomly", *args], cwd=root, capture_output=True,
                         text=True, check=False).stdout
    last = out.strip().splitlines()[-1]
    counts: dict[str, int] = {}
    for n, word in re.findall(r"(\d+) (passed|failed|skipped|xfailed|xpassed|errors?)", last):
        counts["errors" if word.startswith("error") else word] = int(n)
    return counts


def run_counts(result: dict[str, Any]) -> dict[str, int]:
    c = Counter(r["outcome"] for r in result["results"])
    return {("errors" if k == "error" else k): v for k, v in c.items()}


def config(tmp_path: Path, **extra: Any) -> dict[str, dict[str, Any]]:
    return {"testrun": {"allowed_roots": [str(tmp_path)], **extra}}
