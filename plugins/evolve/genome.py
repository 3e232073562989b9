"""Mixed genomes: real, integer, categorical and boolean genes in one float matrix.

Every candidate is a row of a float64 matrix; each gene owns one column whose
bounds depend on its kind (a categorical gene stores the index of its choice,
a boolean 0 or 1). Keeping one matrix lets the operators stay vectorized while
`decode` gives callers back typed values.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from catalytic.protocol.fields import MISSING, FieldError

KINDS = ("real", "int", "categorical", "bool")


class GenomeError(FieldError):
    """A gene declaration is unusable: the shared field error, `field` naming the
    offending part (`genes[2].high`)."""


WHERE = "evolve.create"
"""The verb genes arrive with, named in error messages."""


@dataclass(frozen=True)
class Gene:
    """One gene: its name, kind and domain."""

    name: str
    kind: str
    low: float = 0.0
    high: float = 1.0
    choices: tuple[Any, ...] = ()

    def spec(self) -> dict[str, Any]:
        """The gene as a plain map (what `evolve.create` accepts)."""
        out: dict[str, Any] = {"name": self.name, "type": self.kind}
        if self.kind in ("real", "int"):
            out["low"], out["high"] = self.low, self.high
        elif self.kind == "categorical":
            out["choices"] = list(self.choices)
        return out


def _number(field: str, value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise GenomeError(field, value, WHERE, "a number")
    if not math.isfinite(float(value)):
        raise GenomeError(field, value, WHERE, "a finite number")
    return float(value)


def parse_gene(spec: Mapping[str, Any], where: str) -> Gene:
    """Validate one gene map such as `{"name": "x", "type": "real", "low": 0, "high": 1}`."""
    if not isinstance(spec, Mapping):
        raise GenomeError(where, spec, WHERE, "a map with name and type")
    name = spec.get("name")
    if not isinstance(name, str) or not name:
        raise GenomeError(f"{where}.name", name, WHERE, "a non-empty string")
    kind = spec.get("type", "real")
    if kind == "integer":
        kind = "int"
    if kind == "boolean":
        kind = "bool"
    if kind not in KINDS:
        raise GenomeError(f"{where}.type", kind, WHERE,
                          "one of " + ", ".join(repr(k) for k in KINDS))
    if kind in ("real", "int"):
        low = _number(f"{where}.low", spec.get("low"))
        high = _number(f"{where}.high", spec.get("high"))
        if kind == "int" and (low != int(low) or high != int(high)):
            raise GenomeError(f"{where}.low", spec.get("low"), WHERE,
                              "integer bounds for an int gene")
        if not low < high:
            raise GenomeError(f"{where}.high", spec.get("high"), WHERE,
                              f"a number above low ({low:g})")
        return Gene(name, kind, low, high)
    if kind == "categorical":
        choices = spec.get("choices")
        if not isinstance(choices, Sequence) or isinstance(choices, str) or len(choices) < 1:
            raise GenomeError(f"{where}.choices", choices, WHERE, "a non-empty list")
        return Gene(name, kind, 0.0, float(len(choices) - 1), tuple(choices))
    return Gene(name, "bool", 0.0, 1.0)


class Genome:
    """An ordered list of genes with vectorized sampling, repair and decoding."""

    def __init__(self, genes: Sequence[Gene]) -> None:
        if not genes:
            raise GenomeError("genes", [], WHERE, "at least one gene")
        names = [g.name for g in genes]
        dup = {n for n in names if names.count(n) > 1}
        if dup:
            raise GenomeError("genes", sorted(dup), WHERE,
                              "distinct gene names (these are duplicated)")
        self.genes = tuple(genes)
        self.xl = np.array([g.low for g in genes], dtype=float)
        self.xu = np.array([g.high for g in genes], dtype=float)
        kinds = np.array([g.kind for g in genes])
        self.real = kinds == "real"
        self.int = kinds == "int"
        self.cat = kinds == "categorical"
        self.bool = kinds == "bool"
        self.numeric = self.real | self.int
        self.discrete = self.cat | self.bool

    @classmethod
    def from_specs(cls, specs: Any) -> Genome:
        """Build from the `genes` param of `evolve.create`."""
        if not isinstance(specs, Sequence) or isinstance(specs, str | bytes):
            raise GenomeError("genes", specs, WHERE, "a list of gene maps")
        return cls([parse_gene(s, f"genes[{i}]") for i, s in enumerate(specs)])

    @classmethod
    def reals(cls, n: int, low: float | Sequence[float], high: float | Sequence[float]) -> Genome:
        """`n` real genes x0..x{n-1} (the built-in problems use this)."""
        lows = np.broadcast_to(np.asarray(low, dtype=float), (n,))
        highs = np.broadcast_to(np.asarray(high, dtype=float), (n,))
        return cls([Gene(f"x{i}", "real", float(lows[i]), float(highs[i])) for i in range(n)])

    @property
    def size(self) -> int:
        return len(self.genes)

    def specs(self) -> list[dict[str, Any]]:
        return [g.spec() for g in self.genes]

    def sample(self, n: int, rng: np.random.Generator) -> np.ndarray:
        """`n` uniformly random rows that respect every gene's domain."""
        u = rng.random((n, self.size))
        X = self.xl + u * (self.xu - self.xl)
        disc = self.int | self.cat | self.bool
        # integer-valued columns: uniform over low..high inclusive
        X[:, disc] = np.floor(self.xl[disc] + u[:, disc] * (self.xu[disc] - self.xl[disc] + 1))
        return self.repair(X)

    def repair(self, X: np.ndarray) -> np.ndarray:
        """Clip to bounds and round every non-real column to an integer value."""
        X = np.clip(X, self.xl, self.xu)
        nonreal = ~self.real
        X[:, nonreal] = np.clip(np.rint(X[:, nonreal]), self.xl[nonreal], self.xu[nonreal])
        return X

    def decode(self, row: np.ndarray) -> dict[str, Any]:
        """One row as `{gene name: typed value}`."""
        out: dict[str, Any] = {}
        for g, v in zip(self.genes, row.tolist(), strict=True):
            if g.kind == "real":
                out[g.name] = float(v)
            elif g.kind == "int":
                out[g.name] = round(v)
            elif g.kind == "categorical":
                out[g.name] = g.choices[round(v)]
            else:
                out[g.name] = bool(round(v))
        return out

    def decode_rows(self, X: np.ndarray) -> list[dict[str, Any]]:
        """Every row of X as `decode` gives it, converted column by column (a population
        of thousands is decoded in a few milliseconds instead of tens)."""
        cols: list[list[Any]] = []
        for k, g in enumerate(self.genes):
            col = X[:, k]
            if g.kind == "real":
                cols.append(col.astype(float).tolist())
                continue
            whole = np.rint(col).astype(np.int64)
            if g.kind == "int":
                cols.append(whole.tolist())
            elif g.kind == "categorical":
                cols.append([g.choices[i] for i in whole.tolist()])
            else:
                cols.append((whole != 0).tolist())
        names = [g.name for g in self.genes]
        return [dict(zip(names, vals, strict=True)) for vals in zip(*cols, strict=True)]

    def encode(self, values: Mapping[str, Any]) -> np.ndarray:
        """The inverse of `decode` (used to seed a study with known points)."""
        row = np.empty(self.size)
        for i, g in enumerate(self.genes):
            if g.name not in values:
                raise GenomeError(f"genes.{g.name}", MISSING, "a seed point",
                                  "a value for every gene")
            v = values[g.name]
            if g.kind == "categorical":
                if v not in g.choices:
                    raise GenomeError(f"genes.{g.name}", v, "a seed point",
                                      "one of " + ", ".join(map(repr, g.choices)))
                row[i] = g.choices.index(v)
            else:
                row[i] = float(v)
        return self.repair(row[None, :])[0]
