"""Every setting declared once: key, type, default, allowed values and a line of docs.

The TOML loader, the environment overrides, `catalytic config show`, the shipped
`catalytic.toml` and the daemon's CLI flags are all derived from (or checked
against) these declarations. Plugins declare their own section the same way,
through `Plugin.settings`.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from catalytic.protocol import fields

KINDS = ("int", "float", "str", "bool", "bytes", "str_list", "int_list", "path", "path_list")
"""`bytes` is an int that also accepts sizes such as "256MiB"; `path` expands `~`."""


@dataclass(frozen=True)
class Setting:
    """One configuration key of one section."""

    key: str
    kind: str
    default: Any
    doc: str
    choices: tuple[Any, ...] | None = None
    min: float | None = None
    max: float | None = None

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"setting {self.key}: unknown kind {self.kind!r}")

    def wire_type(self) -> tuple[str, str | None]:
        """The shared field type (and list item type) a value of this kind has once
        sizes and environment text are converted."""
        return _WIRE[self.kind]

    def allowed(self) -> str:
        """What values are allowed, said for an error message."""
        if self.kind == "bytes" and self.choices is None:
            text = 'a size in bytes (an integer or a string such as "256MiB")'
            return text + fields.describe("int", min=self.min, max=self.max)[len("an integer"):]
        type, items = self.wire_type()
        return fields.describe(type, choices=self.choices, min=self.min, max=self.max,
                               items=items)


_WIRE: dict[str, tuple[str, str | None]] = {
    "int": ("int", None), "bytes": ("int", None), "float": ("float", None),
    "str": ("str", None), "path": ("str", None), "bool": ("bool", None),
    "str_list": ("list", "str"), "int_list": ("list", "int"), "path_list": ("list", "str"),
}


def ram_quarter() -> int:
    """The default memory budget: a quarter of physical memory."""
    try:
        pages = os.sysconf("SC_PHYS_PAGES")
        size = os.sysconf("SC_PAGE_SIZE")
        return int(pages * size // 4)
    except (ValueError, OSError, AttributeError):
        return 1 << 30


CORE: dict[str, Sequence[Setting]] = {
    "daemon": (
        Setting("loop", "str", "auto", "Event loop: uvloop when installed (auto), or force one.",
                choices=("auto", "uvloop", "asyncio")),
        Setting("plugins", "str_list", [],
                "Plugins to load by entry-point name; empty loads every installed one."),
        Setting("workers", "int", 0, "Process-pool workers for CPU-heavy calls; 0 = CPU count.",
                min=0, max=1024),
        Setting("executor", "str", "local", "Executor backend for CPU-heavy work.",
                choices=("local", "dask")),
        Setting("dask_address", "str", "",
                "Dask scheduler for executor = dask (tcp://host:8786 or tls://...); "
                "empty = a LocalCluster of `workers` processes."),
        Setting("dask_fallback_local", "bool", False,
                "While the Dask cluster is unreachable, run work in the local pool (true) "
                "or refuse it with -32002 (false)."),
        Setting("dask_connect_timeout_s", "float", 10.0,
                "How long one attempt to reach the Dask scheduler may take.", min=0.1,
                max=3600),
        Setting("dask_reconnect_interval_s", "float", 5.0,
                "Pause between attempts to reach a Dask scheduler that is down.", min=0.1,
                max=3600),
        Setting("dask_retries", "int", 2,
                "Times a task is sent again when the cluster gave up on it (its workers died "
                "or the scheduler lost it); errors the job raises are never retried.",
                min=0, max=100),
        Setting("dask_tls_ca_file", "path", "",
                "CA certificate for tls:// scheduler addresses (Dask's tls_ca_file)."),
        Setting("dask_tls_client_cert", "path", "",
                "Client certificate for tls:// (Dask's tls_client_cert)."),
        Setting("dask_tls_client_key", "path", "",
                "Client private key for tls:// (Dask's tls_client_key)."),
        Setting("dask_require_encryption", "bool", False,
                "Refuse unencrypted connections to the cluster (Dask's require_encryption)."),
        Setting("grace_seconds", "float", 10.0,
                "On SIGTERM, how long in-flight calls may finish before they are cancelled.",
                min=0, max=3600),
        Setting("snapshot_interval_s", "float", 60.0,
                "How often plugins snapshot their warm state (0 = only at shutdown).",
                min=0, max=86400),
        Setting("memory_budget", "bytes", 0,
                "Memory budget in bytes for the governor; 0 = a quarter of RAM.", min=0),
        Setting("durability", "str", "normal",
                "How durable plugins' stores are: normal survives a daemon crash (SIGKILL), "
                "full also survives an OS crash or power loss (SQLite synchronous=FULL).",
                choices=("normal", "full")),
        Setting("memory_soft_ratio", "float", 0.85,
                "Above this share of the budget the governor asks plugins to shrink.",
                min=0.1, max=1.0),
        Setting("governor_interval_s", "float", 1.0, "How often the governor samples RSS.",
                min=0.05, max=3600),
        Setting("gc_thresholds", "int_list", [], "gc.set_threshold values; empty keeps Python's."),
        Setting("log_level", "str", "info", "Log level.",
                choices=("debug", "info", "warning", "error")),
        Setting("log_file", "path", "",
                "Log file when running in the background; empty = <state>/catalyticd.log."),
    ),
    "limits": (
        Setting("max_message_bytes", "bytes", 64 << 20, "Largest single message accepted.",
                min=1024),
        Setting("max_buffer_bytes", "bytes", 128 << 20,
                "Largest amount of unparsed request data buffered per connection.", min=1024),
        Setting("max_inflight", "int", 1024, "Requests in flight per connection.", min=1),
        Setting("max_connections", "int", 2048, "Concurrent connections.", min=1),
        Setting("idle_partial_timeout_s", "float", 30.0,
                "A connection that stalls mid-message this long is closed (slowloris).",
                min=0.1),
        Setting("max_unsent_bytes", "bytes", 64 << 20,
                "Answers a peer may leave unread before its connection is closed; above 256 "
                "KiB unread the daemon already stops reading the peer's requests.",
                min=1 << 16),
        Setting("idle_timeout_s", "float", 300.0,
                "A connection with nothing in flight that sends nothing this long is closed.",
                min=0.1),
    ),
    "security": (
        Setting("allowed_uids", "int_list", [],
                "Peer uids allowed besides the daemon's own (checked with SO_PEERCRED)."),
        Setting("allowed_gids", "int_list", [], "Peer gids allowed besides the daemon's uid."),
    ),
    "http": (
        Setting("enabled", "bool", True, "Serve /healthz, /metrics, /api and the dashboard."),
        Setting("host", "str", "127.0.0.1", "Address to bind; loopback unless you mean it."),
        Setting("port", "int", 8765, "TCP port; 0 picks a free one.", min=0, max=65535),
        Setting("required", "bool", False,
                "When the port cannot be bound: stop start-up (true) or run without HTTP."),
    ),
}


def installed_schema() -> dict[str, Sequence[Setting]]:
    """The settings model of this installation: the core sections plus every installed
    plugin's settings (a plugin that cannot be imported keeps its section unchecked)."""
    from importlib.metadata import entry_points

    schema: dict[str, Sequence[Setting]] = dict(CORE)
    for ep in entry_points(group="catalytic.plugins"):
        try:
            settings = ep.load().settings
        except Exception:
            continue
        schema[ep.name] = tuple(s for s in settings if isinstance(s, Setting))
    return schema
