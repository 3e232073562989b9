"""NSGA-II, NSGA-III, GA and CMA-ES: determinism by seed, bounds, convergence that could fail."""

from __future__ import annotations

import pickle
import subprocess
import sys

import numpy as np
import pytest

from catalytic.plugins.evolve.algorithms import Algorithm
from catalytic.plugins.evolve.cmaes import CmaEs
from catalytic.plugins.evolve.genome import Genome
from catalytic.plugins.evolve.hypervolume import hypervolume
from catalytic.plugins.evolve.nsga3 import das_dennis, reference_directions
from catalytic.plugins.evolve.problems import PROBLEMS, get_problem


def run(alg: Algorithm | CmaEs, name: str, evaluations: int) -> Algorithm | CmaEs:
    p = get_problem(name)
    while alg.evaluations < evaluations:
        X = alg.ask()
        alg.tell(X, p.evaluate(X))
    return alg


def hv_ratio(alg: Algorithm, name: str) -> float:
    p = get_problem(name)
    assert p.true_hv is not None
    return hypervolume(alg.F[alg.front()], [1.1] * p.n_obj) / p.true_hv


@pytest.mark.parametrize("kind, name", [("nsga2", "zdt1"), ("nsga3", "dtlz2"), ("ga", "sphere")])
def test_same_seed_same_run_other_seed_other_run(kind: str, name: str) -> None:
    p = get_problem(name)

    def go(seed: int) -> np.ndarray:
        alg = run(Algorithm(p.genome(), p.n_obj, 20, seed=seed, kind=kind), name, 400)
        return np.asarray(alg.X)

    assert np.array_equal(go(7), go(7))
    assert not np.array_equal(go(7), go(8))


def test_cmaes_is_deterministic_and_leaves_numpy_global_state_alone() -> None:
    p = get_problem("sphere")
    np.random.seed(123)
    before = np.random.random()
    np.random.seed(123)
    a = run(CmaEs(p.genome(), seed=3), "sphere", 300)
    b = run(CmaEs(p.genome(), seed=3), "sphere", 300)
    assert np.random.random() == before
    assert a.best_f == b.best_f


def test_nsga2_converges_on_zdt1() -> None:
    alg = run(Algorithm(get_problem("zdt1").genome(), 2, 100, seed=1), "zdt1", 10_000)
    assert hv_ratio(alg, "zdt1") > 0.95  # a broken sort, crowding or SBX stays far below


def test_nsga3_spreads_on_dtlz2() -> None:
    alg = run(Algorithm(get_problem("dtlz2").genome(), 3, 92, seed=1, kind="nsga3"), "dtlz2",
              9_200)
    assert hv_ratio(alg, "dtlz2") > 0.85


def test_ga_and_cmaes_minimize() -> None:
    ga = run(Algorithm(get_problem("rastrigin").genome(), 1, 100, seed=2, kind="ga"),
             "rastrigin", 20_000)
    assert ga.F[ga.best()][0] < 5.0
    es = run(CmaEs(get_problem("rosenbrock").genome(), seed=2), "rosenbrock", 3_000)
    assert es.best_f < 100.0  # a random point of the domain scores in the thousands


def test_population_stays_unique_and_in_bounds() -> None:
    genome = Genome.from_specs([
        {"name": "x", "type": "real", "low": -1, "high": 1},
        {"name": "k", "type": "int", "low": 0, "high": 3},
        {"name": "c", "type": "categorical", "choices": ["a", "b"]},
    ])
    alg = Algorithm(genome, 2, 16, seed=0)
    for _ in range(30):
        X = alg.ask()
        assert (genome.xl <= X).all() and (genome.xu >= X).all()
        F = np.column_stack([X[:, 0] ** 2 + X[:, 1], (X[:, 0] - 1) ** 2 + X[:, 2]])
        alg.tell(X, F)
        rows = {tuple(r) for r in alg.X.tolist()}
        assert len(rows) == len(alg.X)


def test_constraint_domination_keeps_feasible_first() -> None:
    p = get_problem("zdt1")
    alg = Algorithm(p.genome(), 2, 20, seed=0)
    for _ in range(20):
        X = alg.ask()
        cv = np.maximum(0.0, 0.3 - X[:, 0])  # feasible only for x0 ≥ 0.3
        alg.tell(X, p.evaluate(X), cv)
    assert (alg.CV == 0).all()
    assert (alg.X[:, 0] >= 0.3).all()


def test_failures_are_kept_last() -> None:
    p = get_problem("zdt1")
    alg = Algorithm(p.genome(), 2, 10, seed=0)
    X = alg.ask()
    F = p.evaluate(X)
    F[:3] = np.nan
    alg.tell(X, F)
    assert np.isinf(alg.CV).sum() == 3
    assert np.isinf(alg.CV[-3:]).all()


def test_reference_directions() -> None:
    assert len(das_dennis(3, 12)) == 91
    R = reference_directions(3, 100)
    assert len(R) == 91
    np.testing.assert_allclose(R.sum(axis=1), 1.0)
    assert len(reference_directions(2, 100)) == 100


@pytest.mark.parametrize("bad", [0, 3, 5])
def test_unusable_population_sizes(bad: int) -> None:
    with pytest.raises(ValueError, match="population"):
        Algorithm(get_problem("zdt1").genome(), 2, bad)


def test_true_fronts_score_their_reference_hypervolume() -> None:
    """The hypervolume targets named for each problem match a dense true front."""
    x = np.linspace(0, 1, 20001)
    zeros = np.zeros((len(x), 29))
    for name in ("zdt1", "zdt2", "zdt3"):
        p = PROBLEMS[name]
        F = p.evaluate(np.column_stack([x, zeros]))
        assert p.true_hv is not None
        assert hypervolume(F, [1.1, 1.1]) == pytest.approx(p.true_hv, rel=2e-3)


def test_plugin_import_leaves_cma_for_when_cmaes_runs() -> None:
    """cma pulls in scipy and matplotlib (~100 MiB); a daemon that never runs CMA-ES skips it."""
    code = ("import sys, catalytic.plugins.evolve.plugin; "
            "print(sorted(m for m in ('cma', 'scipy', 'matplotlib') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True).stdout.strip()
    assert out == "[]"
    es = CmaEs(get_problem("sphere").genome(), seed=1)  # builds a strategy: imports cma here
    es.tell(es.ask(), np.ones((es.pop_size, 1)))
    back = pickle.loads(pickle.dumps(es))
    assert back.ask().shape == (es.pop_size, get_problem("sphere").n_var)
