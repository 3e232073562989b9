"""Every outcome pytest knows: pass, fail, skip, xfail, xpass, error in setup."""

import time

import pytest


def test_pass():
    assert 1 + 1 == 2


def test_fail():
    assert [1, 2] == [1, 3]


@pytest.mark.skip(reason="shown as skipped")
def test_skip():
    raise AssertionError


@pytest.mark.xfail(reason="known bug")
def test_xfail():
    raise ValueError("expected")


@pytest.mark.xfail(reason="fixed meanwhile")
def test_xpass():
    time.sleep(0.01)


@pytest.fixture
def broken():
    raise RuntimeError("fixture could not start")


def test_error_in_setup(broken):
    pass


@pytest.mark.parametrize("n", [1, 2, 3, 4])
def test_param(n):
    time.sleep(0.02 * n)
    assert n < 4
