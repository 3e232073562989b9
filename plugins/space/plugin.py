"""The RPC face of `space`: parameter checks and refusals here, the work in the process pool.

Verbs: tree_eval, checkpoint, williams, validate (progress, cancellable), report. The
last validation is kept in the plugin's state directory so `space.report` survives
a restart.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Callable
from functools import partial
from typing import Any

from catalytic.plugins.base import (
    Call,
    FieldError,
    Param,
    Plugin,
    PluginContext,
    RpcError,
    Setting,
    TooLarge,
    rpc,
)

from . import jobs
from .checkpoint import STRATEGIES
from .steps import BUILTINS
from .tree import InstanceError
from .validate import (
    PRESETS,
    item_label,
    item_work,
    r2_table,
    resolve_spec,
    spec_work,
    sweep_items,
)

NO_REPORT = -33001
"""`space.report` before any `space.validate` finished."""


def _refuse(e: jobs.WorkTooLarge) -> TooLarge:
    return TooLarge(str(e), {"estimate": float(e.estimate), "limit": e.limit,
                             "setting": e.setting})


class SpacePlugin(Plugin):
    name = "space"
    version = "0.1.0"
    settings = (
        Setting("max_work", "int", 50_000_000,
                "Largest estimated work (units ≈ multiply-adds) of one Tree Evaluation or "
                "Williams run; Cook–Mertz grows as (8b + 4)^h, so bigger asks are refused.",
                min=1),
        Setting("max_steps", "int", 50_000_000,
                "Largest step count (from the schedule's formula) of one space.checkpoint.",
                min=1),
        Setting("max_n", "int", 2_000_000, "Largest chain length of space.checkpoint.", min=1),
        Setting("max_sweep_work", "int", 2_000_000_000,
                "Largest total estimated work of one space.validate sweep.", min=1),
    )

    async def start(self, ctx: PluginContext) -> None:
        self.ctx = ctx
        self.report_path = ctx.state_dir / "last_validation.json"
        self.last: dict[str, Any] | None = None
        self.counts = dict.fromkeys(("tree_eval", "checkpoint", "williams", "validate"), 0)

    async def restore(self) -> None:
        if self.report_path.exists():
            try:
                text = await asyncio.to_thread(self.report_path.read_text, "utf-8")
                self.last = json.loads(text)
            except (OSError, ValueError) as exc:
                self.ctx.log.error("space: last validation unreadable: %s", exc)

    def stats(self) -> dict[str, Any]:
        out: dict[str, Any] = {f"{k}_calls": v for k, v in self.counts.items()}
        if self.last:
            out.update({k: v for k, v in self.last["summary"].items()
                        if isinstance(v, int | float) and not isinstance(v, bool)})
        return out

    @rpc("tree_eval",
         Param("h", "int", required=False, default=4, min=0, max=40, doc="Tree height."),
         Param("b", "int", required=False, default=2, min=1, max=16, doc="Bits a value (k=2^b)."),
         Param("seed", "int", required=False, default=0, min=0),
         Param("algorithm", "str", required=False, default="cook-mertz",
               choices=("classical", "cook-mertz")),
         Param("instance", "map", required=False, nullable=True,
               doc="Uploaded instance {h, b, leaves: [2^h], nodes: [2^h − 1 tables of k×k]}; "
                   "overrides h, b, seed."),
         doc="Evaluate a random (seeded) or uploaded Tree Evaluation instance; returns value, "
             "measured_bits, formula_bits and visit counts.", heavy=True)
    async def tree_eval(self, call: Call, h: int, b: int, seed: int, algorithm: str,
                        instance: dict[str, Any] | None) -> dict[str, Any]:
        if instance is not None:
            try:
                parsed = await asyncio.to_thread(jobs.parse_instance, instance)
            except InstanceError as e:
                raise FieldError("instance", instance, "space.tree_eval",
                                 f"a valid instance ({e})").invalid_params() from None
            h, b = parsed.h, parsed.b
        limit = self.ctx.config["max_work"]
        return await self._run("tree_eval", partial(jobs.check_tree, algorithm, h, b, limit),
                               jobs.tree_eval_job, h, b, seed, algorithm, instance, limit)

    @rpc("checkpoint",
         Param("strategy", "str", choices=STRATEGIES),
         Param("n", "int", min=1, doc="Chain length (states s_0 … s_{n−1})."),
         Param("slots", "int", required=False, min=1, nullable=True,
               doc="Checkpoint slots for revolve (default ⌈log2 n⌉)."),
         Param("step", "str", required=False, default="hash", choices=tuple(sorted(BUILTINS))),
         Param("seed", "int", required=False, default=0, min=0),
         doc="Reverse a chain of n steps with a checkpointing schedule; returns peak_states, "
             "steps and measured_bits (each asserted equal to its closed form).", heavy=True)
    async def checkpoint(self, call: Call, strategy: str, n: int, slots: int | None,
                         step: str, seed: int) -> dict[str, Any]:
        if n > self.ctx.config["max_n"]:
            raise TooLarge(f"n={n} is above space.max_n = {self.ctx.config['max_n']}",
                           {"limit": self.ctx.config["max_n"], "setting": "space.max_n"})
        if strategy == "revolve" and slots is None:
            slots = max(1, (n - 1).bit_length())
        if strategy != "revolve" and slots is not None:
            raise FieldError("slots", slots, "space.checkpoint",
                             "nothing: only the revolve strategy takes slots").invalid_params()
        limit = self.ctx.config["max_steps"]
        return await self._run("checkpoint",
                               partial(jobs.check_checkpoint, strategy, n, slots, limit),
                               jobs.checkpoint_job, strategy, n, slots, step, seed, limit)

    @rpc("williams",
         Param("qbits", "int", required=False, default=1, min=1, max=4),
         Param("cells", "int", required=False, default=1, min=1, max=8),
         Param("blocks", "int", required=False, default=2, min=1, max=64),
         Param("time_blocks", "int", required=False, default=3, min=1, max=12),
         Param("seed", "int", required=False, default=0, min=0),
         doc="Williams' simulation at toy size: a block-respecting machine run directly and "
             "through Cook–Mertz on its implicit Tree Evaluation instance.", heavy=True)
    async def williams(self, call: Call, qbits: int, cells: int, blocks: int,
                       time_blocks: int, seed: int) -> dict[str, Any]:
        limit = self.ctx.config["max_work"]
        return await self._run("williams",
                               partial(jobs.check_tree, "cook-mertz", time_blocks, qbits + cells,
                                       limit),
                               jobs.williams_job, qbits, cells, blocks, time_blocks, seed, limit)

    async def _run(self, verb: str, check: Callable[[], object], job: Callable[..., Any],
                   *args: Any) -> dict[str, Any]:
        """Refuse a run whose estimated work is above its setting (-32004), else count the
        verb and run `job(*args)` in the executor."""
        try:
            check()
        except jobs.WorkTooLarge as e:
            raise _refuse(e) from None
        self.counts[verb] += 1
        result: dict[str, Any] = await self.ctx.executor.submit(job, *args)
        return result

    @rpc("validate",
         Param("preset", "str", required=False, default="quick", choices=tuple(PRESETS)),
         Param("sizes", "list", required=False, items="int", nullable=True,
               doc="Chain lengths to sweep (each 2 … space.max_n)."),
         Param("step", "str", required=False, nullable=True, choices=tuple(sorted(BUILTINS))),
         Param("cm_max_work", "int", required=False, nullable=True, min=1,
               doc="Cook–Mertz grid: every (h, b) whose work is at most this."),
         Param("seed", "int", required=False, nullable=True, min=0),
         doc="Sweep sizes, fit the measured peaks to candidate curves (R², log–log slope, "
             "winner, crossover) and draw an SVG; runs in the process pool with progress.",
         heavy=True)
    async def validate(self, call: Call, preset: str, sizes: list[int] | None,
                       step: str | None, cm_max_work: int | None,
                       seed: int | None) -> dict[str, Any]:
        cfg = self.ctx.config
        if sizes is not None and (len(sizes) < 3 or any(not 2 <= n <= cfg["max_n"]
                                                        for n in sizes)):
            raise FieldError("sizes", sizes, "space.validate", f"at least 3 lengths from 2 to "
                             f"space.max_n = {cfg['max_n']}").invalid_params()
        if cm_max_work is not None and cm_max_work > cfg["max_work"]:
            raise TooLarge(f"cm_max_work {cm_max_work} is above space.max_work = "
                           f"{cfg['max_work']}", {"limit": cfg["max_work"],
                                                  "setting": "space.max_work"})
        spec = resolve_spec(preset, {"sizes": sorted(set(sizes)) if sizes else None,
                                     "step": step, "cm_max_work": cm_max_work, "seed": seed})
        work = spec_work(spec)
        if work > cfg["max_sweep_work"]:
            raise TooLarge(f"sweep: estimated work {work:.3g} is above space.max_sweep_work = "
                           f"{cfg['max_sweep_work']:.3g}",
                           {"estimate": float(work), "limit": cfg["max_sweep_work"],
                            "setting": "space.max_sweep_work"})
        self.counts["validate"] += 1
        items = sweep_items(spec)
        if len(items) > 1 and self.ctx.executor.workers > 1:
            result = await self._fan_out(call, spec, items)
        else:
            result = await self.ctx.executor.submit(jobs.validate_job, spec,
                                                    progress=call.progress)
        result["r2_table"] = r2_table(result)
        self.last = result
        await asyncio.to_thread(self.ctx.atomic_write, self.report_path,
                                json.dumps(result).encode())
        return result

    async def _fan_out(self, call: Call, spec: dict[str, Any],
                       items: list[list[Any]]) -> dict[str, Any]:
        """One job per sweep point (heaviest sent first), then one job to fit and draw."""
        started, clock = time.time(), time.monotonic()
        heavy_first = sorted(range(len(items)), key=lambda i: -item_work(items[i]))
        points = await self.ctx.executor.map(
            jobs.validate_item_job, [items[i] for i in heavy_first], args=(spec,),
            progress=call.progress, label=item_label)
        measured: list[dict[str, Any]] = [{}] * len(items)
        for i, point in zip(heavy_first, points, strict=True):
            measured[i] = point
        result: dict[str, Any] = await self.ctx.executor.submit(
            jobs.validate_assemble_job, spec, items, measured, started)
        result["elapsed_s"] = time.monotonic() - clock  # this host's clock, not a worker's
        return result

    @rpc("report", doc="The last validation (summary, fits, points, SVG), kept across restarts.")
    async def report(self, call: Call) -> dict[str, Any]:
        if self.last is None:
            raise RpcError("no validation yet: run space.validate first", code=NO_REPORT)
        return self.last

    def http_routes(self) -> Any:
        from aiohttp import web

        async def plot(request: web.Request) -> web.Response:
            if self.last is None:
                return web.Response(status=404, text="no validation yet")
            return web.Response(text=self.last["svg"], content_type="image/svg+xml")

        async def summary(request: web.Request) -> web.Response:
            if self.last is None:
                return web.json_response({"error": "no validation yet"}, status=404)
            return web.json_response({"summary": self.last["summary"],
                                      "r2_table": self.last.get("r2_table", [])})

        return (("GET", "/api/space/plot.svg", plot), ("GET", "/api/space/summary", summary))
