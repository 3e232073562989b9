"""The `cluster` fixture: a real Dask cluster (two workers) per test module, started on
first use. Any test folder that needs one imports it (into its conftest or module)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from dask_cluster import DaskCluster


@pytest.fixture(scope="module")
def cluster() -> Iterator[DaskCluster]:
    c = DaskCluster().start(workers=2)
    yield c
    c.close()
