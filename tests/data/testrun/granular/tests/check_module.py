from gran import shapes


def test_limit():
    assert shapes.LIMIT == 3


def test_green():
    assert shapes.Color.GREEN.value == 2
