"""A module skipped at collection, as suites do for optional dependencies."""

import pytest

pytest.importorskip("a_module_that_is_not_installed")


def test_never_collected():
    raise AssertionError
