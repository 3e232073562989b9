"""The default decomposer: deterministic rules over one section at a time.

Headings become epics/features, list items and requirement sentences become
tasks, nested items subtasks, requirement tables one task a row. A section
sees only its own text and its children's `Summary`, which is what makes the
Merkle memo (and its early cutoff) sound.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from hashlib import blake2b
from typing import Any

from catalytic.plugins.prd import classify as C
from catalytic.plugins.prd import refs as R
from catalytic.plugins.prd.blocks import Item, Para, Table, walk
from catalytic.plugins.prd.ids import number_slugs
from catalytic.plugins.prd.model import Local, SectionResult, Summary
from catalytic.plugins.prd.outline import as_lists, heading_label
from catalytic.plugins.prd.rules_items import ItemBuilder
from catalytic.plugins.prd.rules_paras import HeadingNotes
from catalytic.plugins.prd.toc import link_lists

DEP_SECTION = re.compile(r"\b(dependenc(y|ies)|execution order|ordering|sequencing)\b", re.I)
"""Sections whose items may say which other task waits for which."""


@dataclass(frozen=True, slots=True)
class Section:
    """What a section's title, level and options say before its blocks are read."""

    title: str
    level: int
    heading: str
    """The title in plain text ("" for the text before the first heading)."""
    info: bool
    """An informational section (overview, glossary, ...): no tasks of its own."""
    acceptance: bool
    nfr: bool
    ordered: bool
    """Its child sections come in order (a title or text that says so)."""
    phase: int | None
    body_text: str


def read_section(title: str, level: int, lines: list[str], body: int,
                 children: list[Summary], order_words: bool) -> Section:
    """Classify a section by its title (and, for order, its text)."""
    heading = C.plain(C.EMOJI_STATUS.sub("", title)).strip() if level else ""
    plain_title = C.heading_slug(title).replace("-", " ")
    info_m = C.INFO_TITLES.match(plain_title) if level else None
    info = info_m is not None
    if (info_m and level == 1 and info_m.end() < len(plain_title)
            and any(not c.info for c in children)):
        info = False  # a document title that merely starts like "Notes App ..."
    body_text = "\n".join(lines[body:])
    ordered = bool(level) and bool(C.ORDERED_TITLES.search(heading))
    if order_words and C.ORDER_TEXT.search(body_text):
        ordered = True
    phase_m = C.PHASE_TITLE.match(heading)
    return Section(
        title, level, heading, info,
        acceptance=bool(level) and bool(C.ACCEPT_TITLES.search(heading)) and not info,
        nfr=bool(level) and bool(C.NFR_TITLES.search(heading)), ordered=ordered,
        phase=int(phase_m.group(2)) if phase_m else None, body_text=body_text)


class RuleDecomposer:
    """Rule-based decomposition; options: `max_title` (characters), `order_words` (bool)."""

    name = "rules"
    version = "1.1"

    def __init__(self, **options: Any) -> None:
        self.options = {"max_title": 100, "order_words": True}
        unknown = set(options) - set(self.options)
        if unknown:
            raise ValueError(f"unknown decomposer option(s): {', '.join(sorted(unknown))}")
        self.options.update(options)

    def fingerprint(self) -> bytes:
        opts = ",".join(f"{k}={self.options[k]!r}" for k in sorted(self.options))
        return f"{self.name}/{self.version}/{opts}".encode()

    def decompose_section(self, title: str, level: int, lines: list[str], body: int,
                          children: list[Summary]) -> SectionResult:
        """Decompose one section; `lines` are its own lines, the heading first when level>0."""
        sec = read_section(title, level, lines, body, children,
                           bool(self.options["order_words"]))
        if sec.info:
            n = sum(c.tasks for c in children)
            summary = Summary(C.heading_slug(title), sec.heading, True, n, (), "", sec.phase,
                              C.anchor(title))
            return SectionResult((), summary, ())
        builder, notes = self._read_blocks(sec, lines, body, children)
        builder.finish(sec.ordered, lines)
        notes.deps += [R.encode(d, line) for line, text in builder.section_deps
                       for d in R.parse(text)]
        notes.deps += [R.encode(d, line) for line, d in builder.statements]
        tasks = builder.tasks
        n_sub = len(tasks) + sum(c.tasks for c in children)
        out: list[Local] = []
        if level:
            out.append(heading_task(sec, lines, notes, tasks, children, n_sub))
        out.extend(tasks)
        criteria = [t.title for t in tasks if t.kind == "acceptance-criterion"
                    and t.parent == ""] if sec.acceptance else []
        summary = Summary(C.heading_slug(title) if level else "", sec.heading, False,
                          n_sub + (1 if level else 0), tuple(criteria), notes.test, sec.phase,
                          C.anchor(title) if level else "")
        return SectionResult(tuple(out), summary, tuple(child_order(children, sec.ordered)))

    def _read_blocks(self, sec: Section, lines: list[str], body: int,
                     children: list[Summary]) -> tuple[ItemBuilder, HeadingNotes]:
        """Walk the body's blocks: items and tables to the item builder, paragraphs to the
        heading's notes (and their requirement sentences to the builder)."""
        outline = heading_label(sec.heading) if sec.level else ""
        listed, markers = as_lists(sec.body_text)
        builder = ItemBuilder(self.options, sec.acceptance, sec.nfr, outline,
                              set(number_slugs(c.slug for c in children)),
                              {line + body: label for line, label in markers.items()})
        builder.dep_section = bool(sec.level) and bool(DEP_SECTION.search(sec.heading))
        notes = HeadingNotes(C.priority_of(sec.heading) if sec.level else None)
        blocks = walk(listed, body)
        skip = link_lists(blocks)
        for index, block in enumerate(blocks):
            if isinstance(block, Item):
                if block.block not in skip:
                    builder.add(index, block, notes.mode, lines)
            elif isinstance(block, Table):
                builder.table(block)
            elif isinstance(block, Para):
                notes.para(block, builder, sec.acceptance)
        return builder, notes


def heading_task(sec: Section, lines: list[str], notes: HeadingNotes, tasks: list[Local],
                 children: list[Summary], n_sub: int) -> Local:
    """The section's own task (local id ""): its heading, described by its prose, scored
    by what lies below it, with its children's acceptance criteria and tests."""
    heading = sec.heading
    description = " ".join(notes.desc)[:1200]
    acceptance = tuple(c for ch in children for c in ch.criteria)
    score, reasons = C.complexity(heading + " " + description,
                                  sum(1 for t in tasks if t.parent == "")
                                  + sum(1 for c in children if not c.info), len(acceptance))
    if n_sub > 20:
        score, reasons = min(10, score + 1), (*reasons, f"{n_sub} tasks below +1")
    kind = "requirement" if (re.match(r"^requirement\s*[:\d]", heading, re.I)
                             or C.is_requirement(heading)) else ""
    if C.is_scenario(heading) or sec.acceptance:
        kind = "acceptance-criterion"
    ids = C.explicit_ids(heading)
    us = re.match(r"^user story\s+(\d+)", heading, re.I)
    if us:
        ids.append("US" + us.group(1))
    child_tests = [ch.test for ch in children if ch.test]
    return Local(
        lid="", parent=None, title=heading, description=description,
        lines=(0, _last(lines, 0, len(lines) - 1)), priority=notes.priority, kind=kind,
        complexity=score, reasons=reasons, ids=tuple(ids), deps=tuple(notes.deps),
        mentions=tuple(C.references(heading)[1]), acceptance=acceptance,
        test=" ".join([notes.test, *child_tests]).strip(), checked=None,
        digest=_digest(sec.body_text.strip() or heading), name=C.heading_slug(sec.title),
        outline=heading_label(heading))


def child_order(children: list[Summary], ordered: bool) -> list[tuple[int, int]]:
    """(child, depends-on child) pairs among sibling sections where the document says order."""
    pairs = []
    phases = {c.phase: i for i, c in enumerate(children) if c.phase is not None and not c.info}
    for i, c in enumerate(children):
        if c.phase is not None and c.phase - 1 in phases:
            pairs.append((i, phases[c.phase - 1]))
    if ordered and not pairs:
        real = [i for i, c in enumerate(children) if not c.info]
        pairs = list(zip(real[1:], real[:-1], strict=False))
    return pairs


def _last(lines: list[str], first: int, last: int) -> int:
    while last > first and not lines[last].strip():
        last -= 1
    return last


def _digest(*parts: str) -> str:
    return blake2b("\x1f".join(parts).encode(), digest_size=8).hexdigest()
