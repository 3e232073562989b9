"""HTTP face of the monitor: the dashboard page, its static files and `/api/monitor/...` JSON.

Mounted by the daemon's HTTP server through `MonitorPlugin.http_routes()`.
"""

from __future__ import annotations

import json
import math
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from aiohttp import web

from catalytic.plugins.base import RpcError
from catalytic.plugins.monitor.summary import json_safe

if TYPE_CHECKING:
    from catalytic.plugins.monitor.plugin import MonitorPlugin

STATIC = Path(__file__).resolve().parent / "static"
TYPES = {".js": "text/javascript", ".css": "text/css", ".html": "text/html",
         ".txt": "text/plain", ".md": "text/markdown"}
MAX_LIMIT = 100000
MAX_FRONT = 2000
"""Pareto points sent to the dashboard at most."""


def _dumps(value: Any) -> str:
    return json.dumps(json_safe(value), default=lambda o: o.hex() if isinstance(o, bytes)
                      else str(o))


def _number(request: web.Request, name: str, default: float, lo: float, hi: float) -> float:
    raw = request.query.get(name)
    if raw is None:
        return default
    try:
        value = float(raw)
    except ValueError:
        raise web.HTTPBadRequest(text=f"query parameter {name}={raw!r} is not a number") from None
    if not math.isfinite(value) or not lo <= value <= hi:
        raise web.HTTPBadRequest(text=f"query parameter {name}={raw!r} must be within "
                                      f"{lo:g}..{hi:g}")
    return value


async def evolve_view(call: Callable[[str, dict[str, Any]], Awaitable[Any]]) -> dict[str, Any]:
    """The latest (running, else newest) evolve study: progress and its first two objectives'
    Pareto front, through evolve's own verbs (the monitor never imports evolve)."""
    studies = (await call("evolve.list", {}))["studies"]
    if not studies:
        return {"studies": 0, "study": None}
    pick = next((s for s in reversed(studies) if s.get("running")), studies[-1])
    status = await call("evolve.status", {"study": pick["study"]})
    pareto = await call("evolve.pareto", {"study": pick["study"]})
    front = [[float(v) for v in p["values"][:2]] for p in pareto.get("front", [])
             if len(p.get("values") or []) >= 2][:MAX_FRONT]
    best = status.get("best") or {}
    return {"studies": len(studies), "study": pick["study"], "name": status.get("name"),
            "algorithm": status.get("algorithm"), "objectives": status.get("objectives", []),
            "generation": status.get("generation"), "evaluations": status.get("evaluations"),
            "hypervolume": status.get("hypervolume"), "best_score": best.get("score"),
            "running": bool(pick.get("running")), "done": status.get("done"), "front": front}


def routes(plugin: MonitorPlugin) -> list[tuple[str, str, Any]]:
    async def index(request: web.Request) -> web.StreamResponse:
        return web.FileResponse(STATIC / "index.html",
                                headers={"Cache-Control": "no-cache",
                                         "Content-Type": "text/html; charset=utf-8"})

    async def static(request: web.Request) -> web.StreamResponse:
        name = request.match_info["name"]
        path = STATIC / name
        if "/" in name or name.startswith(".") or path.suffix not in TYPES or not path.is_file():
            raise web.HTTPNotFound(text=f"no static file {name!r}")
        return web.FileResponse(path, headers={"Content-Type": TYPES[path.suffix]})

    async def history(request: web.Request) -> web.Response:
        since = _number(request, "since", 0.0, 0.0, 1e12)
        limit = int(_number(request, "limit", 900, 1, MAX_LIMIT))
        prefixes = tuple(p for p in request.query.get("prefix", "").split(",") if p)
        return web.json_response(await plugin.history_columns(since, limit, prefixes),
                                 dumps=_dumps)

    async def current(request: web.Request) -> web.Response:
        stats = plugin.latest_stats
        last = plugin.ring.last()
        body = {
            "time": time.time(), "refresh_s": plugin.ctx.config["refresh_s"],
            "interval_s": plugin.ctx.config["interval_s"],
            "sample": {"t": last[0], "values": last[1]} if last else None,
            "plugins": stats.get("plugins", {}), "governor": stats.get("governor"),
            "executor": stats.get("executor"),
            "uptime_s": stats.get("uptime_s"), "version": stats.get("version"),
            "health": {"ok": not plugin.health_problems(), "problems": plugin.health_problems()},
        }
        return web.json_response(body, dumps=_dumps)

    async def health(request: web.Request) -> web.Response:
        problems = plugin.health_problems()
        return web.json_response({"ok": not problems, "problems": problems},
                                 status=503 if problems else 200)

    async def report(request: web.Request) -> web.Response:
        baseline = request.query.get("baseline")
        window = _number(request, "window_s", 0.0, 0.0, 1e9) or None
        try:
            result = await plugin.report(baseline, window)
        except RpcError as exc:
            return web.json_response({"error": exc.message, "code": exc.code}, status=404)
        return web.json_response(result, dumps=_dumps)

    async def evolve(request: web.Request) -> web.Response:
        if "evolve" not in (plugin.latest_stats.get("plugins") or {}):
            return web.json_response({"error": "the evolve plugin is not running"}, status=404)
        try:
            body = await evolve_view(plugin.ctx.call)
        except RpcError as exc:
            return web.json_response({"error": str(exc)}, status=502)
        return web.json_response(body, dumps=_dumps)

    return [
        ("GET", "/", index),
        ("GET", "/api/monitor/evolve", evolve),
        ("GET", "/monitor/static/{name}", static),
        ("GET", "/api/monitor/history", history),
        ("GET", "/api/monitor/current", current),
        ("GET", "/api/monitor/health", health),
        ("GET", "/api/monitor/report", report),
    ]
