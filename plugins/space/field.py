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


def _prime_factors(m: int) -> list[int]:
    out, q = [], 2
    while q * q <= m:
        if m % q == 0:
            out.append(q)
            while m % q == 0:
                m //= q
        q += 1
    return [*out, m] if m > 1 else out


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


@lru_cache(maxsize=4096)
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
    factors = _prime_factors(m)
    for x in range(2, p):
        w = pow(x, (p - 1) // m, p)
        if all(pow(w, m // q, p) != 1 for q in factors):
            return Field(p, m, w, pow(m, p - 2, p))
    raise AssertionError(f"no element of order {m} in GF({p})")  # impossible when m | p-1
