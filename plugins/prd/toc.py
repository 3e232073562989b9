"""Tables of contents: lists whose items are links into the same document.

Such a list is navigation, not work; decomposing it would give each heading a
second task (and, before IDs were made unique, a colliding ID).
"""

from __future__ import annotations

import re

from catalytic.plugins.prd.blocks import Block, Item

LINK_ONLY = re.compile(r"^\s*(?:\[[ xX]\]\s*)?(?:\d+(?:\.\d+)*[.)]?\s*)?"
                       r"\[[^\]]*\]\((?:[\w./-]*)#[^)\s]*\)\s*[.,;]?\s*$")
"""An item that is nothing but a link to an anchor (`[Goals](#goals)`, `1. [Setup](#setup)`)."""


def link_lists(blocks: list[Block]) -> set[int]:
    """The top-level lists (Item.block) in which at least 80% of the items only link to anchors."""
    total: dict[int, int] = {}
    links: dict[int, int] = {}
    if not any(isinstance(b, Item) and "](" in b.text for b in blocks):
        return set()
    for b in blocks:
        if isinstance(b, Item):
            total[b.block] = total.get(b.block, 0) + 1
            if LINK_ONLY.match(b.text.strip().split("\n")[0]) and "\n" not in b.text.strip():
                links[b.block] = links.get(b.block, 0) + 1
    return {k for k, n in total.items() if n >= 2 and links.get(k, 0) >= 0.8 * n}
