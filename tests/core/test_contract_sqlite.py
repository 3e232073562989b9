"""`PluginContext.sqlite` (schema versions, migrations, refusal of a newer schema) and
`PluginContext.atomic_write`."""

from __future__ import annotations

import logging
import os
import sqlite3
import threading
from pathlib import Path
from typing import Any

import pytest

from catalytic.daemon.store import SchemaTooNew
from catalytic.plugins.base import PluginContext

V1 = """
CREATE TABLE IF NOT EXISTS item (k TEXT PRIMARY KEY, v TEXT);
CREATE INDEX IF NOT EXISTS item_v ON item (v);
"""


def add_size(conn: sqlite3.Connection) -> None:
    conn.execute("ALTER TABLE item ADD COLUMN size INTEGER NOT NULL DEFAULT 0")
    conn.execute("UPDATE item SET size = length(v)")


def make_ctx(tmp_path: Path, durability: str = "normal") -> PluginContext:
    async def call(method: str, params: dict[str, Any]) -> Any:
        raise AssertionError("not used")

    state = tmp_path / "state"
    state.mkdir(exist_ok=True)
    return PluginContext(name="demo", config={}, state_dir=state, executor=None,  # type: ignore[arg-type]
                         metrics=None, log=logging.getLogger("test"), call=call,
                         durability=durability)


def version(path: Path) -> int:
    with sqlite3.connect(path) as conn:
        return int(conn.execute("PRAGMA user_version").fetchone()[0])


def test_fresh_database_gets_every_migration(tmp_path: Path) -> None:
    ctx = make_ctx(tmp_path)
    db = ctx.sqlite("demo.sqlite3", [V1, add_size])
    assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert db.execute("PRAGMA synchronous").fetchone()[0] == 1  # NORMAL
    db.execute("INSERT INTO item VALUES ('a', 'xyz', 3)")
    db.close()
    assert version(ctx.state_dir / "demo.sqlite3") == 2


def test_durability_full_and_explicit_level(tmp_path: Path) -> None:
    full = make_ctx(tmp_path, "full").sqlite("a.sqlite3", [V1])
    assert full.execute("PRAGMA synchronous").fetchone()[0] == 2
    forced = make_ctx(tmp_path).sqlite("b.sqlite3", [V1], synchronous="FULL")
    assert forced.execute("PRAGMA synchronous").fetchone()[0] == 2
    with pytest.raises(ValueError):
        make_ctx(tmp_path).sqlite("c.sqlite3", [V1], synchronous="NORMAL; DROP TABLE x")


def test_previous_release_database_is_adopted(tmp_path: Path) -> None:
    """A database made before schema versions: user_version 0, tables already there."""
    ctx = make_ctx(tmp_path)
    path = ctx.state_dir / "old.sqlite3"
    with sqlite3.connect(path) as old:
        old.executescript("CREATE TABLE item (k TEXT PRIMARY KEY, v TEXT);"
                          "INSERT INTO item VALUES ('kept', 'hello');")
    db = ctx.sqlite("old.sqlite3", [V1, add_size])
    assert db.execute("SELECT k, v, size FROM item").fetchall() == [("kept", "hello", 5)]
    db.close()
    assert version(path) == 2


def test_only_pending_migrations_run(tmp_path: Path) -> None:
    ctx = make_ctx(tmp_path)
    ctx.sqlite("x.sqlite3", [V1]).close()
    ran: list[int] = []

    def second(conn: sqlite3.Connection) -> None:
        ran.append(2)
        conn.execute("CREATE TABLE extra (x)")

    ctx.sqlite("x.sqlite3", [V1, second]).close()
    ctx.sqlite("x.sqlite3", [V1, second]).close()
    assert ran == [2]
    assert version(ctx.state_dir / "x.sqlite3") == 2


def test_failed_migration_rolls_back_that_step(tmp_path: Path) -> None:
    ctx = make_ctx(tmp_path)

    def broken(conn: sqlite3.Connection) -> None:
        conn.execute("CREATE TABLE half (x)")
        raise RuntimeError("bad step")

    with pytest.raises(RuntimeError, match="bad step"):
        ctx.sqlite("y.sqlite3", [V1, broken])
    path = ctx.state_dir / "y.sqlite3"
    assert version(path) == 1
    with sqlite3.connect(path) as conn:
        names = {r[0] for r in conn.execute("SELECT name FROM sqlite_master")}
    assert "half" not in names and "item" in names
    with pytest.raises(sqlite3.OperationalError):  # a broken SQL step rolls back too
        ctx.sqlite("y.sqlite3", [V1, "CREATE TABLE t2 (x); INSERT INTO nowhere VALUES (1);"])
    assert version(path) == 1


def test_newer_schema_is_refused_naming_file_and_versions(tmp_path: Path) -> None:
    ctx = make_ctx(tmp_path)
    ctx.sqlite("z.sqlite3", [V1, add_size, "CREATE TABLE t3 (x)"]).close()
    with pytest.raises(SchemaTooNew) as err:
        ctx.sqlite("z.sqlite3", [V1])
    text = str(err.value)
    assert "z.sqlite3" in text and "version 3" in text and "1 this version" in text
    assert version(ctx.state_dir / "z.sqlite3") == 3


def test_concurrent_openers_apply_each_step_once(tmp_path: Path) -> None:
    ctx = make_ctx(tmp_path)
    count: list[int] = []
    lock = threading.Lock()

    def counted(conn: sqlite3.Connection) -> None:
        with lock:
            count.append(1)
        conn.execute("CREATE TABLE once (x)")

    errors: list[BaseException] = []

    def opener() -> None:
        try:
            ctx.sqlite("c.sqlite3", [V1, counted]).close()
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=opener) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors and count == [1]


def test_store_name_must_be_plain(tmp_path: Path) -> None:
    ctx = make_ctx(tmp_path)
    for bad in ("../escape.sqlite3", "a/b.sqlite3", "", ".."):
        with pytest.raises(ValueError):
            ctx.sqlite(bad, [V1])


def test_atomic_write_replaces_and_leaves_no_temp(tmp_path: Path) -> None:
    ctx = make_ctx(tmp_path)
    target = ctx.state_dir / "blob.bin"
    ctx.atomic_write(target, b"one")
    ctx.atomic_write(target, b"two" * 1000)
    assert target.read_bytes() == b"two" * 1000
    assert sorted(p.name for p in ctx.state_dir.iterdir()) == ["blob.bin"]
    assert (target.stat().st_mode & 0o777) == 0o600


def test_atomic_write_failure_keeps_old_content(tmp_path: Path) -> None:
    ctx = make_ctx(tmp_path)
    target = ctx.state_dir / "keep.bin"
    ctx.atomic_write(target, b"old")
    with pytest.raises(TypeError):
        ctx.atomic_write(target, "not bytes")  # type: ignore[arg-type]
    assert target.read_bytes() == b"old"
    assert sorted(p.name for p in ctx.state_dir.iterdir()) == ["keep.bin"]


def test_atomic_write_unique_temp_names_under_threads(tmp_path: Path) -> None:
    ctx = make_ctx(tmp_path)
    target = ctx.state_dir / "race.bin"
    payloads = [bytes([i]) * 50_000 for i in range(8)]
    threads = [threading.Thread(target=ctx.atomic_write, args=(target, p)) for p in payloads]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert target.read_bytes() in payloads  # one whole payload, never a mix
    assert os.listdir(ctx.state_dir) == ["race.bin"]
