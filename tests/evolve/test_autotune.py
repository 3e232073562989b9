"""Autotune: cache policies vs Belady, workload parsing, metric ranges, search improvement."""

from __future__ import annotations

import tomllib
from pathlib import Path

import numpy as np
import pytest

from catalytic.plugins.evolve.autotune import config_write
from catalytic.plugins.evolve.autotune.metrics import METRICS, Reference, autonomy, normalized
from catalytic.plugins.evolve.autotune.model import Costs, Knobs, replay
from catalytic.plugins.evolve.autotune.policies import POLICIES, belady_hits, make
from catalytic.plugins.evolve.autotune.tuner import Search, evaluate, evaluate_chunk
from catalytic.plugins.evolve.autotune.workload import dump, parse, split, synthetic


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
    ref = Reference.of(calls, c, warm=1500)
    poor = Knobs(policy="lru", memory_fraction=0.9, codec="none", workers=8, gc_gen0=100,
                 prd_parallel_threshold=1)
    start_score, _ = evaluate(calls, ref, c, poor, None, 1500)
    search = Search(population=16, seed=1, start=poor)
    search.run(4, lambda parts: [evaluate_chunk(p, calls, ref, c, None, 1500) for p in parts])
    assert search.history[0] >= start_score  # the current configuration is in generation 0
    assert search.best_score > start_score + 0.02
    assert all(b >= a for a, b in zip(search.history, search.history[1:], strict=False))


def test_apply_writes_known_keys_with_backup(tmp_path: Path) -> None:
    path = tmp_path / "catalytic.toml"
    path.write_text('[daemon]\nlog_level = "debug"\n')
    daemon_config = {"daemon": {"workers": 0, "gc_thresholds": [], "log_level": "debug"}}
    knobs = Knobs(workers=3, gc_gen0=5000).to_map()
    out = config_write.apply(path, knobs, daemon_config, 256 << 20)
    written = tomllib.loads(path.read_text())
    assert written["daemon"] == {"log_level": "debug", "workers": 3,
                                 "gc_thresholds": [5000, 10, 10]}
    assert "workspace.policy" in out["skipped"]
    assert out["backup"] and Path(out["backup"]).read_text().startswith("[daemon]")


def test_apply_refuses_a_config_that_would_not_load(tmp_path: Path) -> None:
    path = tmp_path / "catalytic.toml"
    daemon_config = {"daemon": {"workers": 0}}
    with pytest.raises(ValueError, match="would not load"):
        config_write.apply(path, {"workers": 5000}, daemon_config, 256 << 20)  # above max
    assert not path.exists()


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
