"""One pass over markdown-it's flat block-token stream of a section body.

No syntax tree is built and inline parsing is switched off (the decomposer only
needs each block's source text and line range), which keeps parsing cheap.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from markdown_it import MarkdownIt
from markdown_it.token import Token

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
    state = _Walk(offset)
    for tok in parser().parse(text):
        step = _STEPS.get(tok.type)
        if step is not None:
            step(state, tok)
    return state.out


class _Walk:
    """Where one pass over the token stream is: the open lists and items, the table and
    row being read, and how deep in block quotes."""

    __slots__ = ("in_head", "items", "lists", "offset", "out", "quote", "row", "row_line",
                 "table", "top_block")

    def __init__(self, offset: int) -> None:
        self.offset = offset
        self.out: list[Block] = []
        self.items: list[int] = []
        self.lists: list[bool] = []
        self.table: Table | None = None
        self.row: list[str] | None = None
        self.row_line = 0
        self.in_head = False
        self.quote = 0
        self.top_block = 0

    def _lines(self, tok: Token) -> tuple[int, int]:
        m = tok.map or (0, 1)
        return m[0] + self.offset, m[1] - 1 + self.offset

    def inline(self, tok: Token) -> None:
        """Text: a table cell, an item's first or later paragraph, or a paragraph."""
        if self.table is not None and self.row is not None:
            self.row.append(tok.content.strip())
            return
        if self.items:
            it = self.out[self.items[-1]]
            if isinstance(it, Item):
                if not it.text:
                    it.text = tok.content
                else:
                    it.more.append(tok.content)
                return
        first, last = self._lines(tok)
        self.out.append(Para(first, last, tok.content, self.quote > 0))

    def list_open(self, tok: Token) -> None:
        if not self.lists:
            self.top_block += 1
        self.lists.append(tok.type == "ordered_list_open")

    def list_close(self, tok: Token) -> None:
        self.lists.pop()

    def item_open(self, tok: Token) -> None:
        first, last = self._lines(tok)
        ordered = self.lists[-1] if self.lists else False
        parent = self.items[-1] if self.items else -1
        self.out.append(Item(first, last, len(self.items), parent, ordered, tok.info or "",
                             block=self.top_block))
        self.items.append(len(self.out) - 1)

    def item_close(self, tok: Token) -> None:
        self.items.pop()

    def table_open(self, tok: Token) -> None:
        self.table = Table(*self._lines(tok))

    def table_close(self, tok: Token) -> None:
        if self.table is not None:
            self.out.append(self.table)
        self.table = None

    def head(self, tok: Token) -> None:
        self.in_head = tok.type == "thead_open"

    def row_open(self, tok: Token) -> None:
        self.row = []
        self.row_line = (tok.map[0] if tok.map else 0) + self.offset

    def row_close(self, tok: Token) -> None:
        if self.table is not None and self.row is not None:
            if self.in_head:
                self.table.header = self.row
            else:
                self.table.rows.append((self.row_line, self.row))
        self.row = None

    def quote_open(self, tok: Token) -> None:
        self.quote += 1

    def quote_close(self, tok: Token) -> None:
        self.quote -= 1


_STEPS: dict[str, Callable[[_Walk, Token], None]] = {
    "inline": _Walk.inline,
    "bullet_list_open": _Walk.list_open, "ordered_list_open": _Walk.list_open,
    "bullet_list_close": _Walk.list_close, "ordered_list_close": _Walk.list_close,
    "list_item_open": _Walk.item_open, "list_item_close": _Walk.item_close,
    "table_open": _Walk.table_open, "table_close": _Walk.table_close,
    "thead_open": _Walk.head, "thead_close": _Walk.head,
    "tr_open": _Walk.row_open, "tr_close": _Walk.row_close,
    "blockquote_open": _Walk.quote_open, "blockquote_close": _Walk.quote_close,
}
"""The token types a pass acts on; the others (paragraph and cell markers) carry nothing
the decomposer reads."""
