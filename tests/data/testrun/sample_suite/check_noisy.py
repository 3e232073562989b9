"""A failing test that prints megabytes: the report keeps it bounded."""


def test_prints_a_lot():
    print("x" * (4 << 20))
    raise AssertionError("noisy failure")


def test_quiet():
    print("hello")
