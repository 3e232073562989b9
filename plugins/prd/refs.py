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
(exact title only), `&:<words>...` (several titles joined by "and",
each found as `t:`), `o:<outline>`, `e:<words>...<n>` (item n of the task with that
title), `n:<name slug>`. A first candidate `rev:`
marks a reverse reference (`Blocks:`, `Required by:`, `Enables:`, `Unblocks:`,
`Needed by:`, `Prerequisite for:`, with a colon): its target waits for the item.
A reference whose only candidate is an exact title (a phrase without a colon,
such as "requires caching" in prose) is not reported when nothing has that title.
"""

from __future__ import annotations

import re
from typing import NamedTuple

from catalytic.plugins.prd import classify as C
from catalytic.plugins.prd.outline import ref_outline

STRONG = ("depend", "blocked", "wait", "deps")
"""Phrases that always introduce a dependency (`requires`, `after`, `needs` may be prose)."""
LABEL_ONLY = ("dependencies", "dependency", "prereq", "pre-req", "build")
"""Words that introduce one only as a label (`Prerequisites: ...`)."""
STOP = frozenset({"this", "that", "it", "them", "these", "those", "what", "whether", "which",
                  "other", "others", "each", "all", "everything", "something", "anything",
                  "nothing"})
PHRASE = re.compile(
    r"(?P<pre>^|[\s(\[,;.:—–-])(?:\*\*|__|_|\*)?(?P<p>depends?\s+(?:up)?on|dependent\s+on|"
    r"dependencies|depends(?=\s*:)|deps(?=\s*:)|dependency(?=\s*:)|blocked\s+(?:by|on)|"
    r"waiting\s+(?:for|on)|prerequisites?|pre-?reqs?|requires|require|needs|after|"
    r"builds?\s+(?:up)?on|waits?\s+(?:for|on)|once|"
    r"(?P<rev>blocks|required\s+by|needed\s+by|enables|unblocks|prerequisite\s+(?:for|of)))\b"
    r"(?P<colon>\s*(?:\*\*|__|_|\*)?\s*:(?:\*\*|__)?)?", re.I)
QUICK = re.compile(r"dep|block|pre-?req|requir|need|after|build|wait|enable|once", re.I)
"""Text without any of these has no reference (checked once, before the finer scan)."""
LABEL_LINE = re.compile(
    r"^\s*(?:[-*+]\s+)?(?:\*\*|__|_|\*)?\s*(depends?\s+(?:up)?on|dependent\s+on|dependencies|"
    r"depends(?=\s*:)|deps(?=\s*:)|dependency(?=\s*:)|blocked\s+(?:by|on)|waiting\s+(?:for|on)|"
    r"prerequisites?\s+(?:for|of)|prerequisites?|pre-?reqs?|requires|after|needs|waits?\s+for|"
    r"blocks|required\s+by|needed\s+by|enables|unblocks)\b", re.I)
"""A line (or list item) that only states what its item waits for."""
TOKEN = (r"(?:#\d{1,6}|"
         r"(?:FR|NFR|REQ|REQT|SC|US|UJ|AC|TC|BR|UC|T|R|NF|QR|SR|PR|DR|IR|CR|OR|[A-Z]{2,4})"
         r"-?\d{1,4}(?:\.\d+)*|\d{1,3}(?:\.\d{1,3})*|[A-Za-z](?:\.\d{1,3})+|[IVX]{1,4}\.[a-z])")
NUMLIST = re.compile(
    rf"^(?:(?:items?|tasks?|steps?|stories|story|requirements?|reqs?|issues?)\s*)?({TOKEN})"
    rf"((?:\s*(?:,|and|&|or|/)\s*{TOKEN})*)"
    r"(?:\s+(?:are|is|have|has)?\s*(?:done|complete|completed|finished|merged|landed|shipped))?$")
ANY_ID = re.compile(rf"(?<![\w./#-]){TOKEN}(?![\w-])")
ANCHOR = re.compile(r"\[([^\]]*)\]\(#([^)\s]+)\)")
BRACKETS = re.compile(r"^\[([^\]]+)\]$")
MARKUP = re.compile(r"\*\*|__|`|(?<!\w)[*_]|[*_](?!\w)")
ANY_ID_ONLY = re.compile(r"[A-Z]{1,5}-?\d{1,4}(?:\.\d+)*")
LEADING = re.compile(r"^(?:and|or|also|both|either|all of|the completion of|completion of)\s+",
                     re.I)
HINT = re.compile(r"\(([^()]*)\)\s*$")
"""A parenthesis closing a reference: where it sits (`(B.1)`, `(Epic B, item 1)`)."""
AND = re.compile(r"\s+(?:and|&)\s+", re.I)
"""`depends on <title> and <title>`: tried as two titles when the whole is no title."""
NAMED_ITEM = re.compile(r"^(.+?),\s*(?:item|task|story|step|requirement|no\.?|#)\s*"
                        r"(\d{1,3}|[a-zA-Z]|[ivxIVX]{1,4})$", re.I)
"""`Loans, item 1`: an item of the task with that title (an epic named, not lettered)."""
DASH = re.compile(r"\s+[-—–]\s+")


REVERSE = "rev:"
"""First candidate of a reference that points the other way (`Blocks: X`: X depends on us)."""


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
    if not QUICK.search(line, 0, 60):
        return False
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
            reverse = m.group("rev") is not None
            before = line[:m.start("p")].rstrip(" *_")
            start = not before.strip(" -+>")
            colon = bool(m.group("colon"))
            paren = before.endswith("(")
            if reverse:  # "Blocks: X" / "Required by: X": X waits for this item
                mode = "strong" if colon else "weak" if start else ""
            elif phrase.startswith(LABEL_ONLY):
                mode = "strong" if colon and (start or before.endswith(tuple(";,(."))) else ""
            elif phrase.startswith(STRONG) or colon or (paren and phrase != "after"):
                mode = "strong"
            elif ((phrase.startswith("require") and (start or before.endswith(tuple(".;"))))
                  or (phrase == "after" and before.endswith(tuple(",;—–-(")))):
                mode = "exact"
            else:
                mode = "weak"
            if mode and reverse:
                out.extend(Dep(d.quote, (REVERSE, *d.candidates)) for d in _parts(tail, mode))
            elif mode:
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
        if (not part or part.strip("[]").lower() in ("none", "n/a", "-", "nothing", "tbd",
                                                      "none or list")
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
        named = NAMED_ITEM.match(hint.group(1).strip()) if hint and not outline else None
        if named and words(named.group(1)):
            cands.append(f"e:{words(named.group(1))}\x1d{named.group(2).lower()}")
        if hint and not outline:
            cands.extend("id:" + rid.upper() for rid in C.REQ_ID.findall(hint.group(1)))
        if cands:
            out.append(Dep(part, tuple(cands)))
    return out


def _token(tok: str) -> tuple[str, ...]:
    """Candidates for a bare ID or number: a sibling's number, a declared ID, an outline."""
    if tok.startswith("#"):  # an issue number: `#101 Title` declares it
        return ("id:" + tok, "num:" + tok[1:], "o:" + tok[1:])
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


STATEMENT = re.compile(
    r"^\s*(?:\*\*|__)?(?P<subj>[^:*_\n]{2,80}?)(?:\*\*|__)?\s*(?::\s*|\s+)(?:\*\*|__)?"
    r"(?:depends\s+on|is\s+blocked\s+by|blocked\s+by|requires|must\s+wait\s+for|waits\s+for|"
    r"comes\s+after|starts?\s+after)\b\s*:?\s*(?P<obj>.+)$", re.I | re.S)
"""`Phase 2 depends on Phase 1.` / `**Foundational (Phase 2)**: Depends on Setup`, an item
of a dependency section saying what another task waits for."""
SUBJECT = "sub:"
"""First candidate of a statement's reference: the task that waits, then what it waits for."""


def statement(text: str) -> list[Dep]:
    """The references of a dependency statement, each led by its subject's candidates."""
    m = STATEMENT.match(MARKUP.sub("", text))
    if not m:
        return []
    subj = m.group("subj").strip()
    if set(words(subj).split()) <= STOP | {"it", "this", "that"}:
        return []
    hint = HINT.search(subj)
    title = subj[:hint.start()].strip() if hint else subj
    cands = [("t:" if " " in words(title) else "T:") + words(title)] if words(title) else []
    outline = (ref_outline(hint.group(1)) if hint else "") or ref_outline(title)
    if outline:
        cands.append("o:" + outline)
    if not cands:
        return []
    lead = SUBJECT + "\x1d".join((subj, *cands))
    return [Dep(d.quote, (lead, *d.candidates)) for d in _parts(m.group("obj"), "strong")]
