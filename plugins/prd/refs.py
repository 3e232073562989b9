"""Dependency references in the forms people write them, parsed into lookup candidates.

A reference follows a phrase (`depends on`, `requires`, `blocked by`,
`prerequisite(s)`, `after`, `needs`, `waits for`), inline or as a labelled line
(`- Blocked by: <title> (<epic>, item 1)`). Each part of what follows becomes
one reference with the ways it may be found, tried in order when the document
is assembled (`resolve.py`): a requirement ID (`FR-4`, `REQ-12`, `US-3`,
`T012`), a link to a heading, a sibling item's number, a title (an unambiguous
prefix or close match of another task's title), an outline number (`A.2`,
`2.3.1`, `Epic C, item 1`). A phrase in the middle of a sentence ("the client
requires a token") is weak: only IDs and exact titles count after it, so prose
does not turn into edges or warnings.

Candidates are strings: `id:<ID>`, `a:<anchor>`, `num:<n>` (sibling in the
same numbered list), `t:<words>` (title prefix or close match), `T:<words>`
(exact title only), `&:<words>\x1d<words>` (several titles joined by "and",
each found as `t:`), `o:<outline>`, `n:<name slug>`. A reference whose only
candidate is an exact title (a phrase without a colon, such as "requires
caching" in prose) is not reported when nothing has that title.
"""

from __future__ import annotations

import re
from typing import NamedTuple

from catalytic.plugins.prd import classify as C
from catalytic.plugins.prd.outline import ref_outline

STRONG = ("depend", "blocked", "wait")
"""Phrases that always introduce a dependency (`requires`, `after`, `needs` may be prose)."""
LABEL_ONLY = ("dependencies", "prereq", "pre-req", "build")
"""Words that introduce one only as a label (`Prerequisites: ...`)."""
STOP = frozenset({"this", "that", "it", "them", "these", "those", "what", "whether", "which",
                  "other", "others", "each", "all", "everything", "something", "anything",
                  "nothing"})
PHRASE = re.compile(
    r"(?P<pre>^|[\s(\[,;.:—–-])(?:\*\*|__|_|\*)?(?P<p>depends?\s+(?:up)?on|dependent\s+on|dependencies|"
    r"blocked\s+by|prerequisites?|pre-?reqs?|requires|require|needs|after|builds?\s+(?:up)?on|"
    r"waits?\s+(?:for|on))\b(?P<colon>\s*(?:\*\*|__|_|\*)?\s*:(?:\*\*|__)?)?", re.I)
QUICK = re.compile(r"depend|block|pre-?req|requir|need|after|build|wait", re.I)
"""Text without any of these has no reference (checked once, before the finer scan)."""
LABEL_LINE = re.compile(
    r"^\s*(?:[-*+]\s+)?(?:\*\*|__|_|\*)?\s*(depends?\s+(?:up)?on|dependent\s+on|dependencies|"
    r"blocked\s+by|prerequisites?|pre-?reqs?|requires|after|needs|waits?\s+for)\b", re.I)
"""A line (or list item) that only states what its item waits for."""
TOKEN = (r"(?:(?:FR|NFR|REQ|REQT|SC|US|UJ|AC|TC|BR|UC|T|R|NF|QR|SR|PR|DR|IR|CR|OR|[A-Z]{2,4})"
         r"-?\d{1,4}(?:\.\d+)*|\d{1,3}(?:\.\d{1,3})*|[A-Za-z](?:\.\d{1,3})+|[IVX]{1,4}\.[a-z])")
NUMLIST = re.compile(
    rf"^(?:(?:items?|tasks?|steps?|stories|story|requirements?|reqs?|#)\s*)?({TOKEN})"
    rf"((?:\s*(?:,|and|&|or|/)\s*(?:#\s*)?{TOKEN})*)$")
ANY_ID = re.compile(rf"(?<![\w./-]){TOKEN}(?![\w-])")
ANCHOR = re.compile(r"\[([^\]]*)\]\(#([^)\s]+)\)")
BRACKETS = re.compile(r"^\[([^\]]+)\]$")
MARKUP = re.compile(r"\*\*|__|`|(?<!\w)[*_]|[*_](?!\w)")
ANY_ID_ONLY = re.compile(r"[A-Z]{1,5}-?\d{1,4}(?:\.\d+)*")
LEADING = re.compile(r"^(?:and|or|also|the completion of|completion of)\s+", re.I)
HINT = re.compile(r"\(([^()]*)\)\s*$")
"""A parenthesis closing a reference: where it sits (`(B.1)`, `(Epic B, item 1)`)."""
AND = re.compile(r"\s+(?:and|&)\s+", re.I)
"""`depends on <title> and <title>`: tried as two titles when the whole is no title."""
DASH = re.compile(r"\s+[-—–]\s+")


class Dep(NamedTuple):
    """One reference: as written, and the ways to find its target, in order."""

    quote: str
    candidates: tuple[str, ...]


def words(text: str) -> str:
    """A title reduced to lower-case words (how titles are compared)."""
    return " ".join(re.findall(r"[a-z0-9]+", C.plain(text).lower()))


def is_label_line(line: str) -> bool:
    """Whether a line (or list item) only states what its item waits for.

    `Depends on ...` / `Blocked by ...` always; `Requires`, `After`, `Needs`,
    `Prerequisites` only with a colon or when what follows is only IDs/numbers
    (an item "After login, show the dashboard" is work, not a dependency).
    """
    m = LABEL_LINE.match(line)
    if not m:
        return False
    rest = MARKUP.sub("", line[m.end():]).strip()
    if rest.startswith(":") or m.group(1).lower().startswith(STRONG):
        return True
    return bool(NUMLIST.match(rest.rstrip(".")))


def parse(text: str) -> list[Dep]:
    """Every dependency reference in `text` (Markdown of one item, heading or line)."""
    out: list[Dep] = []
    if not QUICK.search(text):
        return out
    for line in text.split("\n"):
        pos = 0
        while True:
            m = PHRASE.search(line, pos)
            if m is None:
                break
            tail, end = _tail(line, m.end(), m.group("pre") == "(")
            pos = max(end, m.end())
            phrase = m.group("p").lower()
            before = line[:m.start("p")].rstrip(" *_")
            start = not before.strip(" -+>")
            colon = bool(m.group("colon"))
            paren = before.endswith("(")
            if phrase.startswith(LABEL_ONLY):
                mode = "strong" if colon and (start or before.endswith(tuple(";,(."))) else ""
            elif phrase.startswith(STRONG) or colon or paren:
                mode = "strong"
            elif ((phrase.startswith("require") and (start or before.endswith(tuple(".;"))))
                  or (phrase == "after" and before.endswith(tuple(",;—–-")))):
                mode = "exact"
            else:
                mode = "weak"
            if mode:
                out.extend(_parts(tail, mode))
    return out


def _tail(line: str, start: int, in_paren: bool) -> tuple[str, int]:
    """What follows a phrase: to the closing parenthesis, or to the end of the sentence."""
    depth = 0
    i = start
    while i < len(line):
        ch = line[i]
        if ch in "([":
            depth += 1
        elif ch in ")]":
            if depth == 0:
                if in_paren or ch == "]":
                    break
            else:
                depth -= 1
        elif depth == 0 and ch in ".;" and (i + 1 == len(line) or line[i + 1] == " "):
            break
        i += 1
    return line[start:i], i


PAIR_TAIL = re.compile(r",\s*(?:item|task|story|step|requirement)\s+\w+\b", re.I)
"""The second half of `Epic C, item 1`: a comma that does not separate two references."""


def _split(tail: str) -> list[str]:
    parts: list[str] = []
    depth = 0
    cur = ""
    for i, ch in enumerate(tail):
        if ch in "([":
            depth += 1
        elif ch in ")]":
            depth = max(0, depth - 1)
        if ch in ",;" and depth == 0 and not (ch == "," and PAIR_TAIL.match(tail, i)):
            parts.append(cur)
            cur = ""
        else:
            cur += ch
    parts.append(cur)
    return parts


def _parts(tail: str, mode: str) -> list[Dep]:
    out: list[Dep] = []
    tail = MARKUP.sub("", tail).strip()
    for raw in _split(tail):
        part = raw.strip().strip(".:").strip()
        part = LEADING.sub("", part)
        if (not part or part.lower() in ("none", "n/a", "-", "nothing", "tbd", "none or list")
                or part.startswith(("[[", "{{")) or set(words(part).split()) <= STOP):
            continue
        anchors = ANCHOR.findall(part)
        if anchors:
            out.extend(Dep(f"[{label}](#{a})", ("a:" + a.lower(), "t:" + words(label)))
                       for label, a in anchors)
            continue
        nums = NUMLIST.match(part)
        if nums:
            for tok in ANY_ID.findall(part):
                out.append(Dep(tok, _token(tok)))
            continue
        brackets = BRACKETS.match(part)
        if brackets:
            for name in brackets.group(1).split(","):
                if name.strip():
                    out.append(Dep(name.strip(), ("n:" + C.slug(name), "t:" + words(name))))
            continue
        if mode == "weak":
            continue
        hint = HINT.search(part)
        title = part[:hint.start()].strip() if hint else part
        title = DASH.split(title, maxsplit=1)[0]
        cands: list[str] = []
        if C.REQ_ID.fullmatch(title) or ANY_ID_ONLY.fullmatch(title):
            cands.append("id:" + title.upper())
        w = words(title)
        if w and len(w) <= 200:
            cands.append(("t:" if mode == "strong" else "T:") + w)
            pieces = [words(x) for x in AND.split(title)]
            if mode == "strong" and len(pieces) > 1 and all(pieces):
                cands.append("&:" + "\x1d".join(pieces))
        outline = (ref_outline(hint.group(1)) if hint else "") or ref_outline(title)
        if outline:
            cands.append("o:" + outline)
        if hint and not outline:
            cands.extend("id:" + rid.upper() for rid in C.REQ_ID.findall(hint.group(1)))
        if cands:
            out.append(Dep(part, tuple(cands)))
    return out


def _token(tok: str) -> tuple[str, ...]:
    """Candidates for a bare ID or number: a sibling's number, a declared ID, an outline."""
    if re.fullmatch(r"\d{1,3}", tok):
        return ("num:" + tok, "o:" + tok)
    if re.fullmatch(r"\d{1,3}(?:\.\d{1,3})+", tok):
        return ("id:" + tok, "o:" + tok)
    if re.fullmatch(r"[A-Za-z](?:\.\d{1,3})+|[IVX]{1,4}\.[a-z]", tok):
        return ("o:" + tok.lower(),)
    return ("id:" + tok.upper(),)


def encode(dep: Dep, line: int) -> str:
    """The form a section result keeps: `ref:<line>\\x1f<quote>\\x1f<candidate>...`."""
    return "\x1f".join(("ref:" + str(line), dep.quote, *dep.candidates))


def line_of(quote: str, lines: list[str], first: int, last: int) -> int:
    """The (section-relative) line among first..last on which `quote` is written."""
    key = quote[:30]
    for i in range(first, min(last, len(lines) - 1) + 1):
        if key in lines[i] or key in MARKUP.sub("", lines[i]):
            return i
    return first
