"""The RPC face of evolve: studies over the socket, server-side runs on the process pool.

Handlers validate, apply the call to the in-memory `StudyState`, journal it through
one writer thread (so journal order is call order) and answer once it is
durable. CPU work (epochs of server-side runs) goes to `ctx.executor`.
"""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar, cast

import numpy as np

from catalytic.plugins.base import (
    Call,
    InvalidParams,
    Overloaded,
    Param,
    Plugin,
    PluginContext,
    RpcError,
    Setting,
    TooLarge,
    rpc,
)
from catalytic.plugins.evolve.calls import (
    ask_answer,
    ask_is_heavy,
    ask_job,
    front_is_heavy,
    front_job,
    pareto_slices,
    settle_epoch,
    settle_is_heavy,
    tell_is_heavy,
    tell_job,
)
from catalytic.plugins.evolve.engine import StudyState
from catalytic.plugins.evolve.footprint import (
    ask_bytes,
    step_bytes,
    stored_study_bytes,
    study_bytes,
)
from catalytic.plugins.evolve.islands import Evaluator, evolve_islands
from catalytic.plugins.evolve.problems import PROBLEMS, get_problem
from catalytic.plugins.evolve.spec import FIELDS, SpecError, StudySpec, parse_spec, spec_param
from catalytic.plugins.evolve.store import MIGRATIONS, StudyStore, dump
from catalytic.protocol import Packed
from catalytic.protocol.fields import MISSING, FieldError

T = TypeVar("T")

BUSY = -33001
"""The study is being evolved server-side by `evolve.run`; ask/tell/run must wait."""
TOO_MANY = -33002
"""`evolve.max_studies` studies exist; delete one first."""


async def _sliced(slices: Iterator[list[dict[str, Any]]]) -> list[dict[str, Any]]:
    """Concatenate the slices, letting other callbacks run between two (thousands of
    candidates take milliseconds to build)."""
    out: list[dict[str, Any]] = []
    for part in slices:
        out += part
        await asyncio.sleep(0)
    return out


def _still_out(s: StudyState) -> InvalidParams:
    """evolve.run refuses a study whose candidates a client has not told yet."""
    return FieldError("study", s.id, "evolve.run", f"a study with no candidates out "
                      f"({len(s.outstanding)} are; tell them first)").invalid_params()


CONFIGURED = ("migration_interval", "migration_rate", "topology")
"""Spec fields that default to the plugin's settings rather than the spec's defaults."""

CREATE_PARAMS = tuple(spec_param(p.name, default=None, nullable=True) if p.name in CONFIGURED
                      else p for p in FIELDS)


CHART_POINTS = 500
"""Generations of the latest study published for the dashboard's convergence chart."""


class EvolvePlugin(Plugin):
    name = "evolve"
    version = "0.1.0"
    settings = (
        Setting("islands", "int", 0,
                "Islands of a server-side run (evolve.run) when not given; 0 = worker count.",
                min=0, max=256),
        Setting("migration_interval", "int", 10,
                "Generations between migrations when a study does not say.", min=1),
        Setting("migration_rate", "float", 0.05,
                "Share of an island's population that migrates when a study does not say.",
                min=0, max=0.5),
        Setting("topology", "str", "ring", "Migration topology when a study does not say.",
                choices=("ring", "full")),
        Setting("durability", "str", "normal",
                "SQLite synchronous level: normal survives a daemon crash (SIGKILL), "
                "full also survives power loss.", choices=("normal", "full")),
        Setting("max_studies", "int", 1000, "Studies kept before evolve.create refuses.",
                min=1),
        Setting("max_population", "int", 10000, "Largest population per island.", min=4),
    )

    async def start(self, ctx: PluginContext) -> None:
        self.ctx = ctx
        self.writer = ThreadPoolExecutor(1, thread_name_prefix="evolve-store")
        sync = "FULL" if ctx.config["durability"] == "full" else None  # else the daemon's
        db = await self._io(lambda: ctx.sqlite("evolve.sqlite3", MIGRATIONS, synchronous=sync))
        self.store = StudyStore(db)
        self.studies: dict[str, StudyState] = {}
        self.unloaded: dict[str, RpcError] = {}
        """Studies left on disk at start because rebuilding them would not fit in memory."""
        self.running: set[str] = set()
        self.locks: dict[str, asyncio.Lock] = {}
        self.told = 0
        self.asked = 0

    async def restore(self) -> None:
        for sid, spec in (await self._io(self.store.specs)).items():
            try:  # never rebuild blindly what would not fit (the budget may have shrunk)
                self.ctx.admit(stored_study_bytes(spec), f"rebuilding study {sid}")
            except (TooLarge, Overloaded) as e:
                self.unloaded[sid] = e
                self.ctx.log.error("evolve: study %s left on disk, not loaded: %s (raise "
                                   "daemon.memory_budget and restart, or evolve.delete it)",
                                   sid, e.message)
                continue
            try:
                self.studies[sid] = await self._io(self.store.load, sid)
            except Exception as exc:  # a study that cannot load must not stop the others
                self.ctx.log.error("evolve: study %s could not be restored: %s", sid, exc)

    async def stop(self) -> None:
        await self._io(self.store.close)
        self.writer.shutdown(wait=True)

    def stats(self) -> dict[str, Any]:
        out: dict[str, Any] = {"studies": len(self.studies), "running": len(self.running),
                               "candidates_asked": self.asked, "results_told": self.told}
        latest = max(self.studies.values(), key=lambda s: s.updated,
                     default=None)
        if latest is not None and latest.history:
            rows = [h for h in latest.history[-CHART_POINTS:] if len(h) >= 5]
            out["charts"] = {"convergence": {
                "title": f"Study {latest.id}: best and mean score by generation",
                "x": [h[0] for h in rows], "x_label": "generation", "kind": "line",
                "series": {"best": [h[2] for h in rows], "mean": [h[4] for h in rows]}}}
        return out

    def memory_bytes(self) -> int:
        total = 0
        for s in self.studies.values():
            for island in s.islands:
                total += island.X.nbytes + island.F.nbytes + island.CV.nbytes
            total += sum(b.X.nbytes + b.F.nbytes for b in s.batches.values())
        return total

    async def _io(self, fn: Any, *args: Any) -> Any:
        return await asyncio.get_running_loop().run_in_executor(self.writer, fn, *args)

    async def _durably(self, fn: Any, *args: Any) -> Any:
        """Run a store write; a caller cancelled meanwhile still waits for the write, so
        what `status` shows is what a restart finds."""
        saving = asyncio.ensure_future(self._io(fn, *args))
        try:
            return await asyncio.shield(saving)
        except asyncio.CancelledError:
            await saving
            raise

    async def _checkpoint(self, s: StudyState) -> None:
        """Checkpoint a study nothing else changes meanwhile (pickled in the writer thread)."""
        await self._durably(lambda: self.store.checkpoint(s.id, dump(s), s.seq))

    def _lock(self, sid: str) -> asyncio.Lock:
        """One call at a time changes a study (its state may be away in a worker)."""
        return self.locks.setdefault(sid, asyncio.Lock())

    async def _apply(self, heavy: bool, fn: Callable[..., T], s: StudyState, *args: Any) -> T:
        """`fn(s, *args)` inline, or in the executor when heavy; the study it returns
        (first item) replaces `s` (hold the study's lock)."""
        if not heavy:
            return fn(s, *args)
        out: Any = await self.ctx.executor.submit(fn, s, *args)
        self.studies[s.id] = out[0]
        return cast(T, out)

    def _study(self, sid: str, *, idle: bool = True) -> StudyState:
        study = self.studies.get(sid)
        if study is None and sid in self.unloaded:
            why = self.unloaded[sid]
            raise type(why)(f"study {sid} was not loaded at start: {why.message}", why.data)
        if study is None:
            raise FieldError("study", sid, "evolve",
                             "the id of a study (evolve.list shows them)").invalid_params()
        if idle and sid in self.running:
            raise RpcError(f"study {sid} is being evolved by evolve.run; wait for it",
                           {"field": "study"}, code=BUSY)
        return study

    async def _create(self, spec: StudySpec) -> StudyState:
        if len(self.studies) >= self.ctx.config["max_studies"]:
            raise RpcError(f"{len(self.studies)} studies exist (evolve.max_studies); "
                           "delete some with evolve.delete", code=TOO_MANY)
        if spec.population > self.ctx.config["max_population"]:
            raise FieldError("population", spec.population, "evolve.max_population",
                             f"at most {self.ctx.config['max_population']}").invalid_params()
        self.ctx.admit(study_bytes(spec), f"a study of {spec.islands} island(s) × population "
                       f"{spec.population} × {spec.genome.size} genes")
        study = StudyState.new(secrets.token_hex(6), spec)
        await self._io(self.store.create, study.id, spec.name, spec.to_map(), dump(study))
        self.studies[study.id] = study
        return study

    def _defaults(self, params: dict[str, Any]) -> dict[str, Any]:
        cfg = self.ctx.config
        out = {k: v for k, v in params.items() if v is not None}
        for key in ("migration_interval", "migration_rate", "topology"):
            out.setdefault(key, cfg[key])
        return out

    # -- studies ----------------------------------------------------------------------------

    @rpc("create", *CREATE_PARAMS,
         doc="Create a study; returns its id.")
    async def create(self, call: Call, **params: Any) -> dict[str, Any]:
        try:
            spec = parse_spec(self._defaults(params))
        except SpecError as e:
            raise e.invalid_params() from None
        study = await self._create(spec)
        return {"study": study.id, "algorithm": spec.algorithm, "islands": spec.islands}

    @rpc("ask", Param("study", "str"), Param("n", "int", required=False, default=1, min=1,
                                             max=100_000),
         doc="Hand out up to n candidates to evaluate: {candidates: [{id, genes}], done}.")
    async def ask(self, call: Call, study: str, n: int) -> Packed:
        async with self._lock(study):
            s = self._study(study)
            seq = s.seq
            heavy = ask_is_heavy(s, n)
            if heavy:
                self.ctx.admit(ask_bytes(s.spec, n), f"evolve.ask of {n} candidates")
            s, got = await self._apply(heavy, ask_job, s, n)
            if s.seq != seq:
                await self._durably(self.store.journal, s.id, s.seq, ["ask", n])
        self.asked += len(got.ids)
        return ask_answer(got)

    @rpc("tell", Param("study", "str"),
         Param("results", "list", items="map",
               doc="[{id, values: [..]} | {id, failed: true}], optional violation ≥ 0"),
         doc="Report objective values (or failures) for asked candidates.")
    async def tell(self, call: Call, study: str, results: list[Any]) -> dict[str, Any]:
        async with self._lock(study):
            s = self._study(study)
            try:
                s, out, blob = await self._apply(tell_is_heavy(s, results), tell_job, s, results)
            except SpecError as e:
                raise e.invalid_params() from None
            await self._durably(self.store.journal, s.id, s.seq, ["tell", results])
            if blob is not None:
                await self._durably(self.store.checkpoint, s.id, blob, s.seq)
        self.told += out["told"]
        return out

    @rpc("status", Param("study", "str"),
         doc="Generation, evaluations, best, hypervolume (2–3 objectives), outstanding, done.")
    async def status(self, call: Call, study: str) -> dict[str, Any]:
        s = self._study(study, idle=False)
        return dict(s.status(), running=study in self.running)

    @rpc("pareto", Param("study", "str"),
         doc="The feasible non-dominated set over all islands: {front: [{genes, values}]}.")
    async def pareto(self, call: Call, study: str) -> dict[str, Any]:
        s = self._study(study, idle=False)
        if front_is_heavy(s):  # a read: the copy sent to the worker is not adopted
            front = await self.ctx.executor.submit(front_job, s)
        else:
            front = s.current_front()
        return {"front": await _sliced(pareto_slices(s, front)),
                "objectives": [o.name for o in s.spec.objectives], "hypervolume": s.last_hv}

    @rpc("best", Param("study", "str"),
         doc="The best candidate told so far by the weighted score: {genes, values, score}.")
    async def best(self, call: Call, study: str) -> dict[str, Any]:
        s = self._study(study, idle=False)
        return s.best or {"genes": None, "values": None, "score": None}

    @rpc("list", doc="Every study with its progress.")
    async def list_(self, call: Call) -> dict[str, Any]:
        out = []
        for s in self.studies.values():
            out.append({"study": s.id, "name": s.spec.name, "algorithm": s.spec.algorithm,
                        "problem": s.spec.problem, "generation": s.generation,
                        "evaluations": s.evaluations, "done": s.done,
                        "running": s.id in self.running})
        return {"studies": out}

    @rpc("delete", Param("study", "str"), doc="Delete a study and its checkpoints.")
    async def delete(self, call: Call, study: str) -> dict[str, Any]:
        if self.unloaded.pop(study, None) is not None:
            await self._durably(self.store.delete, study)
            return {"deleted": study}
        async with self._lock(study):
            self._study(study)
            del self.studies[study]
            self.locks.pop(study, None)
            await self._durably(self.store.delete, study)
        return {"deleted": study}

    # -- server-side runs -------------------------------------------------------------------

    @rpc("run",
         Param("problem", "str", required=False, nullable=True, choices=tuple(PROBLEMS),
               doc="A built-in problem; creates a study unless `study` is given."),
         Param("study", "str", required=False, nullable=True,
               doc="Continue a study created by an earlier run."),
         Param("generations", "int", required=False, default=100, min=1, max=1_000_000,
               doc="Total generations per island."),
         Param("evaluations", "int", required=False, nullable=True, min=1,
               doc="Stop once this many evaluations were made (all islands)."),
         *(spec_param(name) for name in ("population", "seed", "algorithm")),
         spec_param("islands", default=None, nullable=True,
                    doc="Default: evolve.islands (0 = worker count)."),
         *(p for p in CREATE_PARAMS if p.name in CONFIGURED),
         heavy=True,
         doc="Evolve a built-in problem server-side on the process pool, with progress.")
    async def run(self, call: Call, problem: str | None, study: str | None, generations: int,
                  evaluations: int | None, population: int, seed: int, algorithm: str,
                  islands: int | None, **mig: Any) -> dict[str, Any]:
        if study:
            s = self._study(study)
            if not s.spec.problem:
                raise FieldError("study", study, "evolve.run", "a study created by evolve.run "
                                 "(others are evaluated by their clients)").invalid_params()
            if s.outstanding:
                raise _still_out(s)
            self.ctx.admit(step_bytes(s.spec.n_obj, s.spec.population, len(s.islands)),
                           f"evolving study {s.id}")
        elif problem:
            p = get_problem(problem)
            n_islands = islands or self.ctx.config["islands"] or self.ctx.executor.workers
            params = self._defaults(dict(
                genes=p.genome().specs(),
                objectives=[{"name": f"f{i + 1}"} for i in range(p.n_obj)],
                population=population, seed=seed, algorithm=algorithm, islands=n_islands,
                reference=[1.1] * p.n_obj if p.n_obj > 1 else None, problem=p.name,
                name=p.name, **mig))
            try:
                spec = parse_spec(params)
            except SpecError as e:
                raise e.invalid_params() from None
            s = await self._create(spec)
        else:
            raise FieldError("problem", MISSING, "evolve.run",
                             "a built-in problem, or a study to continue").invalid_params()
        self.running.add(s.id)
        try:
            async with self._lock(s.id):
                s = self._study(s.id, idle=False)  # a call that held the lock may have
                if s.outstanding:                  # replaced it
                    raise _still_out(s)
                s = await self._evolve(call, s, generations, evaluations)
        finally:
            self.running.discard(s.id)
        _, F = s.current_front()
        order = np.lexsort(F.T[::-1]) if len(F) else np.empty(0, dtype=int)
        return {"study": s.id, "evaluations": s.evaluations, "generation": s.generation,
                "islands": len(s.islands), "hypervolume": s.last_hv, "best": s.best,
                "pareto": (F[order] * s.signs).tolist()}

    async def _evolve(self, call: Call, s: StudyState, generations: int,
                      evaluations: int | None) -> StudyState:
        """Epochs on the executor until done; returns the study as last adopted."""
        assert s.spec.problem is not None
        evaluator = Evaluator(s.spec.problem)
        interval = s.spec.migration_interval if len(s.islands) > 1 else min(10, generations)
        while s.generation < generations:
            if evaluations is not None and s.evaluations >= evaluations:
                break
            epoch = min(interval - s.generation % interval, generations - s.generation)
            share = None if evaluations is None else \
                -(-(evaluations - s.evaluations) // len(s.islands))
            try:
                new = await evolve_islands(self.ctx.executor, s.islands, evaluator, epoch, share)
            except asyncio.CancelledError:
                await self._checkpoint(s)
                raise
            s, blob = await self._apply(settle_is_heavy(s), settle_epoch, s, new)
            await self._durably(self.store.checkpoint, s.id, blob, s.seq)
            call.progress(s.generation, generations,
                          f"generation {s.generation}, {s.evaluations} evaluations")
        return s
