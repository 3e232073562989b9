"""Unique names among siblings: the first keeps its slug, later ones are numbered.

A number is skipped when a sibling already holds that name literally (a
heading "Setup 2" next to two "Setup" headings), so names never collide, and
each name depends only on the siblings before it and its own slug.
"""

from __future__ import annotations

from collections.abc import Iterable


def next_name(base: str, used: set[str], counts: dict[str, int]) -> str:
    """The name for the next sibling with slug `base`; records it in `used` and `counts`."""
    n = counts.get(base, 0) + 1
    name = base if n == 1 else f"{base}-{n}"
    while name in used:
        n += 1
        name = f"{base}-{n}"
    counts[base] = n
    used.add(name)
    return name


def number_slugs(slugs: Iterable[str], used: set[str] | None = None) -> list[str]:
    """Names for siblings in order; `used` holds names already taken (and is filled)."""
    taken = set() if used is None else used
    counts: dict[str, int] = {}
    return [next_name(s, taken, counts) for s in slugs]
