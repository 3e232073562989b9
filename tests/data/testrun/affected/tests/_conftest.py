import pytest
from mylib.arith import Counter


@pytest.fixture(scope="module")
def counter():
    return Counter(5)
