from gran.shapes import scale


def test_scale():
    assert scale(2) == 4
