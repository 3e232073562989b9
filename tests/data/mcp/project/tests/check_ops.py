import pytest
from calc import add, mean, mul


def test_add() -> None:
    assert add(2, 3) == 5


def test_mul() -> None:
    assert mul(4, 5) == 20


def test_mean() -> None:
    assert mean([1, 2, 3, 4]) == 2.5


def test_mean_of_nothing() -> None:
    with pytest.raises(ValueError):
        mean([])
