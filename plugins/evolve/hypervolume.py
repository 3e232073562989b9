"""Exact hypervolume for two and three minimized objectives.

Two objectives: sort and sum rectangles. Three: sweep the third objective and
add 2-D slices (O(n² log n), plenty for fronts of a few hundred points).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np


def _hv2(P: np.ndarray, ref: np.ndarray) -> float:
    if len(P) == 0:
        return 0.0
    P = P[np.lexsort((P[:, 1], P[:, 0]))]
    best = ref[1]
    total = 0.0
    for x, y in P:
        if y < best:
            total += (ref[0] - x) * (best - y)
            best = y
    return float(total)


def _hv3(P: np.ndarray, ref: np.ndarray) -> float:
    if len(P) == 0:
        return 0.0
    P = P[np.argsort(P[:, 2], kind="mergesort")]
    total = 0.0
    zs = np.append(P[:, 2], ref[2])
    for i in range(len(P)):
        depth = zs[i + 1] - zs[i]
        if depth > 0:
            total += _hv2(P[: i + 1, :2], ref[:2]) * depth
    return float(total)


def hypervolume(F: np.ndarray | Sequence[Sequence[float]], ref: Sequence[float]) -> float:
    """Volume dominated by the rows of F and bounded by `ref` (all objectives minimized)."""
    A = np.asarray(F, dtype=float)
    r = np.asarray(ref, dtype=float)
    if A.size == 0:
        return 0.0
    if A.ndim != 2 or A.shape[1] != len(r):
        raise ValueError(f"hypervolume: points of shape {A.shape} do not match reference {r}")
    A = A[np.all(r > A, axis=1) & np.all(np.isfinite(A), axis=1)]
    if A.shape[1] == 2:
        return _hv2(A, r)
    if A.shape[1] == 3:
        return _hv3(A, r)
    raise ValueError("hypervolume is implemented for 2 or 3 objectives")
