"""The loopback HTTP face: /healthz, /metrics, /api/... and plugin routes (aiohttp).

Every request's `Host` header must name this daemon (127.0.0.1, localhost,
[::1] or `http.host`, with the bound port), else 421: a web page cannot reach
it by DNS rebinding. `/api/*` also needs the per-daemon token (header
`Authorization: Bearer <token>`, or the cookie the dashboard gets when opened
with `?token=`); socket callers read it with `system.http_token`. `/healthz`
and `/metrics` need no token, as Prometheus expects. Per-method figures are
collected from the dispatcher at scrape time, so the request path pays nothing
for Prometheus.
"""

from __future__ import annotations

import errno
import hmac
from collections.abc import Awaitable, Callable, Iterator
from typing import Any

from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily
from prometheus_client.registry import Collector

from catalytic.daemon.state import ServerState
from catalytic.protocol.errors import RpcError

MAX_BODY_BYTES = 1 << 20
TOKEN_COOKIE = "catalytic_token"
LOOPBACK_NAMES = ("127.0.0.1", "localhost", "[::1]")
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


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
        self.health_checks = state.health_checks
        self.session = state.dispatcher.open_session("http")
        self.port = 0

    def allowed_hosts(self) -> set[str]:
        """`Host` header values that name this daemon."""
        configured = self.state.config.values["http"]["host"]
        names = {*LOOPBACK_NAMES, f"[{configured}]" if ":" in configured else configured}
        hosts = {f"{name}:{self.port}" for name in names}
        if self.port == 80:
            hosts |= names
        return hosts

    @web.middleware
    async def guard(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        """The Host check for every route; the token for /api/*; ?token= sets the cookie."""
        host = request.headers.get("Host", "").lower()
        if host not in self.allowed_hosts():
            return web.json_response(
                {"error": f"Host {host[:80]!r} is not this daemon's (use 127.0.0.1:{self.port}"
                          " or the configured http.host)"}, status=421)
        token = self.state.http_token
        offered = request.query.get("token")
        if offered is not None and not request.path.startswith("/api/"):
            if not hmac.compare_digest(offered.encode(), token.encode()):
                return web.json_response({"error": "wrong token; `catalytic dashboard` opens "
                                                   "the page with the right one"}, status=401)
            query = {k: v for k, v in request.query.items() if k != "token"}
            target = request.rel_url.with_query(query)
            response = web.HTTPSeeOther(location=str(target))
            response.set_cookie(TOKEN_COOKIE, token, httponly=True, samesite="Strict",
                                path="/")
            return response
        if request.path.startswith("/api/"):
            bearer = request.headers.get("Authorization", "")
            given = bearer[7:] if bearer.startswith("Bearer ") else \
                request.cookies.get(TOKEN_COOKIE, "")
            if not hmac.compare_digest(given.encode(), token.encode()):
                return web.json_response(
                    {"error": "/api needs the daemon's token: header `Authorization: Bearer "
                              "<token>` (`system.http_token` on the socket gives it), or open "
                              "the dashboard with `catalytic dashboard`"}, status=401)
        return await handler(request)

    def app(self) -> web.Application:
        app = web.Application(client_max_size=MAX_BODY_BYTES, middlewares=[self.guard])
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
        self.port = port
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
            try:
                problems += [f"{name}: {problem}" for problem in plugin.health_problems()]
            except Exception as exc:
                problems.append(f"{name}: health_problems failed: {type(exc).__name__}: {exc}")
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
        """Through the dispatcher, under the same rules as a socket call."""
        try:
            return await self.state.dispatcher.invoke(method, {}, session=self.session)
        except RpcError as exc:
            raise web.HTTPServiceUnavailable(text=str(exc)) from None


def _dumps(value: Any) -> str:
    import json

    return json.dumps(value, default=lambda o: o.hex() if isinstance(o, bytes) else str(o))
