"""Task IDs are unique in every answer, also after an edit (hypothesis over generated documents).

Documents are drawn from a small vocabulary so that duplicate headings,
duplicate list items, titles that look like numbered duplicates ("Setup 2"
next to two "Setup"), tables of contents, deep nesting, plain-text outlines and
dependency lines all occur. After a random line edit the warm (memo + assembly
cache) answer must still have unique IDs and equal a cold decomposition.
"""

from __future__ import annotations

from collections import Counter

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from catalytic.plugins.prd.assemble import AssemblyCache
from catalytic.plugins.prd.engine import decompose
from catalytic.plugins.prd.memo import Memo
from catalytic.plugins.prd.rules import RuleDecomposer

WORDS = ["Setup", "Setup 2", "Setup-2", "Tasks", "Overview", "Item", "Item 2", "Build the API",
         "Build the API 2", "FR-1", "FR-1 Build", "T001", "1.2", "Notes", "Epic A: Core"]
"""Titles chosen to collide: with each other, with numbered duplicates and with headings."""


def _title(draw: st.DrawFn) -> str:
    return draw(st.sampled_from(WORDS))


@st.composite
def list_block(draw: st.DrawFn, depth: int = 0) -> list[str]:
    out: list[str] = []
    marker = draw(st.sampled_from(["- ", "* ", "1. ", "- [ ] ", "- [x] "]))
    for _ in range(draw(st.integers(1, 4))):
        text = _title(draw)
        if draw(st.booleans()):
            text += f" depends on {_title(draw)}"
        out.append("  " * depth + marker + text)
        if depth < 4 and draw(st.integers(0, 3)) == 0:
            out += draw(list_block(depth + 1))
        if draw(st.integers(0, 5)) == 0:
            out.append("  " * (depth + 1) + f"- Requires: {_title(draw)}")
    return out


@st.composite
def markdown(draw: st.DrawFn) -> str:
    lines: list[str] = []
    heads: list[str] = []
    for _ in range(draw(st.integers(1, 8))):
        level = draw(st.integers(1, 4))
        title = _title(draw)
        heads.append(title)
        lines += ["#" * level + " " + title, ""]
        if draw(st.booleans()):
            lines += [*draw(list_block()), ""]
        if draw(st.integers(0, 3)) == 0:
            lines += [f"**{_title(draw)}** The system SHALL work. Depends on {_title(draw)}.", ""]
    if draw(st.booleans()):  # a table of contents at the top
        toc = [f"- [{h}](#{h.lower().replace(' ', '-')})" for h in heads]
        lines = ["## Table of Contents", "", *toc, "", *lines]
    return "\n".join(lines) + "\n"


@st.composite
def plain_text(draw: st.DrawFn) -> str:
    lines: list[str] = []
    for e in range(draw(st.integers(1, 5))):
        title = _title(draw)
        lines += [title, draw(st.sampled_from(["=", "-"])) * max(3, len(title)), ""]
        letter = "ABCDE"[e % 5]
        for i in range(draw(st.integers(0, 4))):
            marker = draw(st.sampled_from([f"{i + 1}.", f"{letter}.", "a)", "iv.",
                                           f"{e + 1}.{i + 1}", "(b)"]))
            indent = draw(st.sampled_from(["", "  ", "   "]))
            lines.append(f"{indent}{marker} {_title(draw)}")
            if draw(st.booleans()):
                lines.append(f"{indent}   - Blocked by: {_title(draw)} ({letter}.{i + 1})")
        lines.append("")
    return "\n".join(lines) + "\n"


def _duplicates(tasks: list[dict]) -> list[str]:
    return [tid for tid, n in Counter(t["id"] for t in tasks).items() if n > 1]


def _edit(text: str, where: int, how: int, line: str) -> str:
    lines = text.split("\n")
    i = where % len(lines)
    if how == 0:
        lines.insert(i, line)
    elif how == 1 and len(lines) > 1:
        del lines[i]
    else:
        lines[i] = line
    return "\n".join(lines)


EDIT_LINES = st.sampled_from(["- Setup", "## Setup", "- [Setup](#setup)", "Setup 2", "=====",
                              "   - Depends on: Item (A.1)", "1. Item", "B. Setup", ""])


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.one_of(markdown(), plain_text()), st.integers(0, 10_000), st.integers(0, 2), EDIT_LINES)
def test_ids_are_unique_also_after_an_edit(text: str, where: int, how: int, line: str) -> None:
    memo, cache = Memo(None, 1 << 24), AssemblyCache()
    first = decompose(text, RuleDecomposer(), memo, cache=cache)
    assert not _duplicates(first.tasks), text
    edited = _edit(text, where, how, line)
    warm = decompose(edited, RuleDecomposer(), memo, cache=cache)
    assert not _duplicates(warm.tasks), edited
    cold = decompose(edited, RuleDecomposer())
    assert [t["id"] for t in warm.tasks] == [t["id"] for t in cold.tasks]
    assert warm.tasks == cold.tasks


def test_a_table_of_contents_gives_no_tasks() -> None:
    text = ("# Guide\n\n- [Goals](#goals)\n- [Design](#design)\n  - [API](#api)\n\n"
            "## Goals\n\n- Fast start\n\n## Design\n\n### API\n\n- One call\n")
    tasks = decompose(text, RuleDecomposer()).tasks
    assert sorted(t["title"] for t in tasks) == ["API", "Design", "Fast start", "Goals", "One call"]
    assert not _duplicates(tasks)


CHARS = st.sampled_from([*"abAB1.2 -:()[]#*_\n", "Depends on ", "Blocks: ", "FR-1", "  ",
                         "===\n", "- ", "1. ", "I. ", "(a) ", "](#x)", "after ", "and "])


@settings(max_examples=150, deadline=None)
@given(st.lists(CHARS, max_size=80).map("".join))
def test_any_text_decomposes_with_unique_ids_and_lines_inside_it(text: str) -> None:
    d = decompose(text, RuleDecomposer())
    assert not _duplicates(d.tasks)
    n = len(text.split("\n"))
    for t in d.tasks:
        assert 1 <= t["lines"][0] <= t["lines"][1] <= n
    for u in d.problems["unresolved"]:
        assert 1 <= u["line"] <= n
