"""MCP benchmark: what `catalytic mcp` adds per call over talking to the daemon directly.

Side by side in one run, against one daemon: the same calls (`next_task`,
`get_task`, `cache_get` of a 4 KiB artifact, in turn) made

  * through MCP: a real `catalytic mcp` subprocess driven by the SDK's stdio client;
  * directly: the same tool code (`catalytic.client.mcp.tasks`/`status`) over
    `catalytic.client.AsyncClient` in this process, so the daemon does the same work;
  * raw: one daemon call per operation (`prd.next`, `prd.status`, `workspace.get`),
    for reference.

The paths alternate in rounds so that noise on this shared machine falls on
all of them. Added cost = per operation, median MCP latency minus median direct
latency, averaged over the three operations. Also counts the tool list's
`cl100k_base` tokens as the stdio client receives it. Ends with one line:

    mcp: added_ms_per_call=.. tools_tokens=..

Usage: .venv/bin/python bench/mcp.py [--calls 1000] [--rounds 10]
(bench/mcp.py runs this file; a module named `mcp` cannot import the SDK itself.)
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from mcp.client.client import Client
from mcp.client.stdio import StdioServerParameters

from catalytic.client import AsyncClient
from catalytic.client.commands.mcp import command_path
from catalytic.client.mcp import status as status_ops
from catalytic.client.mcp import tasks as task_ops
from catalytic.client.mcp.budget import TOOLS_TOKEN_BUDGET, count_tokens, tools_json
from catalytic.client.mcp.link import DaemonLink

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests"))
from daemon_process import DaemonProcess  # noqa: E402

PRD = REPO / "tests" / "data" / "mcp" / "project" / "PRD.md"
DOC, TASK, KEY = "bench", "arithmetic/fr-2", "bench/artifact-4k"
OPS = ("next_task", "get_task", "cache_get")
Call = Callable[[str], Awaitable[Any]]


async def timed(call: Call, ops: list[str], out: dict[str, list[float]]) -> None:
    for op in ops:
        t0 = time.perf_counter()
        await call(op)
        out[op].append((time.perf_counter() - t0) * 1000)


async def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--calls", type=int, default=1000, help="calls per path")
    ap.add_argument("--rounds", type=int, default=10, help="alternations between the paths")
    opts = ap.parse_args()
    d = DaemonProcess(root=Path(tempfile.mkdtemp(prefix="catm"))).start()
    try:
        link = DaemonLink(d.socket, autostart=False)
        await task_ops.parse_prd(link, path=str(PRD), text=None, document=DOC)
        await status_ops.cache_put(link, key=KEY, text="x" * 4096, base64_data=None, ttl_s=None)
        raw = await AsyncClient(d.socket).connect()

        async def direct(op: str) -> Any:
            if op == "next_task":
                return await task_ops.next_task(link, document=DOC)
            if op == "get_task":
                return await task_ops.get_task(link, document=DOC, task_id=TASK)
            return await status_ops.cache_get(link, key=KEY)

        async def plain(op: str) -> Any:
            if op == "next_task":
                return await raw.call("prd.next", document=DOC)
            if op == "get_task":
                return await raw.call("prd.status", document=DOC, id=TASK)
            return await raw.call("workspace.get", key=KEY)

        command, *lead = command_path()
        params = StdioServerParameters(command=command, args=[*lead, "--no-autostart", "mcp"],
                                       env=d.env)
        args = {"next_task": {"document": DOC}, "get_task": {"document": DOC, "id": TASK},
                "cache_get": {"key": KEY}}
        async with Client(params) as client:
            tools = (await client.list_tools()).tools
            tokens = count_tokens(tools_json(tools))

            async def over_mcp(op: str) -> Any:
                result = await client.call_tool(op, args[op])
                assert not result.is_error, result.content
                return result

            for call in (over_mcp, direct, plain):  # warm every path once
                await timed(call, list(OPS), {op: [] for op in OPS})
            lat: dict[str, dict[str, list[float]]] = {
                name: {op: [] for op in OPS} for name in ("mcp", "direct", "raw")}
            per_round = max(1, opts.calls // opts.rounds)
            ops = [OPS[i % len(OPS)] for i in range(per_round)]
            for _ in range(opts.rounds):
                await timed(over_mcp, ops, lat["mcp"])
                await timed(direct, ops, lat["direct"])
                await timed(plain, ops, lat["raw"])
        await raw.close()
        await link.close()
    finally:
        d.cleanup()

    print(f"{'operation':<12}{'raw ms':>10}{'direct ms':>11}{'mcp ms':>10}{'added ms':>10}"
          "   (medians)")
    added = []
    for op in OPS:
        m = {name: statistics.median(lat[name][op]) for name in lat}
        added.append(m["mcp"] - m["direct"])
        print(f"{op:<12}{m['raw']:>10.3f}{m['direct']:>11.3f}{m['mcp']:>10.3f}{added[-1]:>10.3f}")
    calls = sum(len(v) for v in lat["mcp"].values())
    mean_added = sum(added) / len(added)
    print(f"{calls} calls per path in {opts.rounds} alternating rounds; tool list: {tokens} "
          f"cl100k_base tokens (budget {TOOLS_TOKEN_BUDGET}); target <= 1.5 ms added per call")
    print(f"mcp: added_ms_per_call={mean_added:.3f} tools_tokens={tokens}")


if __name__ == "__main__":
    asyncio.run(main())
