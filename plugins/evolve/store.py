"""Durable studies in SQLite (WAL): a checkpoint per generation plus a journal of calls.

Every `ask` and `tell` is appended to the journal before it is acknowledged;
when a generation completes the whole study is checkpointed and its journal
truncated in the same transaction. Loading replays the journal on top of the
checkpoint, which gives back exactly the acknowledged state because `StudyState`
is deterministic. Checkpoints are pickles: they never leave the plugin's own
0700 state directory and are only ever read back by this module.
"""

from __future__ import annotations

import io
import pickle
import sqlite3
import time
from collections.abc import Iterator
from typing import Any

import msgpack

from catalytic.plugins.evolve.engine import StudyState

SCHEMA_1 = """
CREATE TABLE IF NOT EXISTS studies (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    created REAL NOT NULL,
    updated REAL NOT NULL,
    seq INTEGER NOT NULL,
    spec BLOB NOT NULL,
    checkpoint BLOB NOT NULL
);
CREATE TABLE IF NOT EXISTS journal (
    study TEXT NOT NULL REFERENCES studies(id) ON DELETE CASCADE,
    seq INTEGER NOT NULL,
    op BLOB NOT NULL,
    PRIMARY KEY (study, seq)
);
"""
MIGRATIONS = (SCHEMA_1,)
"""Schema versions of `evolve.sqlite3` (`ctx.sqlite`); version 1 is the 0.1.0 schema, so a
database of that release is adopted as it is."""


def apply_op(study: StudyState, op: list[Any]) -> Any:
    """Re-run one journaled call on a study (the same code path as the live call)."""
    kind = op[0]
    if kind == "ask":
        out: Any = study.ask(int(op[1]))
    elif kind == "tell":
        out = study.tell(study.check(op[1]))
    else:
        raise ValueError(f"journal: unknown operation {kind!r}")
    study.seq += 1
    return out


class _CheckpointUnpickler(pickle.Unpickler):
    """Reads checkpoints written before `engine.Study` was renamed `StudyState`."""

    def find_class(self, module: str, name: str) -> Any:
        if module == "catalytic.plugins.evolve.engine" and name == "Study":
            name = "StudyState"
        return super().find_class(module, name)


def dump(study: StudyState) -> bytes:
    """The checkpoint of a study; call it where the study cannot change meanwhile."""
    return pickle.dumps(study, protocol=pickle.HIGHEST_PROTOCOL)


class StudyStore:
    """The `evolve.sqlite3` database, opened by `ctx.sqlite` with `MIGRATIONS`; used from
    the plugin's one writer thread."""

    def __init__(self, db: sqlite3.Connection) -> None:
        self.db = db
        self.db.execute("PRAGMA foreign_keys=ON")

    def close(self) -> None:
        self.db.close()

    def create(self, study_id: str, name: str, spec: dict[str, Any], blob: bytes) -> None:
        now = time.time()
        self.db.execute("INSERT INTO studies VALUES (?, ?, ?, ?, 0, ?, ?)",
                        (study_id, name, now, now, msgpack.packb(spec), blob))

    def journal(self, study_id: str, seq: int, op: list[Any]) -> None:
        """Append one call (the study's `seq` after applying it) before it is answered."""
        self.db.execute("INSERT INTO journal VALUES (?, ?, ?)",
                        (study_id, seq, msgpack.packb(op, use_bin_type=True)))

    def checkpoint(self, study_id: str, blob: bytes, seq: int) -> None:
        """Save a study's checkpoint (taken at `seq`) and drop the journal it contains."""
        with self.db:
            self.db.execute("BEGIN")
            self.db.execute("UPDATE studies SET checkpoint=?, seq=?, updated=? WHERE id=?",
                            (blob, seq, time.time(), study_id))
            self.db.execute("DELETE FROM journal WHERE study=? AND seq<=?", (study_id, seq))

    def delete(self, study_id: str) -> bool:
        cur = self.db.execute("DELETE FROM studies WHERE id=?", (study_id,))
        return cur.rowcount > 0

    def ids(self) -> list[str]:
        return [r[0] for r in self.db.execute("SELECT id FROM studies ORDER BY created")]

    def specs(self) -> dict[str, dict[str, Any]]:
        """Every study's spec (as `StudySpec.to_map()` gave it), oldest first."""
        return {r[0]: msgpack.unpackb(r[1], raw=False) for r in self.db.execute(
            "SELECT id, spec FROM studies ORDER BY created")}

    def load(self, study_id: str) -> StudyState:
        """The study as last acknowledged: checkpoint, then the journal replayed."""
        row = self.db.execute("SELECT checkpoint FROM studies WHERE id=?",
                              (study_id,)).fetchone()
        if row is None:
            raise KeyError(study_id)
        study: StudyState = _CheckpointUnpickler(io.BytesIO(row[0])).load()
        for op_seq, op in self._ops(study_id, study.seq):
            if op_seq != study.seq + 1:
                raise ValueError(f"study {study_id}: journal gap at {study.seq + 1}")
            apply_op(study, msgpack.unpackb(op, raw=False))
        return study

    def _ops(self, study_id: str, after: int) -> Iterator[tuple[int, bytes]]:
        yield from self.db.execute(
            "SELECT seq, op FROM journal WHERE study=? AND seq>? ORDER BY seq", (study_id, after))

    def summaries(self) -> list[dict[str, Any]]:
        return [{"study": r[0], "name": r[1], "created": r[2], "updated": r[3]}
                for r in self.db.execute(
                    "SELECT id, name, created, updated FROM studies ORDER BY created")]
