"""The real Dask cluster the tests of this folder run against: one per test module (some
tests kill its workers), started on first use."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from dask_cluster import DaskCluster


@pytest.fixture(scope="module")
def cluster() -> Iterator[DaskCluster]:
    c = DaskCluster().start(workers=2)
    yield c
    c.close()
