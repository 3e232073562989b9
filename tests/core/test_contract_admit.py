"""`PluginContext.admit`: memory admission against the governor's budget (issue 15)."""

from __future__ import annotations

import logging
import time
from pathlib import Path
from typing import Any

import psutil
import pytest

from catalytic.config.load import defaults
from catalytic.config.model import CORE
from catalytic.daemon.dispatch import Dispatcher
from catalytic.daemon.governor import MemoryGovernor
from catalytic.daemon.plugins import PluginHost
from catalytic.daemon.state import Limits, ServerState
from catalytic.plugins.base import PluginContext
from catalytic.protocol.errors import Overloaded, TooLarge

MiB = 1 << 20


def governor(budget: int) -> MemoryGovernor:
    cfg = defaults(CORE)
    cfg.values["daemon"]["memory_budget"] = budget
    log = logging.getLogger("test.governor")
    state = ServerState(config=cfg, dispatcher=Dispatcher(), socket_path=Path("unused"),
                        state_dir=Path("unused"), log=log, limits=Limits.from_config(cfg),
                        allowed_uids=frozenset(), allowed_gids=frozenset())
    return MemoryGovernor(state, PluginHost(log), log)


def ctx_with(gauge: Any, tmp_path: Path) -> PluginContext:
    async def call(method: str, params: dict[str, Any]) -> Any:
        raise AssertionError("not used")

    return PluginContext(name="demo", config={}, state_dir=tmp_path, executor=None,  # type: ignore[arg-type]
                         metrics=None, log=logging.getLogger("test"), call=call, memory=gauge)


def test_within_budget_is_admitted(tmp_path: Path) -> None:
    rss = psutil.Process().memory_info().rss
    ctx = ctx_with(governor(rss + 512 * MiB), tmp_path)
    ctx.admit(0, "nothing")
    ctx.admit(64 * MiB, "demo.small")


def test_more_than_the_whole_budget_is_too_large(tmp_path: Path) -> None:
    ctx = ctx_with(governor(256 * MiB), tmp_path)
    with pytest.raises(TooLarge) as err:
        ctx.admit(300 * MiB, "demo.create (genes × population × islands)")
    assert err.value.code == -32004
    assert "demo.create" in err.value.message and "daemon.memory_budget" in err.value.message
    assert err.value.data["limit"] == "daemon.memory_budget"
    assert err.value.data["needed"] == 300 * MiB


def test_over_what_is_left_is_overloaded(tmp_path: Path) -> None:
    rss = psutil.Process().memory_info().rss
    ctx = ctx_with(governor(rss + 100 * MiB), tmp_path)
    with pytest.raises(Overloaded) as err:
        ctx.admit(110 * MiB, "demo.get_many")
    assert err.value.code == -32002
    assert "demo.get_many" in err.value.message and "daemon.memory_budget" in err.value.message
    assert err.value.data["rss"] >= rss * 0.9


def test_admission_sees_fresh_rss(tmp_path: Path) -> None:
    """RSS grown since the governor's last periodic sample is seen within milliseconds."""
    rss = psutil.Process().memory_info().rss
    gov = governor(rss + 150 * MiB)
    ctx = ctx_with(gov, tmp_path)
    ctx.admit(100 * MiB, "before")
    ballast = bytearray(120 * MiB)
    ballast[:: 4096] = b"x" * len(ballast[:: 4096])  # touch every page
    time.sleep(0.02)
    with pytest.raises(Overloaded):
        ctx.admit(100 * MiB, "after")
    del ballast


def test_no_gauge_means_no_admission(tmp_path: Path) -> None:
    ctx_with(None, tmp_path).admit(1 << 60, "anything")
