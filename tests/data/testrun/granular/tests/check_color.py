from gran.shapes import Color


def test_red():
    assert Color.RED.value == 1
