"""Tree Evaluation: classical and Cook–Mertz agree with direct evaluation, registers restored."""

from __future__ import annotations

import random

import pytest

from catalytic.plugins.space.classical import classical_evaluate, classical_formula
from catalytic.plugins.space.cookmertz import CookMertz, cm_counts, cm_formula, cook_mertz_evaluate
from catalytic.plugins.space.field import field_for
from catalytic.plugins.space.tree import (
    HashInstance,
    InstanceError,
    TableInstance,
    direct_value,
    parse_instance,
    random_instance,
)

GRID = [(1, 1), (2, 1), (3, 1), (4, 1), (1, 2), (2, 2), (3, 2), (1, 3), (2, 3), (1, 4)]


@pytest.mark.parametrize(("h", "b"), GRID)
def test_cook_mertz_equals_classical_on_random_instances(h: int, b: int) -> None:
    for seed in range(4):
        inst = random_instance(h, b, seed)
        expected = direct_value(inst)
        classical = classical_evaluate(inst)
        cm = cook_mertz_evaluate(inst, seed=seed + 100)
        assert classical["value"] == expected == cm["value"]
        assert classical["measured_bits"] == classical["formula_bits"] == classical_formula(h, b)
        assert cm["measured_bits"] == cm["formula_bits"] == cm_formula(h, b)
        assert cm["registers_restored"] is True
        for key, value in cm_counts(h, b).items():
            assert cm[key] == value


def test_registers_end_exactly_as_they_began() -> None:
    inst = random_instance(3, 2, 7)
    p = field_for(2).p
    rng = random.Random(1)
    regs = [[rng.randrange(p) for _ in range(2)] for _ in range(3)]
    before = [list(r) for r in regs]
    run = CookMertz(inst, registers=regs)
    run.add(1, 1)  # add the value into register 1 only
    value = sum(((regs[1][t] - before[1][t]) % p) << t for t in range(2))
    assert value == direct_value(inst)
    assert regs[0] == before[0] and regs[2] == before[2]
    run.add(-1, 1)
    assert regs == before


def test_any_starting_registers_give_the_value() -> None:
    inst = random_instance(2, 2, 3)
    p = field_for(2).p
    for fill in (0, 1, p - 1):
        regs = [[fill] * 2 for _ in range(3)]
        assert CookMertz(inst, registers=regs).evaluate()["value"] == direct_value(inst)


def test_hash_instances_large_for_classical() -> None:
    inst = HashInstance(14, 12, 9)
    r = classical_evaluate(inst)
    assert r["value"] == direct_value(inst)
    assert r["measured_bits"] == classical_formula(14, 12)
    assert r["leaf_visits"] == 1 << 14


def test_field_has_element_of_order_m() -> None:
    for b in range(1, 30):
        f = field_for(b)
        assert f.m == 2 * b + 1 and (f.p - 1) % f.m == 0
        powers = {pow(f.omega, j, f.p) for j in range(f.m)}
        assert len(powers) == f.m and pow(f.omega, f.m, f.p) == 1
        assert f.m * f.m_inv % f.p == 1


def test_parse_instance_names_the_bad_node() -> None:
    good = random_instance(2, 1, 0).to_dict()
    assert isinstance(parse_instance(good), TableInstance)
    bad = dict(good, nodes=[list(t) for t in good["nodes"]])
    bad["nodes"][2][1] = 5
    with pytest.raises(InstanceError, match="node 3"):
        parse_instance(bad)
    short = dict(good, nodes=[good["nodes"][0], good["nodes"][1], [0, 1]])
    with pytest.raises(InstanceError, match="node 3: table must have 2×2"):
        parse_instance(short)
    with pytest.raises(InstanceError, match="leaf 1"):
        parse_instance(dict(good, leaves=[0, 9, 0, 1]))
    nested = dict(good, nodes=[[t[:2], t[2:]] for t in good["nodes"]])
    assert direct_value(parse_instance(nested)) == direct_value(parse_instance(good))
