"""Plain-text outlines that CommonMark does not see as lists, and outline numbers.

Documents written as plain text number their items `A.`, `b)`, `(c)`, `IV.`,
`1.2` or `2.3.1`; CommonMark reads those lines as paragraph text. `as_lists`
turns each such line into a bullet item (a `- ` put in front, so no line moves
and nesting follows indentation) and remembers the marker, which becomes the
item's outline number. `heading_label` reads the number a heading gives itself
(`Epic A: ...`, `2.3 Ranking`, `Story 1.2: ...`), and `ref_outline` the outline a
reference names (`A.2`, `(B.1)`, `Epic C, item 1`, `story 5`).
"""

from __future__ import annotations

import re

ROMAN = r"(?:x{0,3})(?:ix|iv|v?i{0,3})"
MARKERS: tuple[tuple[str, re.Pattern[str]], ...] = (
    # (kind, pattern): group 1 is the indentation, group 2 the label, group 3 the marker
    ("dotted", re.compile(r"^( *)((\d{1,3}(?:\.\d{1,3})+)\.?)[ \t]+(?=\S)")),
    ("letter", re.compile(r"^( *)(([A-Za-z])[.)])[ \t]+(?=\S)")),
    ("roman", re.compile(rf"^( *)((?i:({ROMAN}))[.)])[ \t]+(?=\S)")),
    ("paren", re.compile(rf"^( *)(\(((?i:{ROMAN})|[A-Za-z]|\d{{1,3}})\))[ \t]+(?=\S)")),
    ("part", re.compile(r"^( *)((?i:part|section|chapter|epic|module|area|phase|stage|milestone)"
                        r"\s+([IVX]{1,4}|\d{1,3}|[A-Z])\b[.:)]?)[ \t]+(?=\S)")),
    ("key", re.compile(r"^( *)(([A-Z][A-Z0-9]{1,9}-\d{1,5}):?)[ \t]+(?=\S)")),
    ("gherkin", re.compile(r"^( *)(((?:Feature|Rule|Scenario(?: Outline)?|Example|Background)):)"
                           r"[ \t]+(?=\S)")),
)
"""Outline markers CommonMark does not know, tried in this order (table-driven). `part` is
a keyword and its number (`PART II. ...`, `Epic C: ...`), `key` an issue key (`WAL-101 ...`);
those two stay in the item's text; the letter/roman/parenthesised markers and Gherkin's
`Feature:` / `Scenario:` keywords (which carry no number) are stripped."""
STRIPPED = ("letter", "roman", "paren", "gherkin")
QUICK = re.compile(r"^ *(?:Feature:|Scenario|Rule:|Example:|Background:|"
                   r"\d{1,3}\.\d|[A-Za-z][.)]|[ivxIVX]{1,4}[.)]|\(|[A-Z][A-Z0-9]{1,9}-\d|"
                   r"(?i:part|section|chapter|epic|module|area|phase|stage|milestone)\s)", re.M)
"""Any line that might carry one of the markers (most Markdown sections have none)."""
CM_ITEM = re.compile(r"^ *(?:[-*+]|\d{1,9}[.)])(?:[ \t]|$)")
FENCE = re.compile(r"^ *(`{3,}|~{3,})")
KEYWORDS = (r"epic|part|section|chapter|phase|stage|step|story|requirement|feature|module|"
            r"area|milestone|item|task|appendix|use case")
HEAD_LABEL = re.compile(
    rf"^\s*(?:(?i:{KEYWORDS})\s+(\d{{1,3}}(?:\.\d{{1,3}})*|[IVX]{{2,4}}|[A-Za-z])\b"
    r"|(\d{1,3}(?:\.\d{1,3})*)\.?(?=\s)|([A-Z]|[IVX]{1,4})[.:)](?=\s))")
REF_PAIR = re.compile(
    rf"^(?i:{KEYWORDS})\s+(\d{{1,3}}|[IVX]{{2,4}}|[A-Za-z])\s*,?\s*(?i:item|task|story|step|"
    r"requirement)\s+(\d{1,3}|[ivxIVX]{1,4}|[A-Za-z])$")
REF_ONE = re.compile(
    rf"^(?:(?i:{KEYWORDS})s?\s+)?((?:\d{{1,3}}|[ivxIVX]{{1,4}}|[A-Za-z])"
    r"(?:\.(?:\d{1,3}|[ivxIVX]{1,4}|[A-Za-z]))*)$")


def _is_roman(label: str) -> bool:
    return bool(label) and re.fullmatch(ROMAN, label.lower()) is not None


def as_lists(text: str) -> tuple[str, dict[int, str]]:
    """The text with plain-text outline lines made bullet items, and each one's marker by line.

    A marker line becomes an item only where an item may start: after a blank
    line, a list item, another marker line or an indented line, so a sentence
    that merely begins with `I.` inside a paragraph is left alone.
    """
    if not QUICK.search(text):
        return text, {}
    lines = text.split("\n")
    markers: dict[int, str] = {}
    fence = ""
    prev_blank = True
    prev_item = False
    for i, line in enumerate(lines):
        if fence:
            if line.strip().startswith(fence):
                fence = ""
            continue
        f = FENCE.match(line)
        if f:
            fence = f.group(1)
            continue
        if not line.strip():
            prev_blank = True
            continue
        label = None
        if not CM_ITEM.match(line):
            for kind, pat in MARKERS:
                m = pat.match(line)
                if m is None:
                    continue
                lab = m.group(3)
                if not lab or (kind == "roman" and not _is_roman(lab)):
                    continue
                label = "" if kind == "gherkin" else lab.lower() if kind in ("part", "key") else lab
                indent = m.group(1)
                break
        indented = line.startswith(" ")
        if label is not None and (prev_blank or prev_item or indented):
            lines[i] = f"{indent}- {line[len(indent):]}"
            markers[i] = label
            prev_item = True
        else:
            prev_item = bool(CM_ITEM.match(line)) or (prev_item and indented)
        prev_blank = False
    if not markers:
        return text, markers
    return "\n".join(lines), markers


def strip_marker(text: str) -> str:
    """The item text without a leading outline marker (`A.`, `(b)`, `iv)`); dotted ones stay."""
    for kind, pat in MARKERS:
        if kind not in STRIPPED:
            continue
        m = pat.match(text)
        if m and m.group(3) and (kind != "roman" or _is_roman(m.group(3))):
            return text[m.end():]
    return text


def heading_label(title: str) -> str:
    """The outline number a heading gives itself, lower-cased ("" if none)."""
    m = HEAD_LABEL.match(title)
    if not m:
        return ""
    return (m.group(1) or m.group(2) or m.group(3) or "").lower()


def join(parent: str, label: str) -> str:
    """A child's full outline: a dotted label stands alone, else it extends its parent's."""
    if not label:
        return ""
    label = label.lower().rstrip(".")
    if "." in label or not parent:
        return label
    return f"{parent}.{label}"


def ref_outline(text: str) -> str:
    """The outline a reference names (`A.2`, `Epic C, item 1`, `story 5`), or ""."""
    text = " ".join(text.strip().strip(".").split())
    m = REF_PAIR.match(text)
    if m:
        return f"{m.group(1)}.{m.group(2)}".lower()
    m = REF_ONE.match(text)
    if m:
        return m.group(1).lower()
    return ""
