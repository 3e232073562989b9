"""What a line of requirements says: priority, kind, IDs, references, complexity.

Plain functions over strings, so each rule can be read, tested and changed alone.
"""

from __future__ import annotations

import re
import unicodedata

PRIORITIES = ("critical", "high", "medium", "low")

RFC_HIGH = re.compile(r"\b(MUST|SHALL|REQUIRED)\b")
RFC_MEDIUM = re.compile(r"\b(SHOULD|RECOMMENDED)\b")
RFC_LOW = re.compile(r"\b(MAY|OPTIONAL|COULD)\b")
EARS_SHALL = re.compile(r"\b(?:shall|SHALL)\b")
EARS = re.compile(
    r"^\s*(?:\*\*)?(WHEN|IF|WHILE|WHERE)\b.*\b(?:THE|the)\s+[\w .-]+?\s+(?:SHALL|shall)\b",
    re.S)
GWT = re.compile(
    r"\b(Given|GIVEN)\b.*\b(Then|THEN)\b|^\s*(?:\*\*)?(WHEN|When)\b.*\b(THEN|then)\b", re.S)
GWT_START = re.compile(r"^\s*(?:\*\*)?(GIVEN|WHEN|THEN|AND|Given|Then)\b(?:\*\*)?")
EXPLICIT_PRIORITY = re.compile(
    r"\b(?:priority|prio)\b\s*(?:\*\*)?\s*[:=(]?\s*(?:\*\*)?\s*(critical|urgent|blocker|highest|"
    r"high|medium|normal|moderate|low|lowest|p[0-4])\b", re.I)
P_MARK = re.compile(r"(?<![\w-])\(?\[?(P[0-4])\]?\)?(?![\w-])")
MOSCOW = re.compile(
    r"\b(must[- ]have|should[- ]have|could[- ]have|won'?t[- ]have|nice[- ]to[- ]have)\b", re.I)
CRITICAL = re.compile(r"\b(CRITICAL|BLOCKER|blocking prerequisite)", re.I)

REQ_ID = re.compile(
    r"(?<![\w./-])((?:FR|NFR|REQ|REQT|SC|US|UJ|AC|TC|BR|UC|T|R|NF|QR|SR|PR|DR|IR|CR|OR)"
    r"-?\d{1,4}(?:\.\d+)*)(?![\w-])")
NUMBERED = re.compile(r"^\s*(\d{1,3}(?:\.\d{1,3})+)\.?\s+")
DEP_PHRASE = re.compile(
    r"\b(depends? (?:up)?on|dependent on|dependencies:?|requires?|required by|blocked by|"
    r"after|prerequisites?:?|builds? (?:up)?on|needs?)\b", re.I)
ANCHOR_LINK = re.compile(r"\]\(#([^)\s]+)\)")
BRACKET_LIST = re.compile(r"\[([^\]]+)\]")
NUM_REF = re.compile(r"(?<![\w.])(\d{1,3}(?:\.\d{1,3})*)(?![\w%])")

MARKUP = re.compile(r"(\*\*|__|(?<!\w)[*_](?!\s)|(?<!\s)[*_](?!\w)|`)")
LINK = re.compile(r"!?\[([^\]]*)\]\([^)]*\)")
EMOJI_STATUS = re.compile(r"[\u2705\u2714\u274c\u26a0\U0001F3AF\U0001F6A7\u23f3]+\ufe0f?\s*"
                          r"(COMPLETE[D]?|DONE|IN PROGRESS|TODO|MVP)?", re.I)
PLACEHOLDER = re.compile(
    r"^\s*(\[[^\]]+\]|\{\{[^}]+\}\}|<[A-Z][A-Z _-]*>|\$ARGUMENTS|TBD|TODO|\.\.\.)\s*[.:]?\s*$")

TECH_WORDS = re.compile(
    r"\b(integrat\w*|migrat\w*|security|secure|auth\w*|encrypt\w*|concurren\w*|distribut\w*|"
    r"real-?time|performance|scal\w*|algorithm\w*|database|cach\w*|sync\w*|protocol|parallel\w*|"
    r"transaction\w*|api|oauth|websocket|stream\w*|queue\w*|cluster\w*|crypt\w*|compil\w*)\b",
    re.I)
UNCERTAIN = re.compile(r"\b(TBD|research|investigate|unknown|spike|prototype|evaluate|explore)\b",
                       re.I)
NFR_WORDS = re.compile(
    r"\b(latency|throughput|uptime|availability|p9[59]|response time|within \d+ ?(ms|s|seconds)|"
    r"accessib\w*|WCAG|scalab\w*|reliab\w*|performance|memory usage|security)\b", re.I)

INFO_TITLES = re.compile(
    r"^(overview|introduction|purpose|summary|background|motivation|context|glossary|terms|"
    r"terminology|definitions|references?|appendix|non[- ]?goals?|out of scope|alternatives"
    r"( considered)?|open questions|faq|table of contents|toc|changelog|revision history|"
    r"license|notes?|document conventions|format\b.*|path conventions|clarifications|session\b.*|"
    r"risks?( and mitigations)?|prior art|drawbacks|unresolved questions|how to use.*|"
    r"instructions?|executive summary|problem statement|why|about|status|current status|"
    r"release signoff checklist|notes/constraints/caveats.*|implementation history|"
    r"summary of changes|what changes|impact|assumptions|personas?|user personas?|"
    r"research findings|example.*|examples)\b", re.I)
ACCEPT_TITLES = re.compile(
    r"(acceptance|scenarios?\b|criteria|given.*then|test(s|ing)?\b|test (plan|strategy|cases)|"
    r"verification|definition of done)", re.I)
NFR_TITLES = re.compile(r"(non-?functional|\bnfrs?\b|quality attributes|performance|security|"
                        r"scalability|reliability|availability|accessibility|constraints)", re.I)
ORDERED_TITLES = re.compile(r"(dependency chain|\border\b|sequence|sequential|step[- ]by[- ]step|"
                            r"\bsteps\b|implementation order|build order)", re.I)
ORDER_TEXT = re.compile(r"\b(in (this|the following|that) order|sequentially|one after another|"
                        r"in order|step by step|foundation first)\b", re.I)
PHASE_TITLE = re.compile(r"^(phase|step|stage|milestone|sprint|iteration)\s+(\d+)", re.I)


def plain(text: str) -> str:
    """Inline Markdown reduced to readable text (links to their labels, no emphasis marks)."""
    text = LINK.sub(r"\1", text)
    text = MARKUP.sub("", text)
    return " ".join(text.split())


def slug(text: str, words: int = 6) -> str:
    """A short, stable, URL-safe slug of a title (its first few words)."""
    text = unicodedata.normalize("NFKD", plain(text)).encode("ascii", "ignore").decode()
    parts = re.findall(r"[a-z0-9]+", text.lower())[:words]
    return "-".join(parts)[:48].strip("-") or "item"


def heading_slug(title: str) -> str:
    """Slug of a heading without its status marks and leading outline numbers."""
    title = EMOJI_STATUS.sub("", title)
    title = re.sub(r"^\s*\d+(\.\d+)*\.?\s+(?=\D)", "", title)
    return slug(title)


def anchor(title: str) -> str:
    """The anchor GitHub gives a heading (for `[x](#anchor)` references)."""
    text = plain(title).lower()
    text = re.sub(r"[^\w\- ]", "", text)
    return text.replace(" ", "-")


def priority_of(text: str) -> str | None:
    """Explicit priority said by the text, or None to inherit."""
    m = EXPLICIT_PRIORITY.search(text)
    if m:
        return _word_priority(m.group(1))
    m = P_MARK.search(text)
    if m:
        return {"P0": "critical", "P1": "high", "P2": "medium"}.get(m.group(1), "low")
    m = MOSCOW.search(text)
    if m:
        w = m.group(1).lower()
        return "high" if w.startswith("must") else "medium" if w.startswith("should") else "low"
    if CRITICAL.search(text):
        return "critical"
    if RFC_HIGH.search(text) or EARS_SHALL.search(text):
        return "high"
    if RFC_MEDIUM.search(text):
        return "medium"
    if RFC_LOW.search(text):
        return "low"
    return None


def _word_priority(word: str) -> str:
    w = word.lower()
    if w in ("critical", "urgent", "blocker", "highest", "p0"):
        return "critical"
    if w in ("high", "p1"):
        return "high"
    if w in ("medium", "normal", "moderate", "p2"):
        return "medium"
    return "low"


def is_requirement(text: str) -> bool:
    """RFC 2119 keywords in capitals, or an EARS / 'shall' sentence."""
    return bool(RFC_HIGH.search(text) or RFC_MEDIUM.search(text) or RFC_LOW.search(text)
                or EARS_SHALL.search(text))


def is_scenario(text: str) -> bool:
    """Given/When/Then or WHEN … THEN text (an acceptance criterion)."""
    return bool(GWT.search(text) or GWT_START.match(text))


def is_placeholder(text: str) -> bool:
    return bool(PLACEHOLDER.match(text))


def explicit_ids(text: str) -> list[str]:
    """Requirement/task IDs the text declares at its start (FR-001, T003, 1.2.3)."""
    head = plain(text)[:40]
    out = []
    m = re.match(r"^\s*(?:\[[ xX]\]\s*)?(?:Requirement\s+)?"
                 r"((?:[A-Z]{1,5}-?\d{1,4}(?:\.\d+)*)|\d{1,3}(?:\.\d{1,3})+)\b", head)
    if m and (REQ_ID.fullmatch(m.group(1)) or NUMBERED.match(m.group(1) + " ")
              or re.fullmatch(r"[A-Z]{2,5}-\d{1,4}", m.group(1))):
        out.append(m.group(1).upper())
    return out


def references(text: str) -> tuple[list[str], list[str]]:
    """(dependencies, mentions): refs after a dependency phrase, and every other ID mentioned."""
    deps: list[str] = []
    mentions: list[str] = []
    m = DEP_PHRASE.search(text)
    tail = ""
    if m:
        tail = re.split(r"(?<=[.;])\s", text[m.end():], maxsplit=1)[0]
        for rid in REQ_ID.findall(tail):
            deps.append("id:" + rid.upper())
        for a in ANCHOR_LINK.findall(tail):
            deps.append("anchor:" + a.lower())
        for group in BRACKET_LIST.findall(tail):
            for name in group.split(","):
                if name.strip() and not REQ_ID.fullmatch(name.strip()):
                    deps.append("name:" + slug(name))
        if not deps:
            for num in NUM_REF.findall(tail):
                deps.append("num:" + num)
    for rid in REQ_ID.findall(text):
        ref = "id:" + rid.upper()
        if ref not in deps and ref not in mentions:
            mentions.append(ref)
    return deps, mentions


def complexity(text: str, subtasks: int, criteria: int) -> tuple[int, tuple[str, ...]]:
    """A 1–10 score and the reasons that produced it."""
    score = 1
    reasons: list[str] = []
    words = len(text.split())
    if words > 120:
        score += 3
        reasons.append(f"long description ({words} words) +3")
    elif words > 60:
        score += 2
        reasons.append(f"long description ({words} words) +2")
    elif words > 25:
        score += 1
        reasons.append(f"description of {words} words +1")
    if subtasks:
        add = 1 if subtasks < 3 else 2 if subtasks < 8 else 3 if subtasks < 20 else 4
        score += add
        reasons.append(f"{subtasks} subtask(s) +{add}")
    tech = sorted({w.lower()[:8] for w in TECH_WORDS.findall(text)})
    if tech:
        add = min(3, len(tech))
        score += add
        reasons.append(f"technical terms ({', '.join(tech[:4])}) +{add}")
    if criteria >= 3:
        score += 1
        reasons.append(f"{criteria} acceptance criteria +1")
    if UNCERTAIN.search(text):
        score += 1
        reasons.append("open questions / research +1")
    if not reasons:
        reasons.append("short, self-contained item")
    return min(score, 10), tuple(reasons)
