from gran.shapes import Point


def test_point():
    assert Point().x == 0
