"""Mutant parity: after any mutation, `affected` reports every failure a full run reports."""

from __future__ import annotations

from pathlib import Path

from mutants import mutate, sample, serial_failures
from projects import copy_affected, failing, run
from suites import config

from catalytic.client.errors import RpcError

MUTANTS = 12


def test_affected_misses_no_failure_of_a_full_run(make_daemon, tmp_path: Path) -> None:
    root = copy_affected(tmp_path)
    files = sorted((root / "mylib").rglob("*.py"))
    d = make_daemon(config(tmp_path, record="inline"))
    misses, checked, killed = [], 0, 0
    with d.client() as c:
        run(c, root)
        for path, which in sample(files, MUTANTS, seed=3):
            original = path.read_text()
            what, mutated = mutate(original, which)
            path.write_text(mutated)
            try:
                try:
                    got = failing(run(c, root))
                except RpcError as exc:  # collection broke: a failure either way
                    got = {f"<{exc.code}>"}
                full = serial_failures(root)
                checked += 1
                killed += bool(full)
                if (full and not got) or not {f for f in full if not f.startswith("<")} <= got:
                    misses.append((str(path.relative_to(root)), what, sorted(full), sorted(got)))
            finally:
                path.write_text(original)
                try:
                    run(c, root)  # back to the original: re-runs what the mutant touched
                except RpcError:
                    pass
    assert checked == MUTANTS
    assert killed >= MUTANTS // 3, "the mutants should break some tests"
    assert not misses, misses
