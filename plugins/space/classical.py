"""The classical depth-first Tree Evaluation: O(h · b) bits, one frame per level.

Iterative over preallocated fixed-width frames (b bits for the left child's value and
one phase bit), so the space bound holds by construction; the ledger charges a frame
while it is live.
"""

from __future__ import annotations

import time
from typing import Any

from .ledger import Ledger, bits_for
from .tree import Instance


def classical_formula(h: int, b: int) -> int:
    """Peak bits: h frames of (b + 1), the result register, the node index and the depth."""
    return h * (b + 1) + b + (h + 1) + bits_for(h + 1)


def classical_evaluate(inst: Instance, ledger: Ledger | None = None) -> dict[str, Any]:
    """Evaluate the root; returns value, measured and formula bits, and visit counts."""
    ledger = ledger or Ledger()
    h, b = inst.h, inst.b
    start = time.perf_counter()
    ledger.alloc("result", b, "registers")
    ledger.alloc("node", h + 1, "index")
    ledger.alloc("depth", bits_for(h + 1), "index")
    left = [0] * h  # preallocated frames: the left child's value …
    phase = [0] * h  # … and whether the right child is being evaluated
    frame_bits = b + 1
    leaf_visits = node_evals = 0
    u, depth, result, down = 1, 0, 0, True
    while True:
        if down:
            fixed = inst.const(u) if depth < h else None
            if depth == h:
                result = inst.leaf(u)
                leaf_visits += 1
                down = False
            elif fixed is not None:
                result = fixed
                down = False
            else:
                ledger.alloc(("frame", depth), frame_bits, "frames")
                phase[depth] = 0
                u, depth = 2 * u, depth + 1
            continue
        if depth == 0:
            break
        u, depth = u >> 1, depth - 1
        if phase[depth] == 0:
            left[depth], phase[depth] = result, 1
            u, depth, down = 2 * u + 1, depth + 1, True
        else:
            result = inst.node(u, left[depth], result)
            node_evals += 1
            ledger.free(("frame", depth))
    for name in ("result", "node", "depth"):
        ledger.free(name)
    formula = classical_formula(h, b)
    if ledger.peak != formula:
        raise AssertionError(f"classical h={h} b={b}: measured {ledger.peak} != formula {formula}")
    return {"algorithm": "classical", "h": h, "b": b, "value": result,
            "measured_bits": ledger.peak, "formula_bits": formula,
            "leaf_visits": leaf_visits, "node_evals": node_evals,
            "peak_by_category": ledger.peak_by_category,
            "wall_s": time.perf_counter() - start}
