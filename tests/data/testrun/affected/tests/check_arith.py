from mylib.arith import SCALE, add, clamp, scaled, sub


def test_add():
    assert add(2, 3) == 5


def test_sub():
    assert sub(5, 3) == 2


def test_clamp():
    assert clamp(5, 0, 3) == 3
    assert clamp(-1, 0, 3) == 0
    assert clamp(2, 0, 3) == 2


def test_scale_constant():
    assert SCALE == 10


def test_scaled():
    assert scaled(2) == 20


def test_counter(counter):
    assert counter.bump() == 6
