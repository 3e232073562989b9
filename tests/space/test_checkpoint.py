"""Checkpointed reversal: right order and states, measured = formula, revolve optimal."""

from __future__ import annotations

import functools
import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from catalytic.plugins.space.checkpoint import (
    STRATEGIES,
    AccountingMismatch,
    formula,
    reverse_chain,
    revolve_steps,
)
from catalytic.plugins.space.ledger import Ledger, LedgerError
from catalytic.plugins.space.steps import BUILTINS, StepFunction, builtin


def forward_states(step: StepFunction, n: int, seed: int = 0) -> list[object]:
    states = [step.initial(seed)]
    for _ in range(n - 1):
        states.append(step.fn(states[-1]))
    return states


@pytest.mark.parametrize("strategy", STRATEGIES)
@pytest.mark.parametrize("n", [1, 2, 3, 7, 16, 17, 100, 257])
def test_emits_every_state_backwards(strategy: str, n: int) -> None:
    step = builtin("lcg")
    got: list[tuple[int, object]] = []
    result = reverse_chain(strategy, n, step, slots=3 if strategy == "revolve" else None,
                           seed=5, emit=lambda i, s: got.append((i, s)))
    expected = forward_states(step, n, seed=5)
    assert [i for i, _ in got] == list(range(n - 1, -1, -1))
    assert [s for _, s in got] == expected[::-1]
    assert result.measured_bits == result.formula_bits
    assert result.peak_states == result.formula_states


@pytest.mark.parametrize("name", sorted(BUILTINS))
def test_builtin_steps_agree_across_strategies(name: str) -> None:
    step = builtin(name)
    digests = {reverse_chain(s, 50, step, slots=4).digest for s in STRATEGIES}
    assert len(digests) == 1


def test_accounting_matches_formula_on_many_sizes() -> None:
    step = builtin("lcg")
    for n in range(1, 130):
        for strategy in ("store-all", "sqrt", "bisection"):
            r = reverse_chain(strategy, n, step)
            f = formula(strategy, n, step.bits)
            assert (r.peak_states, r.steps, r.measured_bits) == (f["states"], f["steps"], f["bits"])


def test_sqrt_uses_about_two_root_n_states_and_two_n_steps() -> None:
    r = reverse_chain("sqrt", 10_000, builtin("lcg"))
    assert 2 * 100 - 2 <= r.peak_states <= 2 * 100 + 1
    assert r.steps <= 2 * 10_000
    assert reverse_chain("bisection", 10_000, builtin("lcg")).peak_states == 1 + 14


@functools.cache
def optimal_steps(length: int, slots: int) -> int:
    """Brute-force dynamic program over every first checkpoint position."""
    if length == 1:
        return 0
    if slots == 0:
        return 10**9
    return min(m + optimal_steps(length - m, slots - 1) + optimal_steps(m, slots)
               for m in range(1, length))


def test_revolve_closed_form_is_the_optimum() -> None:
    for slots in range(1, 6):
        for n in range(1, 45):
            assert revolve_steps(n, slots) == optimal_steps(n, slots), (n, slots)


@pytest.mark.parametrize("slots", [1, 2, 3, 5, 8])
def test_revolve_step_count_equals_formula(slots: int) -> None:
    step = builtin("lcg")
    for n in [1, 2, 5, 9, 10, 33, 64, 200, 1000]:
        r = reverse_chain("revolve", n, step, slots=slots)
        rep = 0
        while math.comb(slots + rep, slots) < n:
            rep += 1
        expected = rep * n - (math.comb(slots + rep, rep - 1) if rep else 0)
        assert r.steps == expected, (n, slots)
        assert r.peak_states == min(n, slots + 1)


def test_custom_callable_step() -> None:
    step = StepFunction("double", 32, lambda s: (2 * s + 1) % 1_000_003, lambda seed: seed)
    got: list[object] = []
    reverse_chain("bisection", 20, step, seed=3, emit=lambda i, s: got.append(s))
    assert got == forward_states(step, 20, seed=3)[::-1]


def test_bad_inputs() -> None:
    with pytest.raises(ValueError, match="slots"):
        reverse_chain("revolve", 10, builtin("lcg"))
    with pytest.raises(ValueError, match="unknown strategy"):
        reverse_chain("random", 10, builtin("lcg"))
    with pytest.raises(KeyError, match="built-ins"):
        builtin("nope")


def test_ledger_rejects_double_alloc_and_free() -> None:
    led = Ledger()
    led.alloc("x", 8)
    with pytest.raises(LedgerError):
        led.alloc("x", 8)
    led.free("x")
    with pytest.raises(LedgerError):
        led.free("x")
    assert led.peak == 8 and led.current == 0


def test_mismatch_is_detected(monkeypatch: pytest.MonkeyPatch) -> None:
    from catalytic.plugins.space import checkpoint

    real = checkpoint.formula
    monkeypatch.setattr(checkpoint, "formula",
                        lambda *a, **k: dict(real(*a, **k), states=1))
    with pytest.raises(AccountingMismatch, match="measured states"):
        reverse_chain("sqrt", 10, builtin("lcg"))


@settings(max_examples=60, deadline=None)
@given(n=st.integers(1, 400), slots=st.integers(1, 12), seed=st.integers(0, 2**16))
def test_revolve_property(n: int, slots: int, seed: int) -> None:
    step = builtin("lcg")
    got: list[object] = []
    r = reverse_chain("revolve", n, step, slots=slots, seed=seed,
                      emit=lambda i, s: got.append(s))
    assert got == forward_states(step, n, seed)[::-1]
    assert r.steps == revolve_steps(n, slots) and r.measured_bits == r.formula_bits
