"""`cache_put` / `cache_get` over the workspace, and `daemon_status`."""

from __future__ import annotations

import base64
import binascii
from typing import Any

from catalytic.client.mcp.link import DaemonLink, ToolFailure


async def cache_put(link: DaemonLink, *, key: str, text: str | None,
                    base64_data: str | None, ttl_s: float | None) -> dict[str, Any]:
    if (text is None) == (base64_data is None):
        raise ToolFailure("give exactly one of `text` or `base64`", -32602, "input")
    if text is not None:
        data = text.encode("utf-8")
    else:
        try:
            data = base64.b64decode(base64_data or "", validate=True)
        except (binascii.Error, ValueError) as exc:
            raise ToolFailure(f"`base64` is not valid base64: {exc}", -32602, "input") from None
    params: dict[str, Any] = {"key": key, "data": data}
    if ttl_s is not None:
        params["ttl_s"] = ttl_s
    result = await link.call("workspace.put", params)
    return {"key": result["key"], "size": result.get("size", len(data)),
            "tier": result.get("tier")}


async def cache_get(link: DaemonLink, *, key: str) -> dict[str, Any]:
    result = await link.call("workspace.get", {"key": key})
    data = result.get("data")
    if data is None:
        return {"key": key, "found": False}
    raw = bytes(data)
    out: dict[str, Any] = {"key": key, "found": True, "size": len(raw)}
    try:
        out["text"] = raw.decode("utf-8")
    except UnicodeDecodeError:
        out["base64"] = base64.b64encode(raw).decode("ascii")
    return out


async def daemon_status(link: DaemonLink) -> dict[str, Any]:
    stats = await link.call("system.stats")  # first: it reconnects to a restarted daemon
    hello = link.hello
    executor = stats.get("executor") or {}
    return {
        "version": hello.get("version"),
        "pid": stats.get("pid", hello.get("pid")),
        "socket": hello.get("socket"),
        "plugins": hello.get("plugins", {}),
        "dashboard": hello.get("http"),
        "load": {
            "uptime_s": round(float(stats.get("uptime_s", 0.0)), 1),
            "connections": stats.get("connections"),
            "requests": stats.get("requests"),
            "cpu_percent": stats.get("cpu_percent"),
            "rss_bytes": stats.get("rss_bytes"),
            "overloaded": stats.get("overloaded"),
            "jobs_running": executor.get("running"),
        },
    }
