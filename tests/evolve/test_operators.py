"""Operators stay within bounds and gene types; duplicates are found."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from catalytic.plugins.evolve.genome import Genome, GenomeError
from catalytic.plugins.evolve.operators import (
    Variation,
    polynomial_mutation,
    reset_mutation,
    sbx,
    unique_rows,
    vary,
)

MIXED = [
    {"name": "lr", "type": "real", "low": -3.0, "high": 2.5},
    {"name": "layers", "type": "int", "low": 1, "high": 7},
    {"name": "act", "type": "categorical", "choices": ["relu", "tanh", "gelu"]},
    {"name": "bn", "type": "bool"},
    {"name": "w", "type": "real", "low": 0.0, "high": 1e-3},
]


def check_domain(genome: Genome, X: np.ndarray) -> None:
    assert (genome.xl <= X).all() and (genome.xu >= X).all()
    nonreal = ~genome.real
    assert (X[:, nonreal] == np.rint(X[:, nonreal])).all()


@settings(max_examples=30, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), n=st.integers(1, 40))
def test_vary_respects_every_gene_kind(seed: int, n: int) -> None:
    genome = Genome.from_specs(MIXED)
    rng = np.random.default_rng(seed)
    P1, P2 = genome.sample(n, rng), genome.sample(n, rng)
    C = vary(genome, P1, P2, rng, Variation(pm_prob_var=0.5))
    assert C.shape == (2 * n, genome.size)
    check_domain(genome, C)
    for row in C:
        values = genome.decode(row)
        assert isinstance(values["lr"], float)
        assert isinstance(values["layers"], int) and 1 <= values["layers"] <= 7
        assert values["act"] in ("relu", "tanh", "gelu")
        assert isinstance(values["bn"], bool)


@settings(max_examples=30, deadline=None)
@given(seed=st.integers(0, 2**32 - 1))
def test_sbx_and_pm_stay_in_bounds_even_at_edges(seed: int) -> None:
    rng = np.random.default_rng(seed)
    xl, xu = np.array([0.0, -1.0, 5.0]), np.array([1.0, 1.0, 5.5])
    P1 = np.where(rng.random((50, 3)) < 0.3, xl, xl + rng.random((50, 3)) * (xu - xl))
    P2 = np.where(rng.random((50, 3)) < 0.3, xu, xl + rng.random((50, 3)) * (xu - xl))
    C1, C2 = sbx(P1, P2, xl, xu, rng, prob_var=1.0)
    M = polynomial_mutation(np.concatenate([C1, C2]), xl, xu, rng, prob_var=1.0)
    for A in (C1, C2, M):
        assert np.isfinite(A).all()
        assert (xl <= A).all() and (xu >= A).all()


def test_sbx_children_keep_parent_mean_for_symmetric_spread() -> None:
    rng = np.random.default_rng(0)
    xl, xu = np.zeros(1), np.full(1, 100.0)
    P1, P2 = np.full((20000, 1), 40.0), np.full((20000, 1), 60.0)
    C1, C2 = sbx(P1, P2, xl, xu, rng, prob_var=1.0)
    # SBX is mean-preserving pairwise when the bounds are far away
    np.testing.assert_allclose((C1 + C2) / 2, 50.0, atol=1e-9)


def test_reset_mutation_always_changes_and_stays_admissible() -> None:
    rng = np.random.default_rng(1)
    xl, xu = np.array([0.0, 0.0]), np.array([1.0, 4.0])
    X = np.column_stack([rng.integers(0, 2, 500), rng.integers(0, 5, 500)]).astype(float)
    Y = reset_mutation(X, xl, xu, rng, prob_var=1.0)
    assert (Y != X).all()
    assert ((xl <= Y) & (xu >= Y)).all() and (np.rint(Y) == Y).all()


def test_unique_rows_against_self_and_others() -> None:
    X = np.array([[1.0, 2.0], [1.0, 2.0], [3.0, 4.0], [0.0, -0.0], [5.0, 6.0]])
    others = np.array([[3.0, 4.0], [0.0, 0.0]])
    assert unique_rows(X, others).tolist() == [True, False, False, False, True]
    assert unique_rows(X).tolist() == [True, False, True, True, True]


@pytest.mark.parametrize("spec, field", [
    ({"name": "x", "type": "real", "low": 1, "high": 1}, "genes[0].high"),
    ({"name": "x", "type": "real", "low": 2, "high": 1}, "genes[0].high"),
    ({"name": "x", "type": "complex"}, "genes[0].type"),
    ({"name": "x", "type": "categorical", "choices": []}, "genes[0].choices"),
    ({"name": "", "type": "bool"}, "genes[0].name"),
    ({"name": "x", "type": "int", "low": 0.5, "high": 3}, "genes[0].low"),
    ({"name": "x", "type": "real", "low": "a", "high": 3}, "genes[0].low"),
    ({"name": "x", "type": "real", "low": 0, "high": float("inf")}, "genes[0].high"),
])
def test_bad_genes_name_the_field(spec: dict, field: str) -> None:
    with pytest.raises(GenomeError) as err:
        Genome.from_specs([spec])
    assert err.value.field == field


def test_empty_and_duplicate_genomes_are_refused() -> None:
    with pytest.raises(GenomeError, match="genes"):
        Genome.from_specs([])
    with pytest.raises(GenomeError, match="duplicate"):
        Genome.from_specs([{"name": "a", "type": "bool"}, {"name": "a", "type": "bool"}])


def test_encode_decode_round_trip() -> None:
    genome = Genome.from_specs(MIXED)
    values = {"lr": 0.25, "layers": 3, "act": "gelu", "bn": True, "w": 5e-4}
    assert genome.decode(genome.encode(values)) == values


@settings(max_examples=30, deadline=None)
@given(seed=st.integers(0, 10_000), n=st.integers(0, 50))
def test_decode_rows_equals_decode_of_each_row(seed: int, n: int) -> None:
    g = Genome.from_specs([{"name": "r", "type": "real", "low": -1, "high": 1},
                           {"name": "i", "type": "int", "low": -3, "high": 9},
                           {"name": "c", "type": "categorical", "choices": ["a", "b", 3]},
                           {"name": "b", "type": "bool"}])
    X = g.sample(n, np.random.default_rng(seed))
    got = g.decode_rows(X)
    want = [g.decode(row) for row in X]
    assert got == want
    assert all(type(a[k]) is type(b[k]) for a, b in zip(got, want, strict=True) for k in a)
