"""Turn a section's list items, requirement sentences and table rows into local tasks.

Local IDs come from the task's explicit ID (FR-001, T003, 1.2) or the slug of
its first words, numbered only among siblings with the same slug, so inserting
or editing other items never renumbers a task.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from hashlib import blake2b
from typing import Any

from catalytic.plugins.prd import classify as C
from catalytic.plugins.prd import refs as R
from catalytic.plugins.prd.blocks import Item, Table
from catalytic.plugins.prd.ids import next_name
from catalytic.plugins.prd.model import Local
from catalytic.plugins.prd.outline import join, strip_marker

CHECKBOX = re.compile(r"^\[([ xX])\]\s*")
FOLD = re.compile(r"^\s*(?:\*\*|\*|_)?(why|how|what|rationale|notes?|details?|example|e\.g\.|"
                  r"purpose|goal|context|mitigation|because|files?|location)\b[^:\n]{0,12}:", re.I)
LEAD_MARKS = re.compile(r"^\s*(?:(?:[A-Z]{1,5}-?\d{1,4}(?:\.\d+)*|\d{1,3}(?:\.\d{1,3})+|#\d{1,6})"
                        r"\.?\s+)?"
                        r"((?:\[(?:P|US\d+|[A-Z]{1,4}\d*)\]\s*)*)")
BOLD_LEAD = re.compile(r"^\*\*(.+?)\*\*\s*:?\s*(.*)$", re.S)
ISSUE = re.compile(r"^\s*(#\d{1,6})\s+\S")
"""An item led by an issue number (`#101 Upgrade the ORM`) declares it as its ID."""
LEAD_NUMBER = re.compile(r"^(\d{1,3}(?:\.\d{1,3})*)\.?\s")
"""`2. Do it` / `2.1 Do it` written in a bullet's text: the item's outline label."""
ID_COL = re.compile(r"^(id|#|req(uirement)?\.? ?id|key|ref|no\.?|number)$", re.I)
TITLE_COL = re.compile(r"requirement|description|title|name|task|story|feature|summary|"
                       r"capability|criteri|deliverable", re.I)
TASK_TABLE = re.compile(r"requirement|task|story|feature|criteri|deliverable|\bid\b", re.I)
PRIO_COL = re.compile(r"priority|prio|moscow", re.I)
DEP_COL = re.compile(r"depend|blocked|requires|after|prereq", re.I)
STATUS_COL = re.compile(r"^(status|state|done)$", re.I)


@dataclass(slots=True)
class Entry:
    first: int
    last: int
    parent: int
    text: str
    more: list[str] = field(default_factory=list)
    block: int = -1
    number: str = ""
    kind: str = ""
    checked: bool | None = None
    chain: bool = False
    ids: list[str] = field(default_factory=list)
    deps: list[str] = field(default_factory=list)
    priority: str | None = None
    title: str = ""
    dep_lines: list[tuple[int, str]] = field(default_factory=list)
    """(line, text) of labelled lines that say what this item waits for."""
    label: str = ""
    """The item's own outline label (`A`, `2`, `1.2`, `iv`), if it has one."""
    marker: bool = False
    outline: str = ""
    mentions: list[str] = field(default_factory=list)
    """References the entry makes without depending on them (`id:US2`)."""


class ItemBuilder:
    """Collects a section's task-like blocks, then names and classifies them in `finish`."""

    def __init__(self, options: dict[str, Any], acc_section: bool, nfr_section: bool,
                 head_outline: str = "", reserved: set[str] | None = None,
                 markers: dict[int, str] | None = None) -> None:
        self.options = options
        self.acc = acc_section
        self.nfr = nfr_section
        self.entries: list[Entry] = []
        self.by_block: dict[int, int] = {}
        self.dep_owner: dict[int, int] = {}
        self.section_deps: list[tuple[int, str]] = []
        self.dep_section = False
        """The section lists dependencies (`Dependencies`, `Execution order`)."""
        self.statements: list[tuple[int, R.Dep]] = []
        """(line, reference) of its items that say which task waits for which."""
        """(line, text) of labelled dependency items that belong to the section heading."""
        """Block index of a labelled dependency line → the entry it belongs to."""
        self.placeholders = 0
        self.tasks: list[Local] = []
        self.head_outline = head_outline
        self.reserved = reserved or set()
        """Names the section's child headings take: top-level items must not take them."""
        self.markers = markers or {}
        """Section-relative line → plain-text outline marker of the item on it."""

    def add(self, index: int, item: Item, mode: str, lines: list[str]) -> None:
        """A list item; `mode` is the label that introduced its list (e.g. "acceptance")."""
        parent = self.by_block.get(item.parent, -1) if item.parent >= 0 else -1
        text = item.text.strip()
        checked = None
        m = CHECKBOX.match(text)
        if m:
            checked = m.group(1) != " "
            text = text[m.end():]
        if item.parent in self.dep_owner:  # an item listed under "Depends on:"
            owner = self.dep_owner[item.parent]
            self.entries[owner].dep_lines.append((item.first, "Depends on: " + text))
            self.dep_owner[index] = owner
            return
        if self.dep_section and parent < 0:
            said = R.statement(text)
            if said:  # "Phase 2 depends on Phase 1.": an edge between two other tasks
                self.statements.extend((item.first, d) for d in said)
                return
        if R.is_label_line(text):
            owner = parent
            if owner < 0 and self.entries and self.entries[-1].block != item.block:
                owner = len(self.entries) - 1  # a new list right under an item qualifies it
            if owner < 0:  # a sibling of the section's items: it speaks for the section
                self.section_deps.append((item.first, item.text))
                return
            self.entries[owner].dep_lines.append((item.first, item.text))
            self.dep_owner[index] = owner
            return
        if not text or C.is_placeholder(text):
            self.placeholders += 1
            self.by_block[index] = parent
            return
        if parent >= 0 and FOLD.match(text):
            self.entries[parent].more.append(C.plain(text))
            self.by_block[index] = parent
            return
        kind = "acceptance-criterion" if C.ACCEPT_TITLES.search(mode) else ""
        last = _trim(lines, item.first, item.last)
        entry = Entry(item.first, last, parent, text, [C.plain(x) for x in item.more],
                      item.block, item.number if item.ordered else "", kind, checked,
                      bool(mode) and bool(C.ORDERED_TITLES.search(mode)))
        if item.first in self.markers:
            entry.label, entry.marker = self.markers[item.first], True
        elif item.ordered and item.number:
            entry.label = item.number
        else:
            lead = LEAD_NUMBER.match(text)
            entry.label = lead.group(1) if lead else ""
            if lead and "." not in entry.label:  # "- [ ] 2. Do it": the number is a label
                entry.text = entry.text[lead.end():]
        self.by_block[index] = len(self.entries)
        self.entries.append(entry)

    def extend_last(self, text: str, first: int, last: int) -> bool:
        """Add a sentence to the last requirement sentence (its `Depends on ...`)."""
        if not self.entries or self.entries[-1].parent >= 0 or self.entries[-1].block != -1:
            return False
        e = self.entries[-1]
        e.dep_lines.append((first, text))
        e.last = max(e.last, last)
        return True

    def sentence(self, text: str, first: int, last: int) -> None:
        """A requirement sentence in running prose."""
        self.entries.append(Entry(first, last, -1, text))

    def table(self, table: Table) -> None:
        """Rows of a requirements table become tasks; glossaries and the like do not."""
        head = [C.plain(h).lower() for h in table.header]
        if not head or not table.rows or not any(TASK_TABLE.search(h) for h in head):
            return
        id_col = next((i for i, h in enumerate(head) if ID_COL.match(h)), None)
        if id_col is None and sum(1 for _, r in table.rows if r and C.REQ_ID.fullmatch(
                C.plain(r[0]))) * 2 >= len(table.rows):
            id_col = 0
        title_col = next((i for i, h in enumerate(head) if TITLE_COL.search(h) and i != id_col),
                         None)
        if title_col is None:
            return
        prio = next((i for i, h in enumerate(head) if PRIO_COL.search(h)), None)
        dep = next((i for i, h in enumerate(head) if DEP_COL.search(h)), None)
        status = next((i for i, h in enumerate(head) if STATUS_COL.match(h)), None)
        for line, row in table.rows:
            def cell(i: int | None, r: list[str] = row) -> str:
                return C.plain(r[i]) if i is not None and i < len(r) else ""

            title = cell(title_col)
            if not title or C.is_placeholder(title):
                continue
            others = [f"{table.header[i].strip()}: {cell(i)}" for i in range(len(row))
                      if i not in (id_col, title_col) and i < len(table.header) and cell(i)]
            e = Entry(line, line, -1, title, others)
            e.title = title
            if id_col is not None and cell(id_col):
                e.ids = [cell(id_col).upper()]
            if prio is not None:
                e.priority = C.priority_of("priority: " + cell(prio))
            if dep is not None and cell(dep) and cell(dep).lower() not in ("-", "none", "n/a"):
                e.dep_lines.append((line, "Depends on: " + cell(dep)))
            if status is not None and cell(status):
                e.checked = cell(status).lower() in ("done", "complete", "completed", "x", "yes")
            self.entries.append(e)

    def finish(self, ordered: bool, lines: list[str]) -> None:
        """Name, classify and link the collected entries (local references only)."""
        lids: list[str] = []
        seen: dict[int, dict[str, int]] = {}
        used: dict[int, set[str]] = {-1: set(self.reserved)}
        for i, e in enumerate(self.entries):
            _take_dep_lines(e)
            raw = self._name(e)
            base = C.slug(e.ids[0]) if e.ids else C.slug(e.title)
            parent_lid = lids[e.parent] if e.parent >= 0 else ""
            own = next_name(base, used.setdefault(e.parent, set()), seen.setdefault(e.parent, {}))
            lids.append(f"{parent_lid}/{own}" if parent_lid else own)
            self._link(e, i, raw, lines)
            e.more = [m for m in e.more if m]
            e.kind = e.kind or self._kind(raw, e.ids)
            e.priority = e.priority or C.priority_of(raw)
            e.text = raw
        self._chain(ordered)
        self._emit(lids)

    def _name(self, e: Entry) -> str:
        """Give the entry its outline number, IDs and title (the rest of its first text
        leads its description); returns its text in plain form."""
        if e.marker:
            e.text = strip_marker(e.text)
        e.outline = join(self.entries[e.parent].outline if e.parent >= 0
                         else self.head_outline, e.label)
        raw = C.plain(e.text)
        if not e.ids:
            e.ids = C.explicit_ids(e.text)
            issue = ISSUE.match(e.text)
            if issue and not e.ids:
                e.ids = [issue.group(1)]
        body = e.text
        marks = LEAD_MARKS.match(body)
        tags = marks.group(1) if marks else ""
        if marks and (e.ids or tags):
            body = body[marks.end():]
        e.mentions = [] if not tags else ["id:" + t for t in re.findall(r"US\d+", tags)]
        if not e.title:
            limit = self.options["max_title"]
            bold = BOLD_LEAD.match(body.strip())
            if bold and len(bold.group(1)) <= limit and not C.GWT_START.match(bold.group(1)):
                e.title = C.plain(bold.group(1)).rstrip(":")
                rest = C.plain(bold.group(2))
            elif _first_line_titles(body):  # plain text: a title line, then its text
                head, _, tail = body.partition("\n")
                e.title, rest = _title(C.plain(head), limit)
                rest = " ".join(x for x in (rest, C.plain(tail)) if x)
            else:
                e.title, rest = _title(C.plain(body), limit)
            if rest:
                e.more.insert(0, rest)
        return raw

    def _link(self, e: Entry, index: int, raw: str, lines: list[str]) -> None:
        """The entry's dependencies (from its text and its dependency lines; numbers point
        at its siblings) and the IDs it mentions without depending on them."""
        found = [(d, R.line_of(d.quote, lines, e.first, e.last)) for d in R.parse(e.text)]
        for line, text in e.dep_lines:
            found.extend((d, line) for d in R.parse(text))
        dep_ids = {c[3:] for d, _ in found for c in d.candidates if c.startswith("id:")}
        _, more_mentions = C.references(raw)
        e.mentions += [m for m in more_mentions if m[3:] not in e.ids and m[3:] not in dep_ids]
        e.deps = [R.encode(d, line) for d, line in self._local_numbers(found, e, index)]

    def _chain(self, ordered: bool) -> None:
        """In an ordered list (or section) each top-level entry waits for the one before,
        unless it names exactly what it waits for."""
        prev = -1
        for i, e in enumerate(self.entries):
            if e.parent >= 0:
                continue
            if (ordered or e.chain) and prev >= 0 and not any(map(_exact_target, e.deps)):
                e.deps = [*e.deps, "local:" + str(prev)]
            prev = i

    def _emit(self, lids: list[str]) -> None:
        """The finished entries as local tasks, scored by their children."""
        children = [0] * len(self.entries)
        kids: list[list[int]] = [[] for _ in self.entries]
        for j, e in enumerate(self.entries):
            if e.parent >= 0:
                children[e.parent] += 1
                kids[e.parent].append(j)
        for i, e in enumerate(self.entries):
            deps = tuple("local:" + lids[int(d[6:])] if d.startswith("local:")
                         else _local_lids(d, lids) for d in e.deps)
            description = " ".join(e.more)[:1200]
            acceptance = tuple(self.entries[j].title for j in kids[i]
                               if self.entries[j].kind == "acceptance-criterion")
            score, reasons = C.complexity(e.title + " " + description, children[i],
                                          len(acceptance))
            self.tasks.append(Local(
                lid=lids[i], parent=lids[e.parent] if e.parent >= 0 else "", title=e.title,
                description=description, lines=(e.first, e.last), priority=e.priority,
                kind=e.kind, complexity=score, reasons=reasons, ids=tuple(e.ids), deps=deps,
                mentions=tuple(x for x in e.mentions if x), acceptance=acceptance, test="",
                checked=e.checked, digest=blake2b(e.text.encode(), digest_size=8).hexdigest(),
                name=C.slug(NAME_END.split(e.title)[0]), outline=e.outline))

    def _kind(self, text: str, ids: list[str]) -> str:
        if self.acc or (C.is_scenario(text) and not C.EARS.search(text)):
            return "acceptance-criterion"
        req = C.is_requirement(text) or any(i.startswith(("FR", "REQ", "R-")) for i in ids)
        if any(i.startswith("NF") for i in ids) or (self.nfr and req) or (
                req and C.NFR_WORDS.search(text)):
            return "non-functional"
        return "requirement" if req else "task"

    def _local_numbers(self, found: list[tuple[R.Dep, int]], e: Entry, index: int
                       ) -> list[tuple[R.Dep, int]]:
        """`depends on 3 & 4` inside a numbered list points at its siblings 3 and 4."""
        out = []
        for dep, line in found:
            cands = []
            for c in dep.candidates:
                if c.startswith("num:"):
                    hit = next((j for j, o in enumerate(self.entries) if o.block == e.block
                                and o.parent == e.parent and o.number == c[4:] and j != index),
                               None)
                    if hit is not None:
                        cands.append(f"local:{hit}")
                else:
                    cands.append(c)
            out.append((R.Dep(dep.quote, tuple(cands)), line))
        return out


def _take_dep_lines(e: Entry) -> None:
    """Move the labelled dependency lines of a multi-line item out of its text."""
    if "\n" not in e.text:
        return
    first_line, *others = e.text.split("\n")
    kept = [first_line]
    for k, extra in enumerate(others, 1):
        if R.is_label_line(extra):
            e.dep_lines.append((e.first + k, extra))
        else:
            kept.append(extra)
    e.text = "\n".join(kept)


def _exact_target(dep: str) -> bool:
    """Whether a reference names its target exactly (an ID, number, link), not by title only."""
    cands = dep.split("\x1f")[2:]
    return cands[:1] != [R.REVERSE] and any(not c.startswith(("t:", "T:", "&:")) for c in cands)


def _local_lids(dep: str, lids: list[str]) -> str:
    """A sibling's index in an encoded reference replaced by its local ID."""
    if "\x1flocal:" not in dep:
        return dep
    return "\x1f".join("local:" + lids[int(p[6:])] if p.startswith("local:") else p
                        for p in dep.split("\x1f"))


SENTENCE_END = re.compile(r"(?<!\b[A-Z]\.)(?<!\b[IVX]{2}\.)(?<!\b[IVX]{3}\.)(?<=[.!?])\s")
"""Where a title's first sentence ends: not after `A.` or `II.` (`PART II. Payments`)."""
NAME_END = re.compile(r"[:,(]| - | — ")
DEP_PAREN = re.compile(r"\s*\((?:depends|requires|after|blocked|needs)[^)]*\)", re.I)


def _first_line_titles(body: str) -> bool:
    """An item whose first line is a short title and whose next line starts a new sentence."""
    head, nl, tail = body.strip().partition("\n")
    head = head.strip()
    return (bool(nl) and 0 < len(head) <= 80 and head[-1] not in ".,;:-(" and
            tail.lstrip()[:1].isupper() and not head.endswith((" and", " or", " the", " a")))


def _title(text: str, limit: int) -> tuple[str, str]:
    """First sentence (cut at a word near `limit`) and the rest of the text."""
    text = DEP_PAREN.sub("", text)
    m = SENTENCE_END.search(text)
    first = text[:m.start()] if m and m.start() <= limit else text
    if len(first) > limit:
        first = first[:limit].rsplit(" ", 1)[0] + "…"
    rest = text if first != text else ""
    return first.rstrip(".:"), rest


def _trim(lines: list[str], first: int, last: int) -> int:
    last = min(last, len(lines) - 1)
    while last > first and not lines[last].strip():
        last -= 1
    return last
