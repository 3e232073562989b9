"""Cut a document into its tree of heading sections and give each a Merkle hash.

A cheap line scan finds the top-level headings (ATX and setext, never inside
code fences or list items) so that only the sections whose text changed are
parsed again. `tests/prd` checks that it finds exactly the headings markdown-it
finds on every corpus document.

A section's key is BLAKE2b over (decomposer fingerprint, its own normalized
text, its children's keys in order): equal keys mean equal subtrees wherever
they sit in the document.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from hashlib import blake2b

ATX = re.compile(r"^( {0,3})(#{1,6})(?:[ \t]+(.*?))?(?:[ \t]+#+)?[ \t]*$")
SETEXT = re.compile(r"^ {0,3}(=+|-+)[ \t]*$")
FENCE = re.compile(r"^ *(`{3,}|~{3,})")
LIST_ITEM = re.compile(r"^\s*(?:[-*+]|\d{1,9}[.)])(?:\s|$)")
THEMATIC = re.compile(r"^ {0,3}((\*[ \t]*){3,}|(_[ \t]*){3,})$")


@dataclass(slots=True)
class Section:
    """One heading and the lines up to the next heading (its own text)."""

    index: int
    level: int
    title: str
    start: int
    """0-based first line (the heading's first line; 0 for the root)."""
    body: int
    """0-based first line after the heading."""
    end: int
    """0-based line after the section's own text."""
    parent: int
    children: list[int] = field(default_factory=list)
    own_hash: bytes = b""
    key: bytes = b""


SLOW = re.compile(r"\n(?: {0,3}(?:=+|-+)[ \t]*(?=\n|\Z)| {1,3}#)")
"""Setext underlines and indented ATX headings need the full line scan."""
CANDIDATE = re.compile(r"\n(?:#{1,6}(?:[ \t]|(?=\n|\Z))| *(?:`{3,}|~{3,}))")
"""Lines that may open a heading or a fence. These patterns run over the text with
a newline put in front, so each starts with a literal newline: the regex engine
then skips to newlines at C speed instead of trying every character (a `^` with
re.M is tried at every position, 4-8x slower on a large document)."""


def find_headings(lines: list[str], text: str | None = None) -> list[tuple[int, int, int, str]]:
    """(first line, body line, level, title) of every top-level heading, in order.

    With `text` (the same lines joined) and no setext underline or indented
    heading in it, only the lines a regex picks out are looked at.
    """
    if text is not None and not SLOW.search("\n" + text):
        return _fast_headings(lines, text)
    out: list[tuple[int, int, int, str]] = []
    fence = ""
    para = -1
    para_top = False
    in_list = False
    for i, line in enumerate(lines):
        if fence:
            s = line.strip()
            if s.startswith(fence) and set(s) == {fence[0]}:
                fence = ""
            continue
        if not line.strip():
            para = -1
            continue
        m = FENCE.match(line)
        if m and not (m.group(1)[0] == "`" and "`" in line[m.end():]):
            fence = m.group(1)
            para = -1
            continue
        indent = len(line) - len(line.lstrip(" "))
        m = ATX.match(line)
        if m and not (in_list and indent >= 2):
            out.append((i, i + 1, len(m.group(2)), (m.group(3) or "").strip()))
            para = -1
            in_list = False
            continue
        m = SETEXT.match(line)
        if m and para >= 0 and para_top:
            title = " ".join(x.strip() for x in lines[para:i])
            out.append((para, i + 1, 1 if m.group(1)[0] == "=" else 2, title))
            para = -1
            continue
        if m or THEMATIC.match(line):
            para = -1
            continue
        if LIST_ITEM.match(line):
            in_list = True
            para_top = False
            if para < 0:
                para = i
            continue
        if para < 0:
            para = i
            if indent == 0:
                in_list = False
            para_top = not in_list and indent < 4 and line.lstrip()[0] not in ">|<"
    return out


def _fast_headings(lines: list[str], text: str) -> list[tuple[int, int, int, str]]:
    out: list[tuple[int, int, int, str]] = []
    fence = ""
    pos = line = 0
    for m in CANDIDATE.finditer("\n" + text):  # m.start() is the line's offset in `text`
        line += text.count("\n", pos, m.start())
        pos = m.start()
        raw = lines[line]
        if fence:
            s = raw.strip()
            if s.startswith(fence) and set(s) == {fence[0]}:
                fence = ""
            continue
        f = FENCE.match(raw)
        if f:
            if not (f.group(1)[0] == "`" and "`" in raw[f.end():]):
                fence = f.group(1)
            continue
        a = ATX.match(raw)
        if a:
            out.append((line, line + 1, len(a.group(2)), (a.group(3) or "").strip()))
    return out


def build_tree(lines: list[str], text: str | None = None) -> list[Section]:
    """Sections in document order; index 0 is the root (the text before any heading)."""
    heads = find_headings(lines, text)
    first = heads[0][0] if heads else len(lines)
    sections = [Section(0, 0, "", 0, 0, first, -1)]
    stack = [0]
    for n, (start, body, level, title) in enumerate(heads):
        end = heads[n + 1][0] if n + 1 < len(heads) else len(lines)
        while sections[stack[-1]].level >= level:
            stack.pop()
        sec = Section(len(sections), level, title, start, body, end, stack[-1])
        sections[stack[-1]].children.append(sec.index)
        sections.append(sec)
        stack.append(sec.index)
    return sections


def normalized(lines: list[str], start: int, end: int) -> str:
    """A section's own text with trailing spaces and trailing blank lines removed."""
    part = [x.rstrip() for x in lines[start:end]]
    while part and not part[-1]:
        part.pop()
    return "\n".join(part)


def hash_tree(sections: list[Section], lines: list[str], fingerprint: bytes) -> None:
    """Fill `own_hash` and the Merkle `key` of every section, children first."""
    for sec in reversed(sections):
        own = blake2b(normalized(lines, sec.start, sec.end).encode("utf-8", "surrogatepass"),
                      digest_size=16).digest()
        sec.own_hash = own
        h = blake2b(fingerprint, digest_size=16)
        h.update(own)
        for c in sec.children:
            h.update(sections[c].key)
        sec.key = h.digest()
