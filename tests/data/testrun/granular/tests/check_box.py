from gran.shapes import Box


def test_kind():
    assert Box(2).kind == "plain"


def test_area():
    assert Box(3).area() == 9
