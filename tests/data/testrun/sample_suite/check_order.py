"""Order matters inside a class: its first test switches global state the others need."""

import time

import pytest

STATE = {"ready": False}


@pytest.fixture(scope="module")
def resource():
    time.sleep(0.05)  # an expensive module-scoped fixture
    return {"opened": True}


class TestNeedsOrder:
    def test_1_switch_on(self, resource):
        STATE["ready"] = True

    def test_2_uses_state(self, resource):
        assert STATE["ready"]

    def test_3_uses_state_again(self, resource):
        time.sleep(0.05)
        assert STATE["ready"]
