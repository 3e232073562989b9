"""Tree Evaluation instances: a full binary tree of height h, b-bit values (k = 2^b).

Nodes use heap numbering: the root is 1, node u has children 2u and 2u + 1, leaves are
2^h … 2^{h+1} − 1. An instance is read-only input (never charged to a ledger); it
answers `leaf(u)`, `node(u, a, c)` and, for implicit instances whose node ignores its
children, `const(u)`.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from typing import Any, Protocol

MAX_B = 16
MAX_H = 40


class InstanceError(ValueError):
    """A malformed instance; the message names the node that is wrong."""


class Instance(Protocol):
    h: int
    b: int

    def leaf(self, u: int) -> int: ...

    def node(self, u: int, a: int, c: int) -> int: ...

    def const(self, u: int) -> int | None: ...


class TableInstance:
    """An explicit instance: 2^h leaf values and a k×k table for every internal node."""

    def __init__(self, h: int, b: int, leaves: Sequence[int],
                 tables: Sequence[Sequence[int]]) -> None:
        self.h, self.b = h, b
        self.leaves = list(leaves)
        self.tables = [list(t) for t in tables]  # tables[u - 1] is node u, flattened a*k + c

    def leaf(self, u: int) -> int:
        return self.leaves[u - (1 << self.h)]

    def node(self, u: int, a: int, c: int) -> int:
        return self.tables[u - 1][(a << self.b) | c]

    def const(self, u: int) -> int | None:
        return None

    def to_dict(self) -> dict[str, Any]:
        return {"h": self.h, "b": self.b, "leaves": self.leaves, "nodes": self.tables}


def check_shape(h: int, b: int) -> None:
    if not 1 <= b <= MAX_B:
        raise InstanceError(f"b must be from 1 to {MAX_B}, got {b}")
    if not 0 <= h <= MAX_H:
        raise InstanceError(f"h must be from 0 to {MAX_H}, got {h}")


def random_instance(h: int, b: int, seed: int) -> TableInstance:
    """A uniformly random explicit instance (tables of k² entries: keep b small)."""
    check_shape(h, b)
    if h > 20 or (2 ** h) * (4 ** b) > 1 << 24:
        raise InstanceError(f"explicit instance h={h} b={b} is too big to tabulate; "
                            "use an implicit (hash) instance")
    rng = random.Random(seed)
    k = 1 << b
    leaves = [rng.randrange(k) for _ in range(1 << h)]
    tables = [[rng.randrange(k) for _ in range(k * k)] for _ in range((1 << h) - 1)]
    return TableInstance(h, b, leaves, tables)


def _mix(x: int) -> int:
    """splitmix64 finaliser: a fast, well-spread hash of a 64-bit integer."""
    x &= 0xFFFFFFFFFFFFFFFF
    x = ((x ^ (x >> 30)) * 0xBF58476D1CE4E5B9) & 0xFFFFFFFFFFFFFFFF
    x = ((x ^ (x >> 27)) * 0x94D049BB133111EB) & 0xFFFFFFFFFFFFFFFF
    return x ^ (x >> 31)


class HashInstance:
    """An implicit random instance: tables given by a keyed hash, so any h, b ≤ 16 fits."""

    def __init__(self, h: int, b: int, seed: int) -> None:
        check_shape(h, b)
        self.h, self.b = h, b
        self.key = _mix(seed * 0x9E3779B97F4A7C15 + 12345)
        self.mask = (1 << b) - 1

    def leaf(self, u: int) -> int:
        return _mix(self.key ^ (u * 0xD1B54A32D192ED03)) & self.mask

    def node(self, u: int, a: int, c: int) -> int:
        return _mix(self.key + (u << 34) + (a << 17) + c) & self.mask

    def const(self, u: int) -> int | None:
        return None


def direct_value(inst: Instance) -> int:
    """Plain recursive evaluation (the reference the tests compare against)."""

    def value(u: int, depth: int) -> int:
        if depth == inst.h:
            return inst.leaf(u)
        fixed = inst.const(u)
        if fixed is not None:
            return fixed
        return inst.node(u, value(2 * u, depth + 1), value(2 * u + 1, depth + 1))

    return value(1, 0)


def parse_instance(data: Any) -> TableInstance:
    """Validate an uploaded instance {h, b, leaves, nodes}; errors name the bad node."""
    if not isinstance(data, dict):
        raise InstanceError("instance must be a map with h, b, leaves, nodes")
    h, b = data.get("h"), data.get("b")
    if not isinstance(h, int) or not isinstance(b, int):
        raise InstanceError("instance needs integer h and b")
    check_shape(h, b)
    if h > 16:
        raise InstanceError(f"uploaded instance h={h} is too big (at most 16)")
    k = 1 << b
    leaves, nodes = data.get("leaves"), data.get("nodes")
    if not isinstance(leaves, list) or len(leaves) != 1 << h:
        raise InstanceError(f"leaves must be a list of {1 << h} values for h={h}")
    for i, v in enumerate(leaves):
        if not isinstance(v, int) or not 0 <= v < k:
            raise InstanceError(f"leaf {i} (node {(1 << h) + i}): value {v!r} not in [0, {k})")
    if not isinstance(nodes, list) or len(nodes) != (1 << h) - 1:
        raise InstanceError(f"nodes must be a list of {(1 << h) - 1} tables for h={h}")
    tables: list[list[int]] = []
    for u, table in enumerate(nodes, start=1):
        flat = table
        if isinstance(table, list) and table and isinstance(table[0], list):
            if len(table) != k or any(not isinstance(r, list) or len(r) != k for r in table):
                raise InstanceError(f"node {u}: table must be {k}×{k}")
            flat = [x for row in table for x in row]
        if not isinstance(flat, list) or len(flat) != k * k:
            raise InstanceError(f"node {u}: table must have {k}×{k} = {k * k} entries")
        for i, v in enumerate(flat):
            if not isinstance(v, int) or not 0 <= v < k:
                raise InstanceError(f"node {u}: entry [{i >> b}][{i & (k - 1)}] = {v!r} "
                                    f"not in [0, {k})")
        tables.append(flat)
    return TableInstance(h, b, leaves, tables)
