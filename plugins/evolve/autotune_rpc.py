"""`evolve.autotune`: the RPC face of the knob search (mixed into EvolvePlugin)."""

from __future__ import annotations

import asyncio
import math
import os
from typing import Any

from catalytic.config.paths import recording_path
from catalytic.plugins.base import Call, Forbidden, InvalidParams, Param, PluginContext, rpc
from catalytic.plugins.evolve.autotune import config_write
from catalytic.plugins.evolve.autotune import workload as wl
from catalytic.plugins.evolve.autotune.metrics import METRICS, WEIGHTS, Reference
from catalytic.plugins.evolve.autotune.model import Costs, Knobs
from catalytic.plugins.evolve.autotune.tuner import (
    Judge,
    Search,
    evaluate,
    evaluate_chunk,
    fitness,
    generations_to,
    knobs_of,
    plan,
    strided,
    unstrided,
    validate_chunk,
)

MIN_CALLS = 100

REPORT_TARGET = 0.955
"""The score `generations_to_target` is reported against when no `target` is given: the
autonomy score the performance analysis hoped for."""


def references(which: int, log: list[wl.RecordedCall], p: Any, costs: Costs,
               weights: dict[str, float]) -> Any:
    """The judge of the search (0) and the held-out reference (1): replays of the whole
    workload, so they run as jobs too (threads would hold the loop's GIL)."""
    return Judge.of(log, p, costs, weights) if which == 0 else Reference.of(log, costs, p.cut)


def final_score(which: int, judge: Judge, log: list[wl.RecordedCall], held_ref: Reference,
                costs: Costs, current: Knobs, best: Knobs, weights: dict[str, float],
                cut: int) -> Any:
    """One of the four closing scores, as a job of one `executor.map` (all or none):
    0/1 the current knobs on the search and validation windows, 2/3 the current and the
    chosen knobs on the held-out part."""
    if which == 0:
        return evaluate_chunk([current.to_map()], judge)
    if which == 1:
        return validate_chunk([current.to_map()], judge)
    return evaluate(log, held_ref, costs, current if which == 2 else best, weights, cut)


def _where(e: Exception) -> str:
    """The line an error names (`workload line 12: ...`), never the text it quotes."""
    head = str(e).split(":", 1)[0]
    return f" at {head.removeprefix('workload ')}" if head.startswith("workload line ") else ""


class AutotuneMixin:
    """Adds `evolve.autotune` to the plugin."""

    ctx: PluginContext

    async def _workload(self, workload: str, calls: int, seed: int
                        ) -> tuple[list[wl.RecordedCall], str, dict[str, int]]:
        """The calls of `workload`: synthetic, a recording `system.record` saved in the
        daemon's state directory (by name), or a file under `evolve.workload_roots`."""
        if workload == "synthetic":
            return await asyncio.to_thread(wl.synthetic, calls, seed), "synthetic", {}
        recorded = recording_path(self.ctx.state_dir.parent, workload)
        if recorded is not None:
            if not recorded.is_file():
                raise InvalidParams(f"workload: no recording named {workload!r} (system.record "
                                    "saves them; give a name it listed, or an absolute path "
                                    "under evolve.workload_roots)", {"field": "workload"})
            path = recorded
        else:  # a path: under the configured roots, or refused without looking at it
            path = await asyncio.to_thread(self.ctx.resolve_path, workload, "workload_roots",
                                           must_exist=True)
            if not path.is_file():
                raise InvalidParams(f"workload: {workload!r} is not a file",
                                    {"field": "workload"})
        try:
            log, skipped = await asyncio.to_thread(wl.load, path)
        except (OSError, UnicodeDecodeError, ValueError) as e:
            raise InvalidParams(f"workload: {workload!r} is not a usable recording "
                                f"({type(e).__name__}{_where(e)})", {"field": "workload"}) from None
        if len(log) < MIN_CALLS:
            raise InvalidParams(f"workload: {workload!r} has {len(log)} usable calls; at least "
                                f"{MIN_CALLS} are needed", {"field": "workload"})
        return log, str(path), skipped

    @rpc("autotune",
         Param("workload", "str", required=False, default="synthetic",
               doc="'synthetic', the name of a recording saved by system.record "
                   "(<state>/workloads/<name>.jsonl) or the absolute path of a workload "
                   "file under evolve.workload_roots."),
         Param("calls", "int", required=False, default=20_000, min=200, max=1_000_000,
               doc="Size of the synthetic workload."),
         Param("population", "int", required=False, default=100, min=4, max=1000),
         Param("generations", "int", required=False, default=17, min=0, max=500),
         Param("target", "float", required=False, nullable=True, min=0, max=1,
               doc="Stop once the chosen configuration's validation score reaches it "
                   "(default: run every generation)."),
         Param("seed", "int", required=False, default=0, min=0),
         Param("held_out", "float", required=False, default=0.3, min=0.05, max=0.9),
         Param("windows", "int", required=False, default=3, min=1, max=20,
               doc="Search windows each candidate is scored on (at most; see docs)."),
         Param("memory_budget", "int", required=False, nullable=True, min=64 << 20,
               doc="Memory budget the model judges against (bytes; default "
                   "daemon.memory_budget)."),
         Param("cores", "int", required=False, nullable=True, min=1, max=1024),
         Param("weights", "map", required=False, nullable=True,
               doc="Per-metric weights (default: the documented ones)."),
         Param("apply", "bool", required=False, default=False,
               doc="Write the winner as a proposal, <state>/evolve/proposal.toml; "
                   "`catalytic config apply` installs it into the user config."),
         Param("config", "str", required=False, nullable=True,
               doc="Refused (-32003): the daemon writes no file outside its state "
                   "directory; use `catalytic config apply --config PATH`."),
         heavy=True,
         doc="Evolve the daemon's knobs on a replayed workload; score current vs best.")
    async def autotune(self, call: Call, workload: str, calls: int, population: int,
                       generations: int, target: float | None, seed: int, held_out: float,
                       windows: int,
                       memory_budget: int | None, cores: int | None, weights: dict[str, Any] | None,
                       apply: bool, config: str | None) -> dict[str, Any]:
        if population % 2:
            raise InvalidParams("population: must be even", {"field": "population"})
        if config is not None:
            raise Forbidden("config: evolve.autotune writes only its proposal inside the "
                            "daemon's state directory; install it with `catalytic config "
                            "apply [--config PATH]`", {"field": "config"})
        w = dict(WEIGHTS)
        if weights:
            unknown = set(weights) - set(METRICS)
            if unknown:
                raise InvalidParams(f"weights: unknown metric(s) {sorted(unknown)}; "
                                    f"known: {', '.join(METRICS)}", {"field": "weights"})
            for k, v in weights.items():
                if isinstance(v, bool) or not isinstance(v, int | float) \
                        or not math.isfinite(v) or v < 0:
                    raise InvalidParams(f"weights.{k}: must be a finite number ≥ 0",
                                        {"field": f"weights.{k}"})
                w[k] = float(v)
            if sum(w.values()) <= 0:
                raise InvalidParams("weights: at least one must be positive",
                                    {"field": "weights"})
        log, source, skipped = await self._workload(workload, calls, seed)
        n_cores = cores or os.cpu_count() or 1
        if memory_budget is None:
            memory_budget = int(self.ctx.daemon_config.get("daemon", {}).get("memory_budget")
                                or 256 << 20)
        costs = Costs(cores=n_cores, memory_budget=memory_budget)
        p = plan(len(log), held_out, windows)
        judge, held_ref = await self.ctx.executor.map(references, range(2),
                                                      args=(log, p, costs, w))
        current = Knobs(**config_write.current_knobs(self.ctx.daemon_config, n_cores,
                                                     memory_budget))
        search = Search(population=population, seed=seed, start=current)
        chunks = max(1, self.ctx.executor.workers)

        async def spread(fn: Any, rows: list[dict[str, Any]]) -> list[Any]:
            parts = [part for part in strided(rows, chunks) if part]
            done = await self.ctx.executor.map(fn, parts, args=(judge,))
            return unstrided(done, len(rows), chunks)

        for g in range(generations + 1):
            X, rows = search.propose()
            search.record(X, rows, await spread(evaluate_chunk, rows))
            todo = search.unvalidated()
            pick = search.choose(todo, await spread(validate_chunk, todo) if todo else [])
            v = search.validation_of(pick)
            call.progress(g, generations, f"generation {g}: fitness {search.best_fitness:.4f}, "
                                          f"validation {v:.4f}")
            if target is not None and v >= target:
                break
        best = knobs_of(search.picks[-1])
        judged = await self.ctx.executor.map(
            final_score, range(4), args=(judge, log, held_ref, costs, current, best, w, p.cut))
        out: dict[str, Any] = {
            "workload": {"source": source, "calls": len(log), "skipped": skipped},
            "calls": len(log), "memory_budget": memory_budget, "cores": n_cores,
            "tuning_calls": p.cut, "held_out_calls": len(log) - p.cut,
            "validation_calls": p.validation[1] - p.validation[0],
            "search_windows": [list(x) for x in p.windows],
            "growth": {"search": [c.growth for c in judge.costs],
                       "validation": judge.validation_costs.growth},
            "weights": w, "generations_run": len(search.history) - 1,
            "history": [round(h, 6) for h in search.history],
            "validation_history": [round(search.validation_of(r), 6) for r in search.picks],
            "generations_to_target": generations_to(
                [search.validation_of(r) for r in search.picks],
                REPORT_TARGET if target is None else target),
            "current": {"knobs": current.to_map(), "score": fitness(judged[0][0]),
                        "validation_score": judged[1][0],
                        "heldout_score": judged[2][0], "heldout_metrics": judged[2][1]},
            "best": {"knobs": best.to_map(), "score": search.fitness_of(search.picks[-1]),
                     "validation_score": search.validation_of(search.picks[-1]),
                     "heldout_score": judged[3][0], "heldout_metrics": judged[3][1]},
            "model": "cost model of the daemon (see docs/evolve.md); not a measurement",
        }
        if apply:
            try:
                text, proposal = await asyncio.to_thread(
                    config_write.propose, best.to_map(), self.ctx.daemon_config, memory_budget,
                    f"evolve.autotune of {source}: held-out score {judged[3][0]:.4f} "
                    f"(current configuration {judged[2][0]:.4f})")
            except ValueError as e:
                raise InvalidParams(str(e), {"field": "apply"}) from None
            path = self.ctx.state_dir / config_write.PROPOSAL
            await asyncio.to_thread(self.ctx.atomic_write, path, text.encode())
            out["proposal"] = dict(proposal, path=str(path),
                                   install=f"catalytic config apply {path}")
        return out
