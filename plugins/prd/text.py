"""Turn raw document bytes into clean Markdown text without moving any line.

Everything blanked here (front matter, HTML comments, XML-ish wrapper tags such
as `<context>`, multi-line template placeholders) is replaced by empty lines, so
every line number the parser reports still points into the original file.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

FENCE = re.compile(r"^ *(`{3,}|~{3,})")
WRAPPER_TAG = re.compile(r"^\s*</?[A-Za-z][\w:-]*(\s+[^<>]*)?/?>\s*$")
GUIDANCE_TAGS = ("instruction", "example")
"""Wrapper tags whose whole content is guidance for the author, not requirements."""
PLACEHOLDER_OPEN = re.compile(r"^\s*\[(?![ xX]\])[A-Z][^\]]*$")
LINK_REF = re.compile(r"^\s*\[[^\]]+\]:")
NEEDS_CLEANING = re.compile(r"\n(?:(?:---|\+\+\+)\s*$|\s*\[(?![ xX]\])[A-Z])", re.M)
"""Nothing to blank unless a `<` or one of these occurs (checked once, at C speed, over
the text with a newline in front, so the pattern starts with a literal character)."""


class BinaryDocument(ValueError):
    """The input looks like a binary file, not a text document."""


@dataclass
class Cleaned:
    """The cleaned text and what cleaning found."""

    text: str
    front_matter: dict[str, str] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)
    placeholders: int = 0


def decode(data: bytes) -> tuple[str, list[str]]:
    """Decode bytes as UTF-8; invalid bytes are replaced and reported, binary refused."""
    head = data[:8192]
    if b"\x00" in head:
        raise BinaryDocument("document contains NUL bytes: it looks like a binary file")
    controls = sum(1 for b in head if b < 32 and b not in (9, 10, 12, 13))
    if head and controls / len(head) > 0.05:
        raise BinaryDocument("document is mostly control characters: it looks like a binary file")
    try:
        return data.decode("utf-8"), []
    except UnicodeDecodeError as exc:
        text = data.decode("utf-8", errors="replace")
        bad = text.count("\ufffd")
        return text, [f"invalid UTF-8 (first at byte {exc.start}): {bad} character(s) replaced"]


def clean(text: str) -> Cleaned:
    """Blank what is not content, keeping the line count and every line's position."""
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    if text.startswith("\ufeff"):
        text = text[1:]
    if "<" not in text and (("---" not in text and "+++" not in text and "[" not in text)
                            or not NEEDS_CLEANING.search("\n" + text)):
        return Cleaned(text)
    lines = text.split("\n")
    out = Cleaned("")
    start = _front_matter(lines, out)
    fence = ""
    in_comment = False
    guidance: str | None = None
    placeholder_from = -1
    for i in range(start, len(lines)):
        line = lines[i]
        if fence:
            if _closes(line, fence):
                fence = ""
            continue
        if in_comment:
            end = line.find("-->")
            if end < 0:
                lines[i] = ""
                continue
            lines[i] = " " * (end + 3) + line[end + 3:]
            in_comment = False
            line = lines[i]
        if "<!--" in line:
            line, in_comment = _strip_comments(line)
            lines[i] = line
        m = FENCE.match(line)
        if m and guidance is None and placeholder_from < 0:
            fence = m.group(1)
            continue
        stripped = line.strip()
        if guidance is not None:
            if re.match(rf"^\s*</{guidance}\s*>", line):
                guidance = None
            lines[i] = ""
            continue
        if WRAPPER_TAG.match(line):
            tag = re.match(r"^\s*<([A-Za-z][\w:-]*)", line)
            if tag and tag.group(1).lower() in GUIDANCE_TAGS and not stripped.endswith("/>"):
                guidance = tag.group(1)
            lines[i] = ""
            continue
        if placeholder_from >= 0:
            if stripped.endswith("]") or i - placeholder_from > 40:
                for j in range(placeholder_from, i + 1):
                    lines[j] = ""
                out.placeholders += 1
                placeholder_from = -1
            continue
        if PLACEHOLDER_OPEN.match(line) and not LINK_REF.match(line):
            placeholder_from = i
    if placeholder_from >= 0:  # never closed: not a placeholder after all
        pass
    out.text = "\n".join(lines)
    return out


def _front_matter(lines: list[str], out: Cleaned) -> int:
    """Blank a leading YAML (---) or TOML (+++) front matter block; return the next line."""
    if not lines or lines[0].strip() not in ("---", "+++"):
        return 0
    mark = lines[0].strip()
    for i in range(1, min(len(lines), 500)):
        if lines[i].strip() in (mark, "...") and (mark == "---" or lines[i].strip() == mark):
            for j in range(1, i):
                key, sep, value = lines[j].partition(":")
                if sep and key.strip() and not key.startswith((" ", "\t", "-")):
                    out.front_matter[key.strip()] = value.strip().strip("\"'")
            for j in range(0, i + 1):
                lines[j] = ""
            return i + 1
    return 0


def _closes(line: str, fence: str) -> bool:
    s = line.strip()
    return s.startswith(fence[0] * len(fence)) and set(s) == {fence[0]}


def _strip_comments(line: str) -> tuple[str, bool]:
    """Blank every comment on the line; say whether one stays open past its end."""
    while True:
        start = line.find("<!--")
        if start < 0:
            return line, False
        end = line.find("-->", start + 4)
        if end < 0:
            return line[:start], True
        line = line[:start] + " " * (end + 3 - start) + line[end + 3:]
