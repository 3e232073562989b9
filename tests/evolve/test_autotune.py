"""Autotune: cache policies vs Belady, workload parsing, metric ranges, search improvement."""

from __future__ import annotations

import itertools
import json
import tomllib
from dataclasses import replace

import numpy as np
import pytest

from catalytic.plugins.evolve.autotune import config_write
from catalytic.plugins.evolve.autotune.metrics import METRICS, Reference, autonomy, normalized
from catalytic.plugins.evolve.autotune.model import Costs, Knobs, replay, replay_windows
from catalytic.plugins.evolve.autotune.policies import POLICIES, belady_hits, make
from catalytic.plugins.evolve.autotune.tuner import (
    Judge,
    Search,
    evaluate_chunk,
    forecast_growth,
    plan,
    validate_chunk,
)
from catalytic.plugins.evolve.autotune.workload import (
    dump,
    footprint,
    parse,
    read,
    split,
    synthetic,
)


@pytest.mark.parametrize("policy", [*POLICIES, "fifo"])
def test_policies_respect_capacity_and_never_beat_belady(policy: str) -> None:
    rng = np.random.default_rng(1)
    keys = [f"k{int(k)}" for k in np.minimum(rng.zipf(1.2, 3000), 300)]
    cache = make(policy, 40 * 100)
    hits = 0
    for k in keys:
        if cache.get(k):
            hits += 1
        else:
            cache.put(k, 100)
        assert cache.used <= cache.capacity
    best, _ = belady_hits(keys, [100] * len(keys), 40 * 100)
    assert 0 < hits <= best


def test_belady_counts_only_marked_gets() -> None:
    keys = ["a", "b", "a", "b"]
    assert belady_hits(keys, [1] * 4, 10) == (2, 2)
    assert belady_hits(keys, [1] * 4, 10, [False, False, True, True]) == (2, 0)
    assert belady_hits(keys, [1] * 4, 10, None, [True, True, True, False]) == (1, 2)


def test_workload_round_trip_and_errors() -> None:
    calls = synthetic(300, seed=2)
    assert synthetic(300, seed=2) == calls
    again = parse(dump(calls).splitlines())
    assert [c.key for c in again] == [c.key for c in calls]
    with pytest.raises(ValueError, match="line 2"):
        parse(['{"t": 0, "method": "cpu"}', '{"t": 1, "method": "rm -rf"}'])
    with pytest.raises(ValueError, match="line 1"):
        parse(["not json"])
    assert split(calls, 0.3) == 210


def test_metrics_are_normalized_and_warmup_is_not_counted() -> None:
    calls = synthetic(2000, seed=3)
    c = Costs(memory_budget=256 << 20)
    ref = Reference.of(calls, c, warm=1000)
    for knobs in (Knobs(), Knobs(policy="s3fifo", codec="none", workers=8, gc_gen0=100),
                  Knobs(policy="fifo", memory_fraction=0.05)):
        r = replay(calls, knobs, c, warm=1000)
        assert r.n == 1000 and len(r.latencies) == 1000
        values = normalized(r, ref, c)
        assert set(values) == set(METRICS)
        assert all(0.0 <= v <= 1.0 for v in values.values())
        assert 0.0 <= autonomy(values) <= 1.0


def test_search_improves_a_poor_configuration() -> None:
    calls = synthetic(3000, seed=4)
    c = Costs(memory_budget=160 << 20)
    judge = Judge.of(calls, plan(len(calls), 0.3), c)
    poor = Knobs(policy="lru", memory_fraction=0.9, codec="none", workers=8, gc_gen0=100,
                 prd_parallel_threshold=1)
    start = min(judge.window_scores(poor))
    search = Search(population=16, seed=1, start=poor)
    pick = search.run(4, lambda parts: [evaluate_chunk(q, judge) for q in parts],
                      lambda rows: validate_chunk(rows, judge))
    assert search.history[0] >= start  # the current configuration is in generation 0
    assert search.history[-1] > start + 0.02
    assert all(b >= a for a, b in itertools.pairwise(search.history))
    # the pick is the finalist that validates best, on data the search never scored
    finals = search.finalists()
    assert pick in finals and len(search.picks) == 5
    assert search.validation_of(pick) == max(search.validation_of(r) for r in finals)
    assert search.validation_of(pick) > judge.validate(poor)


def test_plan_keeps_held_out_calls_out_of_tuning() -> None:
    p = plan(20_000, 0.3)
    assert p.cut == 14_000 and p.validation == (9334, 14_000)
    assert p.windows == ((2335, 7001), (4668, 9334))  # each warmed by half a window or more
    assert plan(300, 0.3).windows  # a short workload still gets one search window
    calls = synthetic(2000, seed=5)
    judge = Judge.of(calls, plan(len(calls), 0.3), Costs())
    assert judge.calls == tuple(calls[:1400])  # the held-out part is not even in the judge


def test_growth_forecast_shrinks_the_tier_for_a_growing_footprint() -> None:
    calls = synthetic(6000, seed=8)
    p = plan(len(calls), 0.3)
    fp = footprint(calls)
    assert all(b >= a for a, b in itertools.pairwise(fp)) and fp[-1] > fp[len(fp) // 2]
    growth = forecast_growth(calls, p)
    early, late = growth(p.windows[0]), growth(p.validation)
    assert early > late > 1.0  # new keys keep arriving; the earlier the window, the more
    # a workload that only revisits what it has seen does not grow
    flat = [replace(c, key=f"k{i % 10}", seq=None) if c.method.startswith("workspace") else c
            for i, c in enumerate(calls)]
    assert forecast_growth(flat, p)(p.validation) == pytest.approx(1.0, abs=0.01)
    judge = Judge.of(calls, p, Costs())
    assert judge.validation_costs.growth == pytest.approx(late)
    # the shrunk tier is still counted at its full size in the memory figure
    r = replay(calls, Knobs(memory_fraction=0.5), replace(Costs(), growth=2.0))
    assert r.peak_memory >= int(Costs().memory_budget * 0.5)


def test_replay_windows_match_separate_replays() -> None:
    calls = synthetic(1500, seed=7)
    k, c = Knobs(policy="s3fifo", prefetch_depth=2), Costs()
    a, b = replay_windows(calls, k, c, [(500, 1000), (800, 1500)])
    for got, (s, e) in ((a, (500, 1000)), (b, (800, 1500))):
        want = replay(calls[:e], k, c, s)
        assert (got.n, got.gets, got.hits, got.disk_read, got.errors) == \
            (want.n, want.gets, want.hits, want.disk_read, want.errors)
        assert got.latencies == want.latencies and got.cpu_s == pytest.approx(want.cpu_s)


def test_recorded_workload_is_converted() -> None:
    rows = [
        {"t": 0.0, "method": "workspace.put", "bytes": 1003, "latency_us": 80, "key": "abc"},
        {"t": 0.1, "method": "workspace.get", "bytes": 3, "latency_us": 40, "key": "abc"},
        {"t": 0.2, "method": "workspace.get", "bytes": 5, "latency_us": 40, "key": "other"},
        {"t": 0.3, "method": "workspace.get", "bytes": 5, "latency_us": 9, "key": "x", "error": -32001},
        {"t": 0.4, "method": "workspace.stats", "bytes": 0, "latency_us": 120},
        {"t": 0.5, "method": "prd.decompose", "bytes": 4000, "latency_us": 30_000},
        {"t": 0.6, "method": "space.tree_eval", "bytes": 10, "latency_us": 5000},
        {"t": 0.7, "method": "workspace.put_many", "bytes": 900, "latency_us": 300},
    ]
    calls, skipped = read([json.dumps(r) for r in rows])
    assert skipped == {"failed": 1}
    kinds = [(c.method, c.key, c.size) for c in calls]
    assert kinds[:3] == [("workspace.put", "abc", 1000), ("workspace.get", "abc", 1000),
                         ("workspace.get", "other", 1000)]  # unknown size: the median put
    assert [c.method for c in calls[3:]] == ["loop", "prd.decompose", "cpu", "loop"]
    assert calls[3].cpu_s == pytest.approx(120e-6)
    assert calls[4].blocks == 20 and calls[5].cpu_s == pytest.approx(0.005)
    with pytest.raises(ValueError, match="line 2"):
        read(['{"t": 0, "method": "a", "bytes": 1, "latency_us": 1}',
              '{"t": "soon", "method": "a", "bytes": 1, "latency_us": 1}'])


def test_proposal_holds_known_keys_only() -> None:
    daemon_config = {"daemon": {"workers": 0, "gc_thresholds": [], "log_level": "debug"}}
    knobs = Knobs(workers=3, gc_gen0=5000).to_map()
    text, out = config_write.propose(knobs, daemon_config, 256 << 20, "a note")
    assert tomllib.loads(text) == {"daemon": {"workers": 3, "gc_thresholds": [5000, 10, 10]}}
    assert text.startswith("# Proposed by evolve.autotune") and "# a note\n" in text
    assert "workspace.policy" in out["skipped"]
    assert out["settings"] == {"daemon.workers": 3, "daemon.gc_thresholds": [5000, 10, 10]}


def test_proposal_that_would_not_load_is_refused() -> None:
    daemon_config = {"daemon": {"workers": 0}}
    with pytest.raises(ValueError, match="would not load"):
        config_write.propose({"workers": 5000}, daemon_config, 256 << 20, "")  # above max


def test_knobs_map_to_settings_and_back() -> None:
    budget = 200 << 20
    knobs = Knobs(policy="s3fifo", memory_fraction=0.25, prefetch_depth=3, prefetch_budget=0.1,
                  codec="lz4", level=5, prd_parallel_threshold=40, workers=3, gc_gen0=2000)
    values = config_write.setting_values(knobs.to_map(), budget)
    assert values["memory_fraction"] == 50 << 20
    assert values["prefetch_budget"] == int(0.1 * (50 << 20))
    config: dict[str, dict[str, object]] = {
        section: {} for section, _ in config_write.KNOB_SETTINGS.values()}
    for knob, (section, key) in config_write.KNOB_SETTINGS.items():
        config[section][key] = values[knob]
    back = config_write.current_knobs(config, 2, budget)
    assert back["memory_fraction"] == pytest.approx(0.25)
    assert back["prefetch_budget"] == pytest.approx(0.1)
    assert {k: v for k, v in back.items() if k not in ("memory_fraction", "prefetch_budget")} \
        == {k: v for k, v in knobs.to_map().items()
            if k not in ("memory_fraction", "prefetch_budget")}
    # a policy the model does not simulate keeps the model's default
    config["workspace"]["policy"] = "auto"
    assert "policy" not in config_write.current_knobs(config, 2, budget)
