"""The successor model behind prefetch: what it predicts, in which order, within its bounds."""

from __future__ import annotations

import random

from catalytic.plugins.workspace.prefetch import SuccessorModel


def _feed(model: SuccessorModel, keys: list[str]) -> None:
    for k in keys:
        model.observe(k)


def test_a_recurring_sequence_predicts_its_next_key() -> None:
    model = SuccessorModel(second_order=False)
    _feed(model, ["a", "b", "c", "x"] * 5)
    assert model.predict("a", 2) == ["b"]
    assert model.predict("b", 2) == ["c"]


def test_successors_rank_by_count_and_rare_ones_are_dropped() -> None:
    model = SuccessorModel(second_order=False, min_prob=0.2)
    _feed(model, ["a", "b"] * 6 + ["a", "c"] * 3 + ["a", "d"])  # b 6, c 3, d 1 (and a's)
    assert model.predict("a", 3) == ["b", "c"]  # d: 1 of 10 < 0.2
    assert model.predict("a", 1) == ["b"]


def test_the_second_order_context_separates_shared_keys() -> None:
    """`s` is read by two tasks; what follows it depends on the key before it."""
    model = SuccessorModel()
    _feed(model, ["p", "s", "p2", "q", "s", "q2"] * 4)
    _feed(model, ["p", "s"])
    assert model.predict("s", 1) == ["p2"]
    _feed(model, ["q", "s"])
    assert model.predict("s", 1) == ["q2"]


def test_contexts_and_successors_stay_bounded() -> None:
    model = SuccessorModel(max_keys=50, fanout=3, second_order=False)
    rng = random.Random(2)
    _feed(model, [f"k{rng.randrange(500)}" for _ in range(5000)])
    assert len(model) <= 50
    assert all(len(succ) <= 6 for succ in model._next.values())


def test_prediction_equals_ranking_every_successor_then_filtering() -> None:
    """The fast path filters before it sorts; the order must be the plain definition's:
    all successors by count (ties in first-seen order), the first `limit`, the likely ones."""
    rng = random.Random(7)
    for trial in range(300):
        model = SuccessorModel(second_order=False, min_prob=rng.choice([0.0, 0.1, 0.3]),
                               min_count=rng.choice([1, 2]), fanout=rng.randint(2, 6))
        _feed(model, [f"k{rng.randrange(rng.randint(2, 12))}" for _ in range(200)])
        for key, succ in list(model._next.items()):
            model._prev = key  # predict() is asked about the key just observed
            total, limit = sum(succ.values()), rng.randint(1, 4)
            ranked = sorted(succ.items(), key=lambda kv: -kv[1])[:limit]
            want = [k for k, c in ranked
                    if c >= model.min_count and c / total >= model.min_prob]
            assert model.predict(key, limit) == want, (trial, key, succ, limit)
