"""ServerState: what every connection shares (config, method table, limits, counters)."""

from __future__ import annotations

import logging
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from catalytic.config.load import Config
from catalytic.daemon.dispatch import Dispatcher

if TYPE_CHECKING:
    from prometheus_client import CollectorRegistry

    from catalytic.daemon.connection import Connection
    from catalytic.daemon.executor import BaseExecutor
    from catalytic.daemon.governor import MemoryGovernor
    from catalytic.daemon.plugins import PluginHost
    from catalytic.daemon.recorder import WorkloadRecorder


@dataclass(frozen=True)
class Limits:
    max_message_bytes: int
    max_buffer_bytes: int
    max_inflight: int
    max_connections: int
    idle_partial_timeout_s: float
    max_unsent_bytes: int
    idle_timeout_s: float

    @classmethod
    def from_config(cls, cfg: Config) -> Limits:
        return cls(**cfg.section("limits"))


@dataclass
class ServerState:
    config: Config
    dispatcher: Dispatcher
    socket_path: Path
    state_dir: Path
    log: logging.Logger
    limits: Limits
    allowed_uids: frozenset[int]
    allowed_gids: frozenset[int]
    connections: set[Connection] = field(default_factory=set)
    started: float = field(default_factory=time.time)
    started_monotonic: float = field(default_factory=time.monotonic)
    total_connections: int = 0
    refused_connections: int = 0
    overloaded: bool = False
    """Set by the memory governor above the hard limit: heavy calls get -32002."""
    overload_reason: str = ""
    recorder: WorkloadRecorder | None = None
    """Set while `system.record` records the workload."""
    executor: BaseExecutor | None = None
    plugins: PluginHost | None = None
    http_url: str | None = None
    http_token: str = field(default_factory=lambda: secrets.token_urlsafe(32))
    """Per-daemon secret that `/api/*` requires; callers on the socket get it from
    `system.http_token`."""
    registry: CollectorRegistry | None = None
    """The Prometheus registry `/metrics` serves (plugins register into it)."""
    governor: MemoryGovernor | None = None
    health_checks: list[Callable[[], list[str]]] = field(default_factory=list)
    """Callables returning problems; `/healthz` is 503 while any returns one."""

    def __post_init__(self) -> None:
        self.dispatcher.state = self

    def uptime(self) -> float:
        return time.monotonic() - self.started_monotonic
