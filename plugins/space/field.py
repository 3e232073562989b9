"""The prime field and the element ω of order m = 2b + 1 that Cook–Mertz interpolates with."""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache


def is_prime(n: int) -> bool:
    if n < 2:
        return False
    i = 2
    while i * i <= n:
        if n % i == 0:
            return False
        i += 1
    return True


def _divisors(m: int) -> list[int]:
    return [d for d in range(1, m) if m % d == 0]


@dataclass(frozen=True)
class Field:
    """GF(p) with ω of multiplicative order exactly m (so m | p − 1)."""

    p: int
    m: int
    omega: int
    m_inv: int

    @property
    def width(self) -> int:
        """Bits of one field element."""
        return (self.p - 1).bit_length()


@lru_cache(maxsize=64)
def field_for(b: int) -> Field:
    """The smallest prime p ≡ 1 (mod m), m = 2b + 1, and an element of order m in GF(p).

    Multilinear extensions of b-bit node functions have total degree ≤ 2b < m, which is
    what makes the average over the m powers of ω recover the value exactly.
    """
    if b < 1:
        raise ValueError("b must be at least 1")
    m = 2 * b + 1
    p = m + 1
    while not is_prime(p):
        p += m
    for x in range(2, p):
        w = pow(x, (p - 1) // m, p)
        if w != 1 and all(pow(w, d, p) != 1 for d in _divisors(m)):
            return Field(p, m, w, pow(m, p - 2, p))
    raise AssertionError(f"no element of order {m} in GF({p})")  # impossible when m | p-1
