"""Answers in proportion to the change, over a real daemon: revision, since, changes,
prd.tasks, the client's TaskMirror, and a store that keeps up across edits and restarts."""

from __future__ import annotations

import asyncio
import itertools
import re
from pathlib import Path
from typing import Any

import pytest

from catalytic.client import AsyncClient, TaskMirror
from catalytic.client.errors import RpcError

DATA = Path(__file__).resolve().parents[1] / "data" / "prd"
SAMPLE = (DATA / "taskmaster__tests_fixtures_sample-prd.txt").read_text()
REFS = itertools.count()
EDITS = [
    SAMPLE.replace("Short URL Display", "Short URL Display Panel"),  # one item renamed
    SAMPLE.replace("Short URL Display", "Short URL Display Panel")
    + "\n# Extra\n- One more thing\n- And another, depends on [one more thing]\n",
    SAMPLE.replace("# Logical Dependency Chain", "# Build Order"),  # a heading renamed
    "# Intro\n\nSome words.\n\n- A first task\n\n" + SAMPLE,  # everything shifts down
    SAMPLE,
]


@pytest.fixture
def prd_daemon(make_daemon, tmp_path):
    return make_daemon({"daemon": {"plugins": ["prd"], "workers": 2},
                        "prd": {"allowed_roots": [str(tmp_path)], "max_bytes": 200_000}})


def by_id(tasks: Any) -> dict[str, dict[str, Any]]:
    return {t["id"]: t for t in tasks}


def plain(tasks: dict[str, dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """Tasks without their status (compared against a fresh decomposition's)."""
    return {tid: {k: v for k, v in t.items() if k != "status"} for tid, t in tasks.items()}


def fresh(c: Any, text: str) -> dict[str, dict[str, Any]]:
    """The tasks a decomposition of `text` under a new name gives (the reference)."""
    name = f"ref-{next(REFS)}"
    return plain(by_id(c.call("prd.decompose", text=text, document=name)["tasks"]))


def test_since_gives_only_changes_and_a_stale_since_the_whole_list(prd_daemon) -> None:
    with prd_daemon.client() as c:
        first = c.call("prd.decompose", text=SAMPLE, document="d")
        rev = first["revision"]
        assert isinstance(rev, str) and rev and first["since_current"] is False
        assert {t["id"] for t in first["changes"]["added"]} == {t["id"] for t in first["tasks"]}
        assert all(set(t) == {"id"} for t in first["changes"]["added"])  # tasks not sent twice

        edited = EDITS[0]
        delta = c.call("prd.decompose", text=edited, document="d", since=rev)
        assert "tasks" not in delta and delta["since_current"] is True
        assert delta["revision"] != rev
        ch = delta["changes"]
        assert [t["title"] for t in ch["added"]] == ["Short URL Display Panel"]
        assert ch["removed"] == ["core-features/short-url-display"]
        assert all("status" in t and "checked" not in t for t in ch["added"] + ch["changed"])
        assert delta["stats"]["sections_recomputed"] == 1

        # the same text again: same revision, nothing changed
        again = c.call("prd.decompose", text=edited, document="d", since=delta["revision"])
        assert again["revision"] == delta["revision"] and "tasks" not in again
        assert again["changes"] == {"added": [], "changed": [], "removed": []}

        # a stale revision, garbage, another document's revision: the whole list, flagged,
        # with the changes relative to what was stored
        other = c.call("prd.decompose", text=SAMPLE, document="other")["revision"]
        for since in (rev, "not-a-revision", other, ""):
            text = EDITS[1] if since == rev else edited
            r = c.call("prd.decompose", text=text, document="d", since=since)
            assert r["since_current"] is False and r["tasks"], since
            assert plain(by_id(r["tasks"])) == fresh(c, text)
            if since == rev:
                added = [t["id"] for t in r["changes"]["added"]]
                assert len(added) == 3 and all(a.startswith("extra") for a in added)
            elif since == "not-a-revision":  # back from EDITS[1]: the extras go
                assert len(r["changes"]["removed"]) == 3 and not r["changes"]["added"]
            else:  # the stored text again
                assert r["changes"] == {"added": [], "changed": [], "removed": []}


def test_mirror_follows_edits_including_a_stale_since(prd_daemon) -> None:
    with prd_daemon.client() as c, prd_daemon.client() as other:
        mirror = TaskMirror("m")
        mirror.decompose(c, SAMPLE)
        assert mirror.last["whole"] == 1 and len(mirror) == len(fresh(c, SAMPLE))
        c.call("prd.status", document="m", id="core-features/url-redirection", status="done")
        for k, text in enumerate(EDITS):
            if k == 2:  # someone else edits meanwhile: our revision goes stale
                other.call("prd.decompose", text=EDITS[0] + "\n# Theirs\n- x\n", document="m")
            answer = mirror.decompose(c, text)
            assert mirror.last["whole"] == (1 if k == 2 else 0), k
            assert answer["since_current"] is (k != 2)
            want = fresh(c, text)
            assert plain(mirror.tasks) == want, k
            # status carried across edits
            assert mirror.tasks["core-features/url-redirection"]["status"] == "done"
            assert [t["id"] for t in mirror.ordered()] == list(want)
        # the mirror matches what the daemon stores, page by page
        copy = TaskMirror("m")
        assert copy.refresh(c) == mirror.revision
        assert copy.tasks == mirror.tasks


async def test_async_mirror_and_task_pages(prd_daemon) -> None:
    async with AsyncClient(prd_daemon.socket) as c:
        mirror = TaskMirror("a")
        await mirror.decompose_async(c, SAMPLE)
        await mirror.decompose_async(c, EDITS[1])
        assert mirror.last == {"added": 3, "changed": 0, "removed": 0, "whole": 0} or \
            mirror.last["added"] >= 3
        page = await c.call("prd.tasks", document="a", offset=5, limit=7)
        assert page["revision"] == mirror.revision and len(page["tasks"]) == 7
        assert page["total"] == len(mirror)
        assert [t["id"] for t in page["tasks"]] == [t["id"] for t in mirror.ordered()[5:12]]
        picked = await c.call("prd.tasks", document="a", ids=["extra", "nope"])
        assert [t["id"] for t in picked["tasks"]] == ["extra"] and picked["missing"] == ["nope"]
        copy = TaskMirror("a")
        await copy.refresh_async(c)
        assert copy.tasks == mirror.tasks
        with pytest.raises(RpcError) as e:
            await c.call("prd.tasks", document="never")
        assert e.value.code == -33002
        with pytest.raises(RpcError) as e:
            await c.call("prd.tasks", document="a", ids=[1, 2])
        assert e.value.code == -32602


def test_stored_rows_follow_every_edit_and_survive_a_restart(prd_daemon) -> None:
    with prd_daemon.client() as c:
        mirror = TaskMirror("s")
        for text in [SAMPLE, *EDITS, EDITS[3], EDITS[1]]:
            mirror.decompose(c, text)
        extra = next(t["id"] for t in mirror.tasks.values() if t["title"] == "One more thing")
        c.call("prd.status", document="s", id=extra, status="in-progress")
    prd_daemon.restart()
    with prd_daemon.client() as c:
        stored = c.call("prd.tasks", document="s", limit=100_000)
        assert stored["revision"] == mirror.revision
        assert [t["id"] for t in stored["tasks"]] == [t["id"] for t in mirror.ordered()]
        want = fresh(c, EDITS[1])
        assert plain(by_id(stored["tasks"])) == want
        assert by_id(stored["tasks"])[extra]["status"] == "in-progress"
        # the revision is still current after the restart: an edit answers with changes
        r = mirror.decompose(c, EDITS[0])
        assert r["since_current"] is True and "tasks" not in r
        removed = r["changes"]["removed"]
        assert r["changes"]["added"] == [] and len(removed) == 3
        assert all(x.startswith("extra") for x in removed)
        assert plain(mirror.tasks) == fresh(c, EDITS[0])


def test_cycles_follow_edits(prd_daemon) -> None:
    base = ("## Work\n\n- Alpha task, depends on [beta]\n- beta: second step\n"
            "- gamma: third step\n- delta: fourth step\n")
    closed = base.replace("- beta: second step", "- beta: second step, requires [gamma]") \
        .replace("- gamma: third step", "- gamma: third step, blocked by [alpha task]")
    texts = [base, closed, closed.replace("Alpha task", "Alpha task renamed"),
             closed.replace(", blocked by [alpha task]", ""), closed,
             closed.replace("- delta: fourth step", "- delta: fourth step, after [gamma]"),
             base]

    def cycles(answer: dict[str, Any]) -> set[frozenset[str]]:
        return {frozenset(x["id"] for x in comp) for comp in answer["problems"]["cycles"]}

    with prd_daemon.client() as c:
        m = TaskMirror("c")
        seen = []
        for k, text in enumerate(texts):
            r = m.decompose(c, text)
            assert r["since_current"] is (k > 0)
            ref = c.call("prd.decompose", text=text, document=f"cycles-{k}")
            assert cycles(r) == cycles(ref), k
            seen.append(len(r["problems"]["cycles"]))
        assert seen[0] == 0 and seen[1] == 1 and seen[3] == 0 and seen[-1] == 0


def test_bad_input_keeps_the_daemon_up(make_daemon, tmp_path) -> None:
    d = make_daemon({"daemon": {"plugins": ["prd"]},
                     "prd": {"allowed_roots": [str(tmp_path)]}})
    (tmp_path / "huge.md").write_bytes(b"- an item\n" * 5_000_000)  # 50 MB
    with d.client(timeout=120) as c:
        with pytest.raises(RpcError) as e:
            c.call("prd.decompose", text="- an item\n" * 5_000_000, document="huge")
        assert e.value.code == -32004 and "prd.max_bytes" in e.value.message
        with pytest.raises(RpcError) as e:
            c.call("prd.decompose", path=str(tmp_path / "huge.md"))
        assert e.value.code == -32004 and "prd.max_bytes" in e.value.message
        with pytest.raises(RpcError) as e:
            c.call("prd.decompose", path=str(tmp_path / "a\x00b.md"))
        assert e.value.code == -32602
        with pytest.raises(RpcError) as e:
            c.call("prd.decompose", path="relative.md")
        assert e.value.code == -32602
        with pytest.raises(RpcError) as e:
            c.call("prd.decompose", path=str(tmp_path.parent / "elsewhere.md"))
        assert e.value.code == -32003 and "prd.allowed_roots" in e.value.message
        with pytest.raises(RpcError) as e:
            c.call("prd.decompose", text="- x\n", since=5)
        assert e.value.code == -32602
        assert c.call("system.ping") is not None
        assert c.call("prd.decompose", text="- x\n", document="ok")["tasks"]


def big_document(areas: int) -> str:
    out = ["# Big\n"]
    for a in range(areas):
        out.append(f"## Area {a}\n\nArea {a} MUST work.\n")
        for f in range(10):
            out.append(f"### Feature {a}.{f}\n")
            out += [f"- FR-{a}-{f}-{i} Build step {i} of feature {a}.{f}" for i in range(10)]
            out.append("")
    return "\n".join(out)


async def test_cancelling_a_large_decompose_frees_the_next_one(make_daemon) -> None:
    d = make_daemon({"daemon": {"plugins": ["prd"], "workers": 2},
                     "prd": {"max_bytes": 64 << 20, "parallel_min_sections": 16}})
    text = big_document(1000)  # about 110k tasks: a minute of work on a busy machine
    async with AsyncClient(d.socket, timeout=300) as c:
        started = asyncio.Event()

        def seen(*_: Any) -> None:
            started.set()

        first = asyncio.ensure_future(c.call("prd.decompose", text=text, document="big",
                                             progress=seen))
        await asyncio.wait_for(started.wait(), 120)
        await asyncio.sleep(0.5)
        first.cancel()
        loop = asyncio.get_running_loop()
        t0 = loop.time()
        r = await c.call("prd.decompose", text="# Small\n- one\n- two\n", document="big")
        waited = loop.time() - t0
        assert [t["title"] for t in r["tasks"]][-2:] == ["one", "two"]
        assert waited < 20, f"the next call waited {waited:.1f} s for a cancelled one"
        stats = await c.call("system.stats")
        assert first.cancelled()
        ex = stats.get("executor") or {}
        if "cancelled" in ex:  # the local pool counts its jobs
            assert ex["cancelled"] >= 1 and ex["completed"] == 0


def test_cli_prints_the_change_summary(prd_daemon, tmp_path) -> None:
    import subprocess
    import sys

    def cli(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "catalytic.client.cli", "--socket",
                               str(prd_daemon.socket), "--no-autostart", *args],
                              capture_output=True, text=True, env=prd_daemon.env)

    doc = tmp_path / "prd.md"
    doc.write_text(SAMPLE)
    out = cli("prd", "decompose", str(doc), "-d", "cli")
    assert out.returncode == 0, out.stderr
    assert "added, 0 changed, 0 removed" in out.stdout
    doc.write_text(EDITS[1])
    out = cli("prd", "decompose", str(doc), "-d", "cli")
    assert out.returncode == 0, out.stderr
    assert re.search(r"4 added, \d+ changed, 1 removed", out.stdout), out.stdout
    assert "- core-features/short-url-display" in out.stdout and "+ extra" in out.stdout
    out = cli("prd", "decompose", str(doc), "-d", "cli")
    assert "no task changed" in out.stdout
