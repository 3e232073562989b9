"""pymoo and DEAP runs for bench/evolve.py, configured as their documentation shows."""

from __future__ import annotations

import random
import time
import warnings

import numpy as np


def pymoo_nsga2(problem: str, evaluations: int, seed: int, pop: int = 100
                ) -> tuple[np.ndarray, float]:
    """Final non-dominated objective vectors and wall seconds of pymoo's NSGA-II (defaults)."""
    from pymoo.algorithms.moo.nsga2 import NSGA2
    from pymoo.optimize import minimize
    from pymoo.problems import get_problem

    p = get_problem(problem)
    t = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        r = minimize(p, NSGA2(pop_size=pop), ("n_eval", evaluations), seed=seed, verbose=False)
    return np.asarray(r.F), time.perf_counter() - t


def pymoo_ga(problem: str, evaluations: int, seed: int, n_var: int = 30) -> float:
    """Best value of pymoo's single-objective GA (defaults) on a 30-variable problem."""
    from pymoo.algorithms.soo.nonconvex.ga import GA
    from pymoo.optimize import minimize
    from pymoo.problems import get_problem

    p = get_problem(problem, n_var=n_var)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        r = minimize(p, GA(pop_size=100), ("n_eval", evaluations), seed=seed, verbose=False)
    return float(np.min(r.F))


def deap_nsga2(evaluations: int, seed: int, pop: int = 100) -> tuple[np.ndarray, float]:
    """DEAP's NSGA-II example (examples/ga/nsga2.py) on ZDT1 with 30 variables."""
    from deap import base, benchmarks, creator, tools

    if not hasattr(creator, "FitnessMin2"):
        creator.create("FitnessMin2", base.Fitness, weights=(-1.0, -1.0))
        creator.create("Individual2", list, fitness=creator.FitnessMin2)
    random.seed(seed)
    n, low, up = 30, 0.0, 1.0
    tb = base.Toolbox()
    tb.register("attr", random.uniform, low, up)
    tb.register("individual", tools.initRepeat, creator.Individual2, tb.attr, n)
    tb.register("population", tools.initRepeat, list, tb.individual)
    tb.register("evaluate", benchmarks.zdt1)
    tb.register("mate", tools.cxSimulatedBinaryBounded, low=low, up=up, eta=15.0)
    tb.register("mutate", tools.mutPolynomialBounded, low=low, up=up, eta=20.0, indpb=1.0 / n)
    tb.register("select", tools.selNSGA2)
    t = time.perf_counter()
    popl = tb.population(n=pop)
    for ind in popl:
        ind.fitness.values = tb.evaluate(ind)
    done = pop
    popl = tb.select(popl, len(popl))
    while done < evaluations:
        off = [tb.clone(i) for i in tools.selTournamentDCD(popl, len(popl))]
        for a, b in zip(off[::2], off[1::2], strict=True):
            if random.random() <= 0.9:
                tb.mate(a, b)
            tb.mutate(a)
            tb.mutate(b)
            del a.fitness.values, b.fitness.values
        for ind in off:
            ind.fitness.values = tb.evaluate(ind)
        done += len(off)
        popl = tb.select(popl + off, pop)
    F = np.array([i.fitness.values for i in popl])
    return F, time.perf_counter() - t
