"""Random edit sequences: a mirror fed only `changes` equals a cold decomposition after
every edit, and the rows the store wrote by change equal the whole task list."""

from __future__ import annotations

import random
from pathlib import Path
from typing import Any

from catalytic.client.mirror import TaskMirror
from catalytic.plugins.prd.engine import decompose
from catalytic.plugins.prd.graph import cycles, edges
from catalytic.plugins.prd.rules import RuleDecomposer
from catalytic.plugins.prd.service import PrdService


def document(rng: random.Random) -> list[str]:
    lines = ["# Product", ""]
    for a in range(4):
        lines += [f"## Area {a}", "", f"Area {a} MUST work.", ""]
        for f in range(3):
            lines += [f"### Feature {a}.{f}", ""]
            lines += [f"- FR-{a}{f}{i} Build part {i} of feature {a}.{f}" for i in range(4)]
            lines.append("")
    return lines


def edit(rng: random.Random, lines: list[str], k: int) -> list[str]:
    out = list(lines)
    bullets = [i for i, line in enumerate(out) if line.startswith("- ")]
    heads = [i for i, line in enumerate(out) if line.startswith("### ")]
    roll = rng.random()
    if roll < 0.3:  # reword a bullet
        i = rng.choice(bullets)
        out[i] = out[i] + f" now {k}"
    elif roll < 0.45:  # a new bullet, maybe depending on another requirement
        i = rng.choice(bullets)
        dep = rng.choice([out[j].split()[1] for j in bullets])
        out.insert(i + 1, f"- FR-9{k} Extra step {k}, depends on {dep}")
    elif roll < 0.6 and len(bullets) > 4:  # a bullet goes
        del out[rng.choice(bullets)]
    elif roll < 0.7:  # a heading renamed
        i = rng.choice(heads)
        out[i] = out[i] + f" v{k}"
    elif roll < 0.8:  # a line of prose near the top moves everything down
        out.insert(3, f"Note {k}.")
    elif roll < 0.85:  # a bullet's dependency added
        i = rng.choice(bullets)
        dep = rng.choice([out[j].split()[1] for j in bullets])
        out[i] = out[i] + f", requires {dep}"
    elif roll < 0.92:  # two bullets wait for each other: a cycle
        i, j = rng.sample(bullets, 2)
        out[i], out[j] = (out[i] + f", requires {out[j].split()[1]}",
                          out[j] + f", requires {out[i].split()[1]}")
    else:  # a whole feature moved to the end
        i = rng.choice(heads)
        end = i + 1
        while end < len(out) and not out[end].startswith("#"):
            end += 1
        out = out[:i] + out[end:] + out[i:end]
    return out


def plain(tasks: Any) -> dict[str, dict[str, Any]]:
    return {t["id"]: {k: v for k, v in t.items() if k not in ("status", "checked")}
            for t in tasks}


def test_mirror_and_stored_rows_follow_random_edits(tmp_path: Path) -> None:
    rng = random.Random(16)
    svc = PrdService(tmp_path, RuleDecomposer(), 1 << 26)
    mirror = TaskMirror("r")
    lines = document(rng)
    whole = with_cycles = 0
    for k in range(60):
        text = "\n".join(lines) + "\n"
        answer = svc.decompose("r", text, since=mirror.revision)
        mirror.apply(answer)
        whole += "tasks" in answer
        cold = decompose(text, RuleDecomposer()).tasks
        assert plain(mirror.tasks.values()) == plain(cold), k
        stored = svc.store.load_document("r")
        assert stored is not None and stored[0] == mirror.revision
        assert [t["id"] for t in stored[2]] == [t["id"] for t in cold], k
        assert plain(stored[2]) == plain(cold), k
        found = {frozenset(x["id"] for x in c) for c in answer["problems"]["cycles"]}
        assert found == {frozenset(c) for c in cycles(edges(cold))}, k
        with_cycles += bool(found)
        lines = edit(rng, lines, k)
    assert whole == 1  # only the first answer carried the whole list
    assert with_cycles  # the edits did close (and open) some cycles
    svc.close()
