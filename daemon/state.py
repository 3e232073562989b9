"""ServerState: what every connection shares (config, method table, limits, counters)."""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from catalytic.config.load import Config
from catalytic.daemon.dispatch import Dispatcher

if TYPE_CHECKING:
    from catalytic.daemon.connection import Connection
    from catalytic.daemon.executor import BaseExecutor
    from catalytic.daemon.plugins import PluginHost
    from catalytic.daemon.recorder import WorkloadRecorder


@dataclass(frozen=True)
class Limits:
    max_message_bytes: int
    max_buffer_bytes: int
    max_inflight: int
    max_connections: int
    idle_partial_timeout_s: float

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
    extra: dict[str, Any] = field(default_factory=dict)

    def uptime(self) -> float:
        return time.monotonic() - self.started_monotonic
