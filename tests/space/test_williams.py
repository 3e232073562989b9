"""Williams' simulation at toy size: the Cook–Mertz value equals the direct run."""

from __future__ import annotations

import pytest

from catalytic.plugins.space.tree import direct_value
from catalytic.plugins.space.williams import ToyMachine, WilliamsInstance, computed_curve, simulate


@pytest.mark.parametrize(("qbits", "cells", "blocks", "time_blocks"),
                         [(1, 1, 2, 4), (1, 2, 2, 3), (2, 1, 3, 3), (1, 1, 1, 3)])
def test_toy_simulation_is_correct(qbits: int, cells: int, blocks: int, time_blocks: int) -> None:
    for seed in range(3):
        r = simulate(qbits, cells, blocks, time_blocks, seed)
        assert r["value"] == r["direct_value"]
        assert r["measured_bits"] == r["formula_bits"]
        assert r["registers_restored"] is True


def test_instance_matches_machine_for_longer_runs() -> None:
    for seed in range(5):
        mach = ToyMachine.random(2, 3, 3, 9, seed)
        assert direct_value(WilliamsInstance(mach)) == mach.run_direct()


def test_computed_curve_is_labelled_and_sublinear() -> None:
    curve = computed_curve([2**12, 2**24])
    assert all(point["source"] == "computed" for point in curve)
    assert curve[1]["bits"] / curve[0]["bits"] < 2**12 / 8
