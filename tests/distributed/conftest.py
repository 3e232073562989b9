"""The real Dask cluster the tests of this folder run against: one per test module (some
tests kill its workers), started on first use."""

from __future__ import annotations

from cluster_fixture import cluster

__all__ = ["cluster"]
