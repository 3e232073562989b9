"""Uneven durations: a long test hidden late in collection order, as real suites have."""

import time

import pytest


@pytest.mark.parametrize("ms", [20, 30, 40, 50, 60, 70])
def test_short(ms):
    time.sleep(ms / 1000)


def test_medium():
    time.sleep(0.3)


def test_long_last():
    time.sleep(0.8)
