"""The loopback HTTP face: /healthz, /metrics, /api/... and plugin routes (aiohttp).

Per-method figures are collected from the dispatcher at scrape time, so the
request path pays nothing for Prometheus.
"""

from __future__ import annotations

import errno
from collections.abc import Iterator
from typing import Any

from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily
from prometheus_client.registry import Collector

from catalytic.daemon.state import ServerState

MAX_BODY_BYTES = 1 << 20


class DaemonCollector(Collector):
    """Requests, errors and latency quantiles by method; connections; uptime."""

    def __init__(self, state: ServerState) -> None:
        self.state = state

    def collect(self) -> Iterator[Any]:
        st = self.state
        calls = CounterMetricFamily("catalytic_requests", "RPC calls by method",
                                    labels=["method"])
        errors = CounterMetricFamily("catalytic_request_errors", "RPC errors by method and code",
                                     labels=["method", "code"])
        latency = GaugeMetricFamily("catalytic_request_latency_seconds",
                                    "Recent RPC latency quantiles by method",
                                    labels=["method", "quantile"])
        for name, entry in st.dispatcher.table.items():
            s = entry.stats
            if not s.calls:
                continue
            calls.add_metric([name], s.calls)
            for code, n in s.errors.items():
                errors.add_metric([name, str(code)], n)
            summary = s.summary()
            for q, key in (("0.5", "p50_us"), ("0.95", "p95_us"), ("0.99", "p99_us")):
                latency.add_metric([name, q], summary[key] / 1e6)
        yield calls
        yield errors
        yield latency
        yield GaugeMetricFamily("catalytic_connections", "Open connections",
                                value=len(st.connections))
        yield GaugeMetricFamily("catalytic_uptime_seconds", "Daemon uptime", value=st.uptime())
        plugins = GaugeMetricFamily("catalytic_plugin_up", "1 when the plugin runs",
                                    labels=["plugin"])
        for p in st.plugins.report() if st.plugins else []:
            plugins.add_metric([p["name"]], 1.0 if p["state"] == "running" else 0.0)
        yield plugins


class HttpServer:
    def __init__(self, state: ServerState, registry: Any) -> None:
        self.state = state
        self.registry = registry
        registry.register(DaemonCollector(state))
        self.runner: web.AppRunner | None = None
        self.health_checks: list[Any] = []
        """Callables returning a list of problems; /healthz is 503 when any is non-empty."""
        state.extra["health_checks"] = self.health_checks

    def app(self) -> web.Application:
        app = web.Application(client_max_size=MAX_BODY_BYTES)
        app.router.add_get("/healthz", self.healthz)
        app.router.add_get("/metrics", self.metrics)
        app.router.add_get("/api/stats", self.api_stats)
        app.router.add_get("/api/plugins", self.api_plugins)
        if self.state.plugins:
            for name, plugin in self.state.plugins.running():
                for method, path, handler in plugin.http_routes():
                    try:
                        app.router.add_route(method, path, handler)
                    except (RuntimeError, ValueError) as exc:
                        self.state.log.error("plugin %s: route %s %s refused: %s", name,
                                             method, path, exc)
        return app

    async def start(self) -> None:
        cfg = self.state.config.values["http"]
        if not cfg["enabled"]:
            return
        self.runner = web.AppRunner(self.app(), access_log=None, handle_signals=False)
        await self.runner.setup()
        site = web.TCPSite(self.runner, cfg["host"], cfg["port"], reuse_address=True)
        try:
            await site.start()
        except OSError as exc:
            await self.runner.cleanup()
            self.runner = None
            why = ("already in use" if exc.errno == errno.EADDRINUSE else exc.strerror)
            message = f"HTTP port {cfg['host']}:{cfg['port']} cannot be bound: {why}"
            if cfg["required"]:
                from catalytic.daemon.server import StartupError

                raise StartupError(message + " (http.required = true; change http.port or "
                                   "set http.enabled = false)") from None
            self.state.log.warning("%s; running without HTTP (http.required = false)", message)
            return
        server: Any = site._server
        port = cfg["port"]
        if server is not None and getattr(server, "sockets", None):
            port = server.sockets[0].getsockname()[1]
        host = cfg["host"] if ":" not in cfg["host"] else f"[{cfg['host']}]"
        self.state.http_url = f"http://{host}:{port}/"

    async def stop(self) -> None:
        if self.runner is not None:
            await self.runner.cleanup()

    async def healthz(self, request: web.Request) -> web.Response:
        problems: list[str] = []
        st = self.state
        if st.plugins:
            problems += [f"plugin {p['name']} {p['state']}: {p['error']}"
                         for p in st.plugins.report() if p["state"] == "failed"]
        if st.overloaded:
            problems.append(f"overloaded: {st.overload_reason}")
        for check in self.health_checks:
            problems += check()
        for name, plugin in st.plugins.running() if st.plugins else []:
            check_plugin = getattr(plugin, "health_problems", None)
            if callable(check_plugin):
                problems += [f"{name}: {problem}" for problem in check_plugin()]
        status = 503 if problems else 200
        return web.json_response({"ok": not problems, "problems": problems}, status=status)

    async def metrics(self, request: web.Request) -> web.Response:
        body = generate_latest(self.registry)
        return web.Response(body=body, headers={"Content-Type": CONTENT_TYPE_LATEST})

    async def api_stats(self, request: web.Request) -> web.Response:
        result = await self._call("system.stats")
        return web.json_response(result, dumps=_dumps)

    async def api_plugins(self, request: web.Request) -> web.Response:
        return web.json_response(await self._call("system.plugins"), dumps=_dumps)

    async def _call(self, method: str) -> Any:
        entry = self.state.dispatcher.entry(method)
        return entry.handler()


def _dumps(value: Any) -> str:
    import json

    return json.dumps(value, default=lambda o: o.hex() if isinstance(o, bytes) else str(o))
