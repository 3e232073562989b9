"""One pass over markdown-it's flat block-token stream of a section body.

No syntax tree is built and inline parsing is switched off (the decomposer only
needs each block's source text and line range), which keeps parsing cheap.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from markdown_it import MarkdownIt

_MD: MarkdownIt | None = None


def parser() -> MarkdownIt:
    """CommonMark with tables; block rules only (one instance per process)."""
    global _MD
    if _MD is None:
        _MD = MarkdownIt("commonmark").enable("table").disable("inline")
    return _MD


@dataclass(slots=True)
class Item:
    """A list item: its first paragraph is `text`, later paragraphs are `more`."""

    first: int
    last: int
    depth: int
    parent: int
    """Index of the enclosing item in the same block list, -1 at top level."""
    ordered: bool
    number: str
    text: str = ""
    more: list[str] = field(default_factory=list)
    block: int = 0
    """Which top-level block (list) the item belongs to, to scope local references."""


@dataclass(slots=True)
class Para:
    first: int
    last: int
    text: str
    quoted: bool = False


@dataclass(slots=True)
class Table:
    first: int
    last: int
    header: list[str] = field(default_factory=list)
    rows: list[tuple[int, list[str]]] = field(default_factory=list)


Block = Item | Para | Table


def walk(text: str, offset: int) -> list[Block]:
    """The section body's blocks in order, with 0-based lines shifted by `offset`."""
    tokens = parser().parse(text)
    out: list[Block] = []
    items: list[int] = []
    lists: list[tuple[bool, int]] = []
    table: Table | None = None
    row: list[str] | None = None
    row_line = 0
    in_head = False
    quote = 0
    top_block = 0
    for tok in tokens:
        t = tok.type
        if t == "inline":
            if table is not None and row is not None:
                row.append(tok.content.strip())
                continue
            if items and isinstance(out[items[-1]], Item):
                it = out[items[-1]]
                assert isinstance(it, Item)
                if not it.text:
                    it.text = tok.content
                else:
                    it.more.append(tok.content)
                continue
            m = tok.map or (0, 1)
            out.append(Para(m[0] + offset, m[1] - 1 + offset, tok.content, quote > 0))
        elif t == "list_item_open":
            m = tok.map or (0, 1)
            ordered, _ = lists[-1] if lists else (False, 0)
            parent = items[-1] if items else -1
            out.append(Item(m[0] + offset, m[1] - 1 + offset, len(items), parent, ordered,
                            tok.info or "", block=top_block))
            items.append(len(out) - 1)
        elif t == "list_item_close":
            items.pop()
        elif t == "bullet_list_open" or t == "ordered_list_open":
            if not lists:
                top_block += 1
            lists.append((t == "ordered_list_open", 0))
        elif t == "bullet_list_close" or t == "ordered_list_close":
            lists.pop()
        elif t == "table_open":
            m = tok.map or (0, 1)
            table = Table(m[0] + offset, m[1] - 1 + offset)
        elif t == "table_close":
            if table is not None:
                out.append(table)
            table = None
        elif t == "thead_open":
            in_head = True
        elif t == "thead_close":
            in_head = False
        elif t == "tr_open":
            row = []
            row_line = (tok.map[0] if tok.map else 0) + offset
        elif t == "tr_close":
            if table is not None and row is not None:
                if in_head:
                    table.header = row
                else:
                    table.rows.append((row_line, row))
            row = None
        elif t == "blockquote_open":
            quote += 1
        elif t == "blockquote_close":
            quote -= 1
    return out
