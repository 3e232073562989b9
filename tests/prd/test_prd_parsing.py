"""Parsing hazards, checked on real documents from tests/data/prd (see SOURCES.txt there)."""

from __future__ import annotations

from pathlib import Path

import pytest
from markdown_it import MarkdownIt

from catalytic.plugins.prd.engine import decompose
from catalytic.plugins.prd.rules import RuleDecomposer
from catalytic.plugins.prd.split import find_headings
from catalytic.plugins.prd.text import BinaryDocument, clean, decode

DATA = Path(__file__).resolve().parents[1] / "data" / "prd"
DOCS = sorted(p for p in DATA.iterdir() if p.suffix in (".md", ".txt") and p.name != "SOURCES.txt")


def run(text: str) -> list[dict]:
    return decompose(text, RuleDecomposer()).tasks


def by_title(tasks: list[dict], start: str) -> dict:
    return next(t for t in tasks if t["title"].startswith(start))


@pytest.mark.parametrize("path", DOCS, ids=lambda p: p.name)
def test_line_scan_finds_exactly_the_headings_markdown_it_finds(path: Path) -> None:
    text = clean(path.read_text()).text
    md = MarkdownIt("commonmark").enable("table").disable("inline")
    theirs = [(t.map[0], int(t.tag[1])) for t in md.parse(text)
              if t.type == "heading_open" and t.level == 0 and t.map]
    mine = [(first, level) for first, _, level, _ in find_headings(text.split("\n"))]
    assert mine == theirs


@pytest.mark.parametrize("path", DOCS, ids=lambda p: p.name)
def test_every_task_points_at_its_own_source_lines(path: Path) -> None:
    raw = path.read_text().split("\n")
    for t in run(path.read_text()):
        first, last = t["lines"]
        assert 1 <= first <= last <= len(raw)
        words = [w for w in t["title"].split() if len(w) > 3 and w.isalpha()][:1]
        if words and t["kind"] != "epic":
            span = " ".join(raw[first - 1:last])
            assert words[0] in span, (t["id"], t["title"], first, last)


def test_headings_inside_code_fences_are_not_sections() -> None:
    tasks = run((DATA / "intuition-prd-head.md").read_text())
    assert not any("Research Notes" in t["title"] for t in tasks)
    assert any(t["title"].startswith("1.1 Offline-First") for t in tasks)


def test_setext_headings_and_numbered_must_items() -> None:
    lines = (DATA / "semver-head.md").read_text().split("\n")
    heads = find_headings(lines)
    assert (0, 2, 1, "Semantic Versioning 2.0.0") in heads
    assert any(level == 2 and title == "Summary" for _, _, level, title in heads)
    tasks = run("\n".join(lines))
    t = by_title(tasks, "Software using Semantic Versioning MUST")
    assert t["kind"] == "requirement" and t["priority"] == "high"


def test_front_matter_is_blanked_without_moving_lines() -> None:
    text = (DATA / "spec-rfc2119__conventionalcommits_content_v1.0.0_index.md").read_text()
    d = decompose(text, RuleDecomposer())
    assert d.front_matter["draft"] == "false"
    assert not any("draft" in t["title"] for t in d.tasks)
    t = by_title(d.tasks, "Commits MUST be prefixed")
    assert "Commits MUST be prefixed" in text.split("\n")[t["lines"][0] - 1]


def test_wrapper_tags_and_comments_are_blanked_and_lines_kept() -> None:
    text = (DATA / "taskmaster__tests_fixtures_sample-prd.txt").read_text()
    tasks = run(text)
    assert not any("context" in t["title"].lower() or "PRD>" in t["title"] for t in tasks)
    t = by_title(tasks, "URL Input & Shortening")
    assert "URL Input & Shortening" in text.split("\n")[t["lines"][0] - 1]
    cleaned = clean("a\n<!-- one\ntwo -->\nb <!-- x --> c\n")
    assert cleaned.text.split("\n")[0] == "a" and cleaned.text.count("\n") == 4
    assert "two" not in cleaned.text and "b" in cleaned.text and "c" in cleaned.text


def test_template_placeholders_become_no_tasks() -> None:
    d = decompose((DATA / "taskmaster__assets_example_prd.txt").read_text(), RuleDecomposer())
    assert d.stats["placeholders_blanked"] >= 5
    assert all(t["kind"] == "epic" for t in d.tasks)


def test_ears_acceptance_criteria_with_numbered_ids() -> None:
    tasks = run((DATA / "kiro-requirements-head.md").read_text())
    req = by_title(tasks, "Requirement 1: Multi-State Monitoring")
    assert req["kind"] == "requirement" and req["priority"] == "high"
    ac = [t for t in tasks if t["requirement_ids"] == ["1.2"]]
    assert ac and ac[0]["kind"] == "acceptance-criterion"
    assert ac[0]["title"].startswith("WHERE multiple states")
    assert len(req["acceptance_criteria"]) == 3


def test_given_when_then_scenarios_are_acceptance_criteria() -> None:
    tasks = run((DATA / "openspec__specs_cli-validate_spec.md").read_text())
    req = by_title(tasks, "Requirement: Validation SHALL provide")
    assert req["kind"] == "requirement"
    when = by_title(tasks, "WHEN validating a change with zero parsed deltas")
    assert when["kind"] == "acceptance-criterion"
    assert any("No deltas found" in a for a in req["acceptance_criteria"])


def test_checkbox_task_ids_and_rfc_keywords() -> None:
    text = """# Plan

## Requirements

| ID | Requirement | Priority | Depends on |
|----|-------------|----------|------------|
| FR-001 | Users MUST sign in | P1 | |
| FR-002 | Users can export data | Low | FR-001 |

## Tasks

- [x] T001 Create the project skeleton
- [ ] T002 [P] Add login form, depends on T001
- [ ] REQ-3 Audit log MAY be kept
  - [ ] 1.2.3 Rotate audit files weekly
"""
    tasks = run(text)
    fr1 = by_title(tasks, "Users MUST sign in")
    fr2 = by_title(tasks, "Users can export data")
    assert fr1["requirement_ids"] == ["FR-001"] and fr1["priority"] == "high"
    assert fr2["priority"] == "low" and fr2["dependencies"] == [fr1["id"]]
    t1, t2 = by_title(tasks, "Create the project"), by_title(tasks, "Add login form")
    assert t1["requirement_ids"] == ["T001"] and t1["checked"] is True
    assert t2["dependencies"] == [t1["id"]]
    audit = by_title(tasks, "Audit log MAY be kept")
    assert audit["priority"] == "low" and audit["requirement_ids"] == ["REQ-3"]
    rotate = by_title(tasks, "Rotate audit files")
    assert rotate["parent"] == audit["id"] and rotate["requirement_ids"] == ["1.2.3"]


def test_bad_inputs_get_clear_answers() -> None:
    with pytest.raises(BinaryDocument):
        decode(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR")
    text, warnings = decode(b"# T\n\n- caf\xe9 item\n")
    assert "\ufffd" in text and "invalid UTF-8" in warnings[0]
    assert run("") == [] and run("\n\n") == []
    assert run("```\n# not a heading\n- not an item\n```\n") == []
