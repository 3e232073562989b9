"""The RPC face of tune: `tune.run` searches, `tune.score` measures one configuration.

Every measurement is a `workspace.simulate` call through the dispatcher (`ctx.call`):
the workspace replays the workload's keys through its own policies in the executor
(its process pool, or Dask when configured), one job per pair or per policy, and tune
scores what came back (`score.py`). Cancelling `tune.run` cancels the simulate call in
flight, and with it every job of its map.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

from catalytic.config.model import Setting, installed_schema
from catalytic.config.paths import recording_path, recordings_dir
from catalytic.plugins.base import Call, InvalidParams, Param, Plugin, PluginContext, rpc
from catalytic.plugins.tune import knobs, proposal, search
from catalytic.plugins.tune.knobs import Candidate
from catalytic.plugins.tune.recording import Facts, WorkloadError, facts, load
from catalytic.plugins.tune.score import WEIGHTS, metrics, weighted

MIN_ACCESSES = 20
"""Fewer cache accesses than this measure nothing worth tuning on."""


def policies() -> tuple[str, ...]:
    """The workspace's policies, as its settings declare them; RuntimeError when the
    settings tuning changes are not all declared (the plugin then fails to start, with
    this reason, rather than propose keys the daemon would refuse)."""
    declared = {s.key: s for s in installed_schema().get(knobs.SECTION, ())}
    missing = [k for k in knobs.KEYS if k not in declared]
    if missing:
        raise RuntimeError(f"tune needs the settings {knobs.SECTION}."
                           f"{{{', '.join(missing)}}}, which no installed plugin declares")
    return tuple(str(c) for c in declared["policy"].choices or ())


def _part(first: float, last: float) -> None:
    """Refuse a part of the recording that is not 0 ≤ first < last ≤ 1."""
    for name, value in (("first", first), ("last", last)):
        if not 0.0 <= value <= 1.0:
            raise InvalidParams(f"{name}: {value} must be a share from 0 to 1", {"field": name})
    if first >= last:
        raise InvalidParams("first: must be below last", {"field": "first"})


WORKLOAD = Param("workload", "str", doc="A recording's name (system.record), or the absolute "
                                        "path of a recording under tune.workload_roots.")
PART = (Param("first", "float", required=False, default=0.0,
              doc="Share of the recording where the part used starts."),
        Param("last", "float", required=False, default=1.0,
              doc="Share of the recording where it ends."),
        Param("memory_budget", "int", required=False, nullable=True, min=1 << 20,
              doc="Budget peak_memory is judged against (default tune.memory_budget)."))


class TunePlugin(Plugin):
    name = "tune"
    version = "0.1.0"
    settings = (
        Setting("workload_roots", "path_list", [],
                "Folders tune.run and tune.score may read a workload file from, by absolute "
                "path (recordings of system.record are always readable, by name)."),
        Setting("max_evaluations", "int", 250,
                "Default budget of tune.run (measured configurations), and the most a call "
                "may ask for.", min=1, max=100_000),
        Setting("max_calls", "int", 1_000_000,
                "Most recorded calls a workload may hold.", min=100),
        Setting("memory_budget", "bytes", 0,
                "Memory budget peak_memory is judged against; 0 = daemon.memory_budget.",
                min=0),
    )

    async def start(self, ctx: PluginContext) -> None:
        self.ctx = ctx
        self.runs = 0
        self.policies = await asyncio.to_thread(policies)  # reads entry points: not inline

    def stats(self) -> dict[str, Any]:
        return {"runs": self.runs}

    # -- inputs ---------------------------------------------------------------------
    def _path(self, workload: str) -> Path:
        """A recording's name, or an absolute path under the recordings folder or
        `tune.workload_roots` (blocking: resolves the path)."""
        recordings = recordings_dir(self.ctx.state_dir)
        named = recording_path(recordings.parent, workload)
        if named is not None:
            if not named.is_file():
                raise InvalidParams(f"workload: no recording named {workload!r} (system.record "
                                    "saves them by name)", {"field": "workload"})
            return named
        if os.path.isabs(workload) and "\x00" not in workload:
            resolved = Path(workload).resolve()
            if resolved.is_relative_to(recordings.resolve()):
                if not resolved.is_file():
                    raise InvalidParams(f"workload: {workload!r} does not exist",
                                        {"field": "workload"})
                return resolved
        path = self.ctx.resolve_path(workload, "workload_roots", must_exist=True)
        if not path.is_file():
            raise InvalidParams(f"workload: {workload!r} is not a file", {"field": "workload"})
        return path

    async def _facts(self, workload: str, first: float, last: float) -> Facts:
        """The part [first, last) of the recording, read and checked in a thread."""
        def read() -> Facts:
            path = self._path(workload)
            try:
                w = load(path, int(self.ctx.config["max_calls"]))
            except (OSError, UnicodeDecodeError, WorkloadError) as e:
                raise InvalidParams(f"workload: {workload!r} is not a usable recording ({e})",
                                    {"field": "workload"}) from None
            f = facts(w.part(first, last))
            if len(f.keys) < MIN_ACCESSES:
                raise InvalidParams(
                    f"workload: {workload!r} has {len(f.keys)} cache accesses in the part "
                    f"asked for; at least {MIN_ACCESSES} are needed", {"field": "workload"})
            return f
        return await asyncio.to_thread(read)

    def _budget(self, memory_budget: int | None) -> int:
        return int(memory_budget or self.ctx.config["memory_budget"]
                   or self.ctx.daemon_config.get("daemon", {}).get("memory_budget") or 1 << 30)

    # -- measuring ------------------------------------------------------------------
    async def _measure(self, f: Facts, share: float, cands: list[Candidate], budget: int,
                       progress: Callable[[int], None] | None = None
                       ) -> dict[Candidate, dict[str, Any]]:
        """Replay the first `share` of the workload's accesses under each candidate.

        One `workspace.simulate` per prefetch setting when the candidates of that setting
        are every policy × capacity pair (the first rung), else one per policy with its
        capacities; `progress(n)` after each call with the candidates it measured."""
        keys = f.keys[:max(MIN_ACCESSES, int(len(f.keys) * share))]
        part = facts_of_prefix(f, len(keys))

        def objects(c: Candidate) -> int:
            return max(1, int(c.memory_capacity / part.mean_size))
        out: dict[Candidate, dict[str, Any]] = {}
        for group in calls_for(cands, objects):
            res = await self.ctx.call("workspace.simulate", {
                "keys": keys, "policies": sorted({c.policy for c in group}),
                "prefetch": group[0].prefetch,
                "capacities": sorted({objects(c) for c in group})})
            rows = {(r["policy"], r["capacity"]): r for r in res["results"]}
            for c in group:
                row = rows[c.policy, objects(c)]
                m = metrics(row, c.memory_capacity, part, budget, f.working_set)
                out[c] = {"score": weighted(m), "metrics": m, "hit_ratio": row["hit_ratio"]}
            if progress is not None:
                progress(len(group))
        return out

    # -- verbs ----------------------------------------------------------------------
    @rpc("score", WORKLOAD,
         Param("config", "map", required=False, default={},
               doc="Settings to measure, {\"workspace\": {policy, memory_capacity, "
                   "prefetch}}; unset ones are the running daemon's."),
         *PART, heavy=True, doc="The measured score of one configuration on a recorded workload.")
    async def score(self, workload: str, config: dict[str, Any], first: float, last: float,
                    memory_budget: int | None) -> dict[str, Any]:
        _part(first, last)
        base = knobs.current(self.ctx.daemon_config)
        try:
            cand = knobs.from_config(config, base, self.policies)
        except ValueError as e:
            raise InvalidParams(str(e), {"field": "config"}) from None
        f = await self._facts(workload, first, last)
        budget = self._budget(memory_budget)
        got = (await self._measure(f, 1.0, [cand], budget))[cand]
        return {"config": cand.settings(), "memory_budget": budget, "accesses": len(f.keys),
                "calls": f.calls, "weights": WEIGHTS, **got}

    @rpc("run", WORKLOAD,
         Param("budget", "int", required=False, nullable=True, min=1,
               doc="Most configurations measured (default and upper bound: "
                   "tune.max_evaluations)."),
         *PART,
         Param("seed", "int", required=False, default=0, min=0,
               doc="Which candidates a first rung too small for the grid samples."),
         heavy=True,
         doc="Search the workspace's settings by measured replays of a recorded workload; "
             "write the best as <state>/tune/proposal.toml and answer its diff.")
    async def run(self, call: Call, workload: str, budget: int | None, first: float,
                  last: float, memory_budget: int | None, seed: int) -> dict[str, Any]:
        cap = int(self.ctx.config["max_evaluations"])
        if budget is None:
            budget = cap
        if budget > cap:
            raise InvalidParams(f"budget: {budget} is above tune.max_evaluations ({cap})",
                                {"field": "budget"})
        _part(first, last)
        f = await self._facts(workload, first, last)
        limit = self._budget(memory_budget)
        now = knobs.current(self.ctx.daemon_config)
        caps = knobs.capacities(f.working_set, limit, now.memory_capacity)
        grid = knobs.grid(self.policies, caps)
        rung = search.first_rung(grid, budget, now, seed)
        total = search.evaluations(len(rung))
        done = 0
        measured: dict[Candidate, dict[str, Any]] = {}
        for i, share in enumerate(search.RUNGS):
            what = (f"rung {i + 1}/{len(search.RUNGS)}: {len(rung)} configurations on "
                    f"{share:.0%} of the workload")
            call.progress(done, total, what)

            def step(n: int, what: str = what) -> None:
                nonlocal done
                done += n
                call.progress(done, total, what)
            measured = await self._measure(f, share, rung, limit, step)
            if i + 1 < len(search.RUNGS):
                rung = search.survivors({c: m["score"] for c, m in measured.items()})
        call.progress(done, total, "measuring the running configuration")
        if now not in measured:
            measured.update(await self._measure(f, 1.0, [now], limit))
            done += 1
            total += 1
        best = search.survivors({c: m["score"] for c, m in measured.items()})[0]
        if measured[best]["score"] <= measured[now]["score"]:
            best = now
        settings = best.settings()
        running = self.ctx.daemon_config
        note = (f"measured on {workload!r}: score {measured[best]['score']:.4f} "
                f"(running configuration {measured[now]['score']:.4f})")
        await asyncio.to_thread(proposal.check, settings)
        path = self.ctx.state_dir / proposal.NAME
        await asyncio.to_thread(self.ctx.atomic_write, path,
                                proposal.text(settings, note).encode())
        self.runs += 1
        call.progress(done, total, "done")
        return {"evaluations": done, "accesses": len(f.keys), "calls": f.calls,
                "memory_budget": limit, "weights": WEIGHTS,
                "current": {"config": now.settings(), **measured[now]},
                "best": {"config": settings, **measured[best]},
                "changes": proposal.changes(settings, running),
                "diff": proposal.diff(settings, running),
                "proposal": str(path), "apply": "catalytic config apply"}


def calls_for(cands: list[Candidate], objects: Callable[[Candidate], int]
              ) -> list[list[Candidate]]:
    """The candidates grouped into `workspace.simulate` calls (see `_measure`)."""
    calls: list[list[Candidate]] = []
    for pre in (False, True):
        same = [c for c in cands if c.prefetch == pre]
        pairs = {(c.policy, objects(c)) for c in same}
        pols = {c.policy for c in same}
        caps = {objects(c) for c in same}
        if same and len(pairs) == len(pols) * len(caps):
            calls.append(same)
            continue
        for pol in sorted(pols):
            calls.append([c for c in same if c.policy == pol])
    return calls


def facts_of_prefix(f: Facts, n: int) -> Facts:
    """`f` for its first `n` accesses (the keys seen so far and their sizes; the other
    calls' time scaled by the share replayed)."""
    if n >= len(f.keys):
        return f
    keys = f.keys[:n]
    distinct = max(keys) + 1 if keys else 0
    share = n / len(f.keys)
    return Facts(keys, f.sizes[:distinct], max(1, round(f.calls * share)),
                 round(f.errors * share), f.other_s * share, f.hit_s, f.miss_s)
