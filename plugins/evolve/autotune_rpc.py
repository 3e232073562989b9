"""`evolve.autotune`: the RPC face of the knob search (mixed into EvolvePlugin)."""

from __future__ import annotations

import asyncio
import os
from pathlib import Path
from typing import Any

import numpy as np

from catalytic.config.paths import user_config_path
from catalytic.plugins.base import Call, InvalidParams, Param, PluginContext, rpc
from catalytic.plugins.evolve.autotune import config_write
from catalytic.plugins.evolve.autotune import workload as wl
from catalytic.plugins.evolve.autotune.metrics import METRICS, WEIGHTS, Reference
from catalytic.plugins.evolve.autotune.model import Costs, Knobs
from catalytic.plugins.evolve.autotune.tuner import (
    Search,
    evaluate,
    evaluate_chunk,
    generations_to,
    knobs_of,
    tuning_warm,
)


class AutotuneMixin:
    """Adds `evolve.autotune` to the plugin."""

    ctx: PluginContext

    @rpc("autotune",
         Param("workload", "str", required=False, default="synthetic",
               doc="'synthetic' or the path of a recorded workload (JSON lines)."),
         Param("calls", "int", required=False, default=20_000, min=200, max=1_000_000,
               doc="Size of the synthetic workload."),
         Param("population", "int", required=False, default=100, min=4, max=1000),
         Param("generations", "int", required=False, default=17, min=0, max=500),
         Param("target", "float", required=False, default=0.955, min=0, max=1,
               doc="Stop once the tuning score reaches it."),
         Param("seed", "int", required=False, default=0, min=0),
         Param("held_out", "float", required=False, default=0.3, min=0.05, max=0.9),
         Param("memory_budget", "int", required=False, nullable=True, min=64 << 20,
               doc="Memory budget the model judges against (bytes; default "
                   "daemon.memory_budget)."),
         Param("cores", "int", required=False, nullable=True, min=1, max=1024),
         Param("weights", "map", required=False, nullable=True,
               doc="Per-metric weights (default: the documented ones)."),
         Param("apply", "bool", required=False, default=False,
               doc="Write the winner to the user config (a backup is kept)."),
         Param("config", "str", required=False, nullable=True,
               doc="Config file to write with apply (default: the user config)."),
         heavy=True,
         doc="Evolve the daemon's knobs on a replayed workload; score current vs best.")
    async def autotune(self, call: Call, workload: str, calls: int, population: int,
                       generations: int, target: float, seed: int, held_out: float,
                       memory_budget: int | None, cores: int | None, weights: dict[str, Any] | None,
                       apply: bool, config: str | None) -> dict[str, Any]:
        if population % 2:
            raise InvalidParams("population: must be even", {"field": "population"})
        w = dict(WEIGHTS)
        if weights:
            unknown = set(weights) - set(METRICS)
            if unknown:
                raise InvalidParams(f"weights: unknown metric(s) {sorted(unknown)}; "
                                    f"known: {', '.join(METRICS)}", {"field": "weights"})
            for k, v in weights.items():
                if isinstance(v, bool) or not isinstance(v, int | float) or v < 0:
                    raise InvalidParams(f"weights.{k}: must be a number ≥ 0",
                                        {"field": f"weights.{k}"})
                w[k] = float(v)
            if sum(w.values()) <= 0:
                raise InvalidParams("weights: at least one must be positive",
                                    {"field": "weights"})
        if workload == "synthetic":
            log = await asyncio.to_thread(wl.synthetic, calls, seed)
        else:
            path = Path(workload).expanduser()
            if not path.is_file():
                raise InvalidParams(f"workload: no file {path}", {"field": "workload"})
            try:
                log = await asyncio.to_thread(wl.load, path)
            except ValueError as e:
                raise InvalidParams(f"workload: {e}", {"field": "workload"}) from None
        if len(log) < 200:
            raise InvalidParams("workload: at least 200 calls are needed", {"field": "workload"})
        n_cores = cores or os.cpu_count() or 1
        if memory_budget is None:
            memory_budget = int(self.ctx.daemon_config.get("daemon", {}).get("memory_budget")
                                or 256 << 20)
        costs = Costs(cores=n_cores, memory_budget=memory_budget)
        cut = wl.split(log, held_out)
        tune = log[:cut]
        warm = tuning_warm(cut)
        ref, held_ref = await asyncio.gather(
            asyncio.to_thread(Reference.of, tune, costs, warm),
            asyncio.to_thread(Reference.of, log, costs, cut))
        current = Knobs(**config_write.current_knobs(self.ctx.daemon_config, n_cores,
                                                     memory_budget))
        search = Search(population=population, seed=seed, start=current)
        chunks = max(1, self.ctx.executor.workers)
        for g in range(generations + 1):
            X, rows = search.propose()
            parts = [rows[i::chunks] for i in range(chunks)]
            scored = await asyncio.gather(*(self.ctx.executor.submit(
                evaluate_chunk, part, tune, ref, costs, w, warm) for part in parts))
            scores = np.empty(len(rows))
            for i in range(chunks):
                scores[i::chunks] = scored[i]
            search.record(X, rows, scores)
            call.progress(g, generations, f"generation {g}: best {search.best_score:.4f}")
            if search.best_score >= target:
                break
        assert search.best is not None
        best = knobs_of(search.best)
        judged = await asyncio.gather(
            self.ctx.executor.submit(evaluate, tune, ref, costs, current, w, warm),
            self.ctx.executor.submit(evaluate, log, held_ref, costs, current, w, cut),
            self.ctx.executor.submit(evaluate, log, held_ref, costs, best, w, cut))
        out: dict[str, Any] = {
            "calls": len(log), "memory_budget": memory_budget, "cores": n_cores,
            "tuning_calls": cut, "held_out_calls": len(log) - cut,
            "weights": w, "generations_run": len(search.history) - 1,
            "generations_to_target": generations_to(search.history, target),
            "history": [round(h, 6) for h in search.history],
            "current": {"knobs": current.to_map(), "score": judged[0][0],
                        "heldout_score": judged[1][0], "heldout_metrics": judged[1][1]},
            "best": {"knobs": best.to_map(), "score": search.best_score,
                     "heldout_score": judged[2][0], "heldout_metrics": judged[2][1]},
            "model": "cost model of the daemon (see docs/evolve.md); not a measurement",
        }
        if apply:
            path = Path(config).expanduser() if config else user_config_path()
            try:
                out["applied"] = await asyncio.to_thread(
                    config_write.apply, path, best.to_map(), self.ctx.daemon_config,
                    memory_budget)
            except ValueError as e:
                raise InvalidParams(str(e), {"field": "apply"}) from None
        return out
