from mylib.data import load, load_bytes


def test_greek():
    assert load("greek") == ["alpha", "beta", "gamma"]


def test_blob():
    assert load_bytes("blob.bin")[:2] == b"\x00\x01"


def test_nothing_read():
    assert len("abc") == 3
