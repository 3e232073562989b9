"""Which tests an edit can affect, and why: recorded fingerprints against the files now.

Why by content: timestamps move without changes (checkouts, builds) and stay
put across some changes; the checksums of the blocks a test ran are compared
with the checksums of the same blocks in the files as they are now. Where the
recording cannot know (a test never recorded, a new conftest.py, a changed
interpreter or set of installed distributions), the test is selected and the
reason says so.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from catalytic.plugins.testrun.blocks import (
    BLOCKS_VERSION,
    CONFIG,
    DATA,
    NAMES,
    WHOLE,
    digest,
    names_kept,
    parse_blocks,
)
from catalytic.plugins.testrun.config_files import config_checksum
from catalytic.plugins.testrun.depstore import DepStore
from catalytic.plugins.testrun.fingerprint import SKIP_DIRS
from catalytic.plugins.testrun.history import TestStats
from catalytic.plugins.testrun.results import FAILING

SELECT_MODES = ("all", "affected", "affected-first")


@dataclass
class Verdicts:
    """Per recorded test: why it must run (absent: it need not)."""

    reasons: dict[str, str] = field(default_factory=dict)
    recorded: set[str] = field(default_factory=set)
    new_conftests: list[str] = field(default_factory=list)
    """Folders (relative, '' for the root) holding a conftest.py no test recorded."""
    unknown_py: list[str] = field(default_factory=list)
    """Python files under the root that no record names (a new test file, perhaps)."""
    env: str = ""
    """The environment fingerprint the comparison was made against."""
    missing_tests: int = 0
    """Recorded tests whose test file is not where the node id says (relative to root)."""
    new_names: list[str] = field(default_factory=list)
    """Test files (relative) with a top-level name no record saw: perhaps a new test, which
    only collecting the file can find."""

    def quiet(self, stats: Mapping[str, TestStats], unknown_unchanged: bool = False) -> bool:
        """Nothing can be affected, without collecting: every record is current, no test
        failed last time, no conftest.py is new, no test file moved, and no Python file is
        unknown (or, `unknown_unchanged`, none changed since a full collection found no
        test in them: scripts, docs, example files)."""
        return not (self.reasons or self.new_conftests or self.new_names
                    or (self.unknown_py and not unknown_unchanged)
                    or self.missing_tests or not self.recorded) and not any(
            (s := stats.get(t)) is not None and s.outcome in FAILING for t in self.recorded)

    def reason(self, nodeid: str, stats: Mapping[str, TestStats]) -> str | None:
        """The reason `nodeid` (collected now) must run, None when it is unaffected."""
        if nodeid not in self.recorded:
            return "unrecorded" if nodeid in stats else "new"
        for folder in self.new_conftests:
            if not folder or nodeid.startswith(folder + "/"):
                return f"config: {folder + '/' if folder else ''}conftest.py"
        prev = stats.get(nodeid)
        if prev is not None and prev.outcome in FAILING:
            return "failed-last"
        return self.reasons.get(nodeid)


def _current(root: Path, file: str, cache: dict[str, tuple[str, dict[str, str]]],
             fresh: list[tuple[str, str, dict[str, str]]]) -> dict[str, str] | None:
    """Block checksums of `file` as it is now (None when it is gone)."""
    try:
        data = (root / file).read_bytes()
    except OSError:
        return None
    h = digest(data)
    key = f"{BLOCKS_VERSION}:{h}"  # sums from another version of the cutting are recomputed
    hit = cache.get(file)
    if hit is not None and hit[0] == key:
        return hit[1]
    sums = dict(parse_blocks(data, file).checksums) if file.endswith(".py") else {}
    sums[DATA] = sums[WHOLE] = h
    fresh.append((file, key, sums))
    cache[file] = (key, sums)
    return sums


def _reason(file: str, name: str, gone: bool) -> str:
    suffix = " (deleted)" if gone else ""
    if name == DATA:
        return f"data: {file}{suffix}"
    if name == CONFIG:
        return f"config: {file}{suffix}"
    return f"changed: {file}::{name}{suffix}"


PRIORITY = {"config": 0, "changed": 1, "data": 2}


def verdicts(store: DepStore, root: Path, env: str) -> Verdicts:
    """Compare every recorded test's blocks with the files now; blocking (runs in a thread)."""
    key = str(root)
    tests = store.tests(key)
    blocks = store.blocks(key)
    cache = store.file_cache(key)
    fresh: list[tuple[str, str, dict[str, str]]] = []
    now: dict[str, dict[str, str] | None] = {}
    stale: dict[int, str] = {}
    names_seen: dict[str, set[str]] = {}
    """File -> its recorded `<names>` blocks; a file whose names now are none of them
    (and not fewer) gained a name since."""
    names_now: dict[str, str] = {}
    for bid, (file, name, checksum) in blocks.items():
        if file not in now:
            now[file] = _current(root, file, cache, fresh)
        sums = now[file]
        if sums is None:
            stale[bid] = _reason(file, name, True)
            continue
        if name == NAMES:  # only a name gone counts (a new one is no change)
            if not names_kept(checksum, sums.get(name)):
                stale[bid] = _reason(file, name, False)
            names_seen.setdefault(file, set()).add(checksum)
            names_now[file] = sums.get(name) or ""
            continue
        current = config_checksum(root / file) if name == CONFIG else sums.get(name)
        if current != checksum:
            stale[bid] = _reason(file, name, False)
    store.cache_files(key, fresh)
    out = Verdicts(recorded=set(tests), env=env)
    for nid, (test_env, ids) in tests.items():
        if test_env != env:
            out.reasons[nid] = "environment"
            continue
        found = [stale[b] for b in ids if b in stale]
        if found:
            out.reasons[nid] = min(found, key=lambda r: (PRIORITY.get(r.split(":")[0], 9), r))
    known = {f for f, n, _ in blocks.values() if n == CONFIG}
    py_files = python_files(root)
    folders = [str(PurePosixPath(c).parent) for c in py_files
               if PurePosixPath(c).name == "conftest.py" and c not in known]
    out.new_conftests = ["" if f == "." else f for f in folders]
    used: set[int] = set()
    for _, ids in tests.values():
        used.update(ids)
    # files some recorded test depends on (blocks outlive the tests dropped with a deleted
    # file: a test file put back is unknown again)
    named = {blocks[b][0] for b in used if b in blocks}
    out.unknown_py = [f for f in py_files if f not in named]
    test_files = {nid.split("::")[0] for nid in tests}
    out.new_names = sorted(f for f, now_names in names_now.items() if f in test_files
                           and now_names not in names_seen[f])
    out.missing_tests = sum(1 for nid in tests if not (root / nid.split("::")[0]).is_file())
    return out


def python_files(root: Path) -> list[str]:
    """Every .py file under the root (relative paths), skipping caches and venvs."""
    out: list[str] = []
    for here, dirs, files in os.walk(root):
        dirs[:] = [d for d in dirs if d not in SKIP_DIRS and not d.startswith(".")
                   and not (Path(here) / d / "pyvenv.cfg").exists()]
        rel = os.path.relpath(here, root).replace(os.sep, "/")
        out.extend(f if rel == "." else f"{rel}/{f}" for f in files if f.endswith(".py"))
    return out


def plan_phases(mode: str, ids: Sequence[str], verdict: Verdicts | None,
                stats: Mapping[str, TestStats], last_failed: bool = False,
                failed_first: bool = False) -> tuple[list[list[str]], dict[str, str]]:
    """(phases of node ids, run in order; reason per test) for a selection mode."""
    reasons: dict[str, str] = {}
    failing = [t for t in ids if (s := stats.get(t)) is not None and s.outcome in FAILING]
    if mode == "all" or verdict is None:
        for t in ids:
            reasons[t] = "all"
        if last_failed and failing:
            for t in failing:
                reasons[t] = "failed-last"
            return [failing], reasons
        if failed_first and failing:
            rest = [t for t in ids if t not in set(failing)]
            reasons.update({t: "failed-last" for t in failing})
            return [failing, rest], reasons
        return [list(ids)], reasons
    for t in ids:
        r = verdict.reason(t, stats)
        if r is not None:
            reasons[t] = r
    likely = [t for t in ids if reasons.get(t) == "failed-last"]
    other = [t for t in ids if t in reasons and reasons[t] != "failed-last"]
    if last_failed:
        return [likely], reasons
    if mode == "affected":
        return [p for p in (likely, other) if p], reasons
    rest = [t for t in ids if t not in reasons]
    reasons.update({t: "rest" for t in rest})
    return [p for p in (likely, other, rest) if p], reasons


def selected_count(phases: Iterable[Sequence[str]]) -> int:
    return sum(len(p) for p in phases)

