"""Module-level job functions the plugin sends to the daemon's process pool.

Each takes plain values and returns plain (msgpack-able) values; limits are checked
here too so that an in-process caller gets the same refusals as an RPC caller.
"""

from __future__ import annotations

from typing import Any

from .checkpoint import formula, reverse_chain
from .classical import classical_evaluate
from .cookmertz import cm_work, cook_mertz_evaluate
from .tree import HashInstance, Instance, direct_value, parse_instance, random_instance
from .validate import Reporter, assemble, measure_item, run_validation
from .williams import simulate

TABLE_LIMIT = 1 << 18
"""Random instances up to this many table entries are tabulated; larger ones are hashed."""


class WorkTooLarge(ValueError):
    """The run's estimated work is above the configured limit (checked before running)."""

    def __init__(self, what: str, estimate: int, limit: int, setting: str) -> None:
        super().__init__(f"{what}: estimated work {estimate:.3g} units is above "
                         f"{setting} = {limit:.3g}")
        self.estimate, self.limit, self.setting = estimate, limit, setting

    def __reduce__(self) -> tuple[Any, ...]:
        return (WorkTooLarge, (self.args[0].split(":")[0], self.estimate, self.limit,
                               self.setting))


def tree_work(algorithm: str, h: int, b: int) -> int:
    """Work units of one evaluation (Cook–Mertz: (8b + 4)^h leaf visits, streamed tables)."""
    if algorithm == "classical":
        return (2 ** h) * 2
    return cm_work(h, b)


def make_instance(h: int, b: int, seed: int) -> tuple[Instance, str]:
    """The random instance for (h, b, seed): tabulated when small, hashed otherwise."""
    if h <= 20 and (2 ** h) * (4 ** b) <= TABLE_LIMIT:
        return random_instance(h, b, seed), "table"
    return HashInstance(h, b, seed), "hash"


def check_tree(algorithm: str, h: int, b: int, max_work: int) -> int:
    """The estimated work, or WorkTooLarge before anything runs."""
    work = tree_work(algorithm, h, b)
    if work > max_work:
        raise WorkTooLarge(f"{algorithm} h={h} b={b}", work, max_work, "space.max_work")
    return work


def tree_eval_job(h: int, b: int, seed: int, algorithm: str, instance: Any,
                  max_work: int) -> dict[str, Any]:
    if instance is not None:
        inst: Instance = parse_instance(instance)
        kind = "uploaded"
    else:
        inst, kind = make_instance(h, b, seed)
    work = check_tree(algorithm, inst.h, inst.b, max_work)
    if algorithm == "classical":
        out = classical_evaluate(inst)
    else:
        out = cook_mertz_evaluate(inst, seed=seed)
    out["instance"] = kind
    out["estimated_work"] = work
    if inst.h <= 16:
        out["direct_value"] = direct_value(inst)
        out["correct"] = out["direct_value"] == out["value"]
    return out


def checkpoint_job(strategy: str, n: int, slots: int | None, step: str, seed: int,
                   max_steps: int) -> dict[str, Any]:
    from .steps import builtin

    fn = builtin(step)
    check_checkpoint(strategy, n, slots, max_steps)
    return reverse_chain(strategy, n, fn, slots=slots, seed=seed).as_dict()


def check_checkpoint(strategy: str, n: int, slots: int | None, max_steps: int) -> int:
    steps = formula(strategy, n, 1, slots)["steps"]
    if steps > max_steps:
        raise WorkTooLarge(f"{strategy} n={n}", steps, max_steps, "space.max_steps")
    return steps


def williams_job(qbits: int, cells: int, blocks: int, time_blocks: int, seed: int,
                 max_work: int) -> dict[str, Any]:
    check_tree("cook-mertz", time_blocks, qbits + cells, max_work)
    return simulate(qbits, cells, blocks, time_blocks, seed)


def validate_job(spec: dict[str, Any], report: Reporter | None = None) -> dict[str, Any]:
    return run_validation(spec, report=report)


def validate_item_job(item: list[Any], spec: dict[str, Any]) -> dict[str, Any]:
    """One point of a sweep (the fan-out maps it over the points, `spec` shared)."""
    return measure_item(spec, item)


def validate_assemble_job(spec: dict[str, Any], items: list[list[Any]],
                          measured: list[dict[str, Any]], started: float) -> dict[str, Any]:
    """Fits, crossover and figure from the fanned-out points: what `validate_job` returns."""
    return assemble(spec, items, measured, started)
