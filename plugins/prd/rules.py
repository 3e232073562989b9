"""The default decomposer: deterministic rules over one section at a time.

Headings become epics/features, list items and requirement sentences become
tasks, nested items subtasks, requirement tables one task a row. A section
sees only its own text and its children's `Summary`, which is what makes the
Merkle memo (and its early cutoff) sound.
"""

from __future__ import annotations

import re
from hashlib import blake2b
from typing import Any

from catalytic.plugins.prd import classify as C
from catalytic.plugins.prd import refs as R
from catalytic.plugins.prd.blocks import Item, Para, Table, walk
from catalytic.plugins.prd.ids import number_slugs
from catalytic.plugins.prd.model import Local, SectionResult, Summary
from catalytic.plugins.prd.outline import as_lists, heading_label
from catalytic.plugins.prd.rules_items import ItemBuilder
from catalytic.plugins.prd.toc import link_lists

LABEL = re.compile(r"^\s*(?:\*\*|__)?([A-Z][\w /&()-]{0,40}?)(?::\s*(?:\*\*|__)|(?:\*\*|__)\s*:|:)"
                   r"\s*(.*)$", re.S)
DEP_SECTION = re.compile(r"\b(dependenc(y|ies)|execution order|ordering|sequencing)\b", re.I)
"""Sections whose items may say which other task waits for which."""
SENTENCE = re.compile(r"(?<=[A-Za-z)\]\"'`][.!?])\s+(?=[A-Z(\"*])")


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
        heading = C.plain(C.EMOJI_STATUS.sub("", title)).strip() if level else ""
        plain_title = C.heading_slug(title).replace("-", " ")
        info_m = C.INFO_TITLES.match(plain_title) if level else None
        info = info_m is not None
        if (info_m and level == 1 and info_m.end() < len(plain_title)
                and any(not c.info for c in children)):
            info = False  # a document title that merely starts like "Notes App ..."
        acc_section = bool(level) and bool(C.ACCEPT_TITLES.search(heading)) and not info
        nfr_section = bool(level) and bool(C.NFR_TITLES.search(heading))
        body_text = "\n".join(lines[body:])
        ordered = bool(level) and bool(C.ORDERED_TITLES.search(heading))
        if self.options["order_words"] and C.ORDER_TEXT.search(body_text):
            ordered = True
        phase_m = C.PHASE_TITLE.match(heading)
        phase = int(phase_m.group(2)) if phase_m else None
        if info:
            n = sum(c.tasks for c in children)
            summary = Summary(C.heading_slug(title), heading, True, n, (), "", phase,
                              C.anchor(title))
            return SectionResult((), summary, ())

        head_outline = heading_label(heading) if level else ""
        listed, markers = as_lists(body_text)
        builder = ItemBuilder(self.options, acc_section, nfr_section, head_outline,
                              set(number_slugs(c.slug for c in children)),
                              {line + body: label for line, label in markers.items()})
        builder.dep_section = bool(level) and bool(DEP_SECTION.search(heading))
        desc: list[str] = []
        head_prio = C.priority_of(heading) if level else None
        head_deps: list[str] = []
        test = ""
        criteria: list[str] = []
        mode = ""
        blocks = walk(listed, body)
        skip = link_lists(blocks)
        for index, block in enumerate(blocks):
            if isinstance(block, Item):
                if block.block not in skip:
                    builder.add(index, block, mode, lines)
            elif isinstance(block, Table):
                builder.table(block)
            elif isinstance(block, Para):
                text = block.text.strip()
                if C.is_placeholder(text):
                    builder.placeholders += 1
                    continue
                lab = LABEL.match(text) if not block.quoted else None
                if lab and C.REQ_ID.fullmatch(C.plain(lab.group(1)).strip()):
                    lab = None  # "REQ-101: The pump shall ..." is a requirement, not a label
                if lab and len(lab.group(1).split()) <= 5:
                    key, value = lab.group(1).strip().lower(), lab.group(2).strip()
                    mode = key if not value else ""
                    if "priority" in key:
                        head_prio = C.priority_of("priority: " + value) or head_prio
                    elif key.startswith(("depend", "deps", "requires", "blocked", "prerequisite",
                                         "after", "needs", "waits for", "blocks", "required by",
                                         "needed by", "enables", "unblocks")):
                        head_deps += [R.encode(d, block.first)
                                      for d in R.parse(f"{key}: {value}")]
                    elif "test" in key or "verification" in key:
                        test = C.plain(value)
                    elif value and not C.ACCEPT_TITLES.search(key):
                        desc.append(f"{lab.group(1).strip()}: {C.plain(value)}")
                    continue
                mode = ""
                if block.quoted:
                    desc.append(C.plain(text))
                    continue
                if R.is_label_line(text):  # "Depends on US-1." on its own under a heading
                    head_deps += [R.encode(d, block.first) for d in R.parse(text)]
                    continue
                found = False
                last = False
                for sentence in _sentences(text):
                    if C.is_requirement(sentence) or (acc_section and C.is_scenario(sentence)):
                        builder.sentence(sentence, block.first, block.last)
                        found = last = True
                    elif last and (R.is_label_line(sentence) or R.parse(sentence)):
                        builder.extend_last(sentence, block.first, block.last)
                    else:
                        last = False
                if not found and sum(len(d) for d in desc) < 600:
                    desc.append(C.plain(text))
        builder.finish(ordered, lines)
        head_deps += [R.encode(d, line) for line, text in builder.section_deps
                      for d in R.parse(text)]
        head_deps += [R.encode(d, line) for line, d in builder.statements]
        tasks = builder.tasks
        own_criteria = [t.title for t in tasks if t.kind == "acceptance-criterion"
                        and t.parent == ""]
        if acc_section:
            criteria = own_criteria
        child_criteria = [c for ch in children for c in ch.criteria]
        child_tests = [ch.test for ch in children if ch.test]
        n_sub = len(tasks) + sum(c.tasks for c in children)
        out: list[Local] = []
        if level:
            description = " ".join(desc)[:1200]
            acceptance = tuple(child_criteria)
            score, reasons = C.complexity(heading + " " + description,
                                          sum(1 for t in tasks if t.parent == "")
                                          + sum(1 for c in children if not c.info), len(acceptance))
            if n_sub > 20:
                score, reasons = min(10, score + 1), (*reasons, f"{n_sub} tasks below +1")
            kind = "requirement" if (re.match(r"^requirement\s*[:\d]", heading, re.I)
                                     or C.is_requirement(heading)) else ""
            if C.is_scenario(heading) or acc_section:
                kind = "acceptance-criterion"
            ids = C.explicit_ids(heading)
            us = re.match(r"^user story\s+(\d+)", heading, re.I)
            if us:
                ids.append("US" + us.group(1))
            out.append(Local("", None, heading, description, (0, _last(lines, 0, len(lines) - 1)),
                             head_prio, kind, score, reasons, tuple(ids), tuple(head_deps),
                             tuple(C.references(heading)[1]), acceptance,
                             " ".join([test, *child_tests]).strip(), None,
                             _digest(body_text.strip() or heading), C.heading_slug(title),
                             head_outline))
        out.extend(tasks)
        summary = Summary(C.heading_slug(title) if level else "", heading, False,
                          n_sub + (1 if level else 0), tuple(criteria), test, phase,
                          C.anchor(title) if level else "")
        return SectionResult(tuple(out), summary, tuple(child_order(children, ordered)))


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


def _sentences(text: str) -> list[str]:
    return [s for s in SENTENCE.split(" ".join(text.split())) if s]


def _last(lines: list[str], first: int, last: int) -> int:
    while last > first and not lines[last].strip():
        last -= 1
    return last


def _digest(*parts: str) -> str:
    return blake2b("\x1f".join(parts).encode(), digest_size=8).hexdigest()
