"""prd over a real daemon: decompose, incremental re-run, status, next, export, errors, restart."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from catalytic.client.errors import Forbidden, RpcError, TooLarge
from catalytic.plugins.prd.engine import decompose
from catalytic.plugins.prd.rules import RuleDecomposer

DATA = Path(__file__).resolve().parents[1] / "data" / "prd"
SAMPLE = (DATA / "taskmaster__tests_fixtures_sample-prd.txt").read_text()


@pytest.fixture
def prd_daemon(make_daemon, tmp_path):
    return make_daemon({"daemon": {"plugins": ["prd"], "workers": 2},
                        "prd": {"allowed_roots": [str(tmp_path)], "max_bytes": 200_000}})


def test_decompose_incremental_status_next_export(prd_daemon) -> None:
    with prd_daemon.client() as c:
        first = c.call("prd.decompose", text=SAMPLE, document="url")
        assert first["document"] == "url"
        t = next(x for x in first["tasks"] if x["title"] == "URL Redirection")
        assert set(t) >= {"id", "title", "description", "parent", "lines", "dependencies",
                          "priority", "kind", "complexity"}
        assert t["parent"] == "core-features" and t["lines"][0] >= 1
        assert first["stats"]["sections_recomputed"] == first["stats"]["sections_total"]
        edited = SAMPLE.replace("Short URL Display", "Short URL Display Panel")
        second = c.call("prd.decompose", text=edited, document="url")
        assert second["stats"]["sections_recomputed"] == 1
        assert second["stats"]["sections_reused"] == second["stats"]["sections_total"] - 1
        c.call("prd.status", document="url", id=t["id"], status="done")
        third = c.call("prd.decompose", text=edited + "\n# More\n- x\n", document="url")
        assert next(x for x in third["tasks"] if x["id"] == t["id"])["status"] == "done"
        nxt = c.call("prd.next", document="url")["tasks"]
        assert nxt and nxt[0]["id"] != t["id"]
        graph = c.call("prd.graph", document="url")
        assert graph["valid"] and graph["critical_path"]
        tm = json.loads(c.call("prd.export", document="url", format="taskmaster")["content"])
        assert tm["master"]["tasks"]
        md = c.call("prd.export", document="url", format="md")["content"]
        assert "- [x] URL Redirection" in md
        d = c.call("prd.diff", old=SAMPLE, new=edited)
        assert d["summary"]["added"] == 1 and d["summary"]["removed"] == 1


def test_paths_sizes_and_bad_documents(prd_daemon, tmp_path) -> None:
    good = tmp_path / "prd.md"
    good.write_text(SAMPLE)
    (tmp_path / "big.md").write_text("- item\n" * 40_000)
    (tmp_path / "bin.dat").write_bytes(b"\x00\x01\x02" * 100)
    (tmp_path / "latin.md").write_bytes(b"# T\n\n- caf\xe9 menu\n")
    with prd_daemon.client() as c:
        r = c.call("prd.decompose", path=str(good))
        assert r["document"] == str(good.resolve()) and r["tasks"]
        with pytest.raises(Forbidden):
            c.call("prd.decompose", path="/etc/hostname")
        with pytest.raises(TooLarge):
            c.call("prd.decompose", path=str(tmp_path / "big.md"))
        with pytest.raises(TooLarge):
            c.call("prd.decompose", text="x" * 300_000)
        with pytest.raises(RpcError) as e:
            c.call("prd.decompose", path=str(tmp_path / "bin.dat"))
        assert e.value.code == -33001
        r = c.call("prd.decompose", path=str(tmp_path / "latin.md"))
        assert "invalid UTF-8" in r["warnings"][0] and r["tasks"]
        r = c.call("prd.decompose", text="", document="empty")
        assert r["tasks"] == [] and "empty" in r["warnings"][0]
        r = c.call("prd.decompose", text="```\n# x\n```\n", document="code")
        assert r["tasks"] == [] and "no tasks" in r["warnings"][-1]
        cyc = c.call("prd.decompose", document="cyc",
                     text="- a task, depends on [b task]\n- b task, after [a task]\n"
                          "- c task, depends on FR-9\n")
        assert cyc["problems"]["cycles"] and cyc["problems"]["missing"][0]["ref"] == "FR-9"
        with pytest.raises(RpcError) as e:
            c.call("prd.graph", document="nope")
        assert e.value.code == -33002
        with pytest.raises(RpcError) as e:
            c.call("prd.status", document="cyc", id="nope", status="done")
        assert e.value.code == -33003
        assert c.call("system.ping", payload=1) is not None


def test_memo_and_status_survive_restart(prd_daemon) -> None:
    with prd_daemon.client() as c:
        r = c.call("prd.decompose", text=SAMPLE, document="a")
        tid = r["tasks"][3]["id"]
        c.call("prd.status", document="a", id=tid, status="in-progress")
    prd_daemon.restart()
    with prd_daemon.client() as c:
        r = c.call("prd.decompose", text=SAMPLE, document="b")
        assert r["stats"]["sections_recomputed"] == 0
        assert r["stats"]["sections_reused"] == r["stats"]["sections_total"]
        assert c.call("prd.status", document="a", id=tid)["status"] == "in-progress"


def test_large_document_uses_the_pool_and_matches_sequential(prd_daemon) -> None:
    parts = []
    for s in range(300):
        parts.append(f"## Area {s}\n\n- Task {s} A MUST run\n"
                     f"- Task {s} B, depends on [task {s} a]\n")
    text = "\n".join(parts)
    with prd_daemon.client() as c:
        par = c.call("prd.decompose", text=text, document="p1", parallel=True)
    assert par["stats"]["sections_recomputed"] >= 300
    seq = decompose(text, RuleDecomposer()).tasks
    for t in seq:
        t.pop("checked")
    assert [{k: v for k, v in t.items() if k != "status"} for t in par["tasks"]] == seq
