#!/usr/bin/env bash
# mcp: what a coding agent sees — the tool list, then parse_prd → next_task → run_tests over stdio.
set -euo pipefail
cd "$(dirname "$0")/.."
say() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
# Test runs are allowed only under testrun.allowed_roots (default: your home): work on a copy there.
mkdir -p "$HOME/.cache"
work=$(mktemp -d "$HOME/.cache/catalytic-demo-mcp.XXXXXX")
trap 'rm -rf "$work"' EXIT
cp -r tests/data/mcp/project "$work/project"

say "catalytic mcp --print-config (paste into an agent's MCP configuration)"
catalytic mcp --print-config

say "An MCP client drives 'catalytic mcp' over stdio, as an agent would"
python - "$work/project" <<'PY'
import asyncio, json, sys
from pathlib import Path

from mcp import Client, StdioServerParameters

from catalytic.client.mcp.budget import count_tokens, tools_json

root = Path(sys.argv[1])


async def main() -> None:
    async with Client(StdioServerParameters(command="catalytic", args=["mcp"])) as c:
        tools = (await c.list_tools()).tools
        print(f"{len(tools)} tools, {count_tokens(tools_json(tools))} cl100k_base tokens:",
              ", ".join(t.name for t in tools))

        async def call(name: str, **args: object) -> dict:
            result = (await c.call_tool(name, args)).structured_content or {}
            print(f"\n{name}({', '.join(f'{k}={v!r}'[:60] for k, v in args.items())})")
            print("  " + json.dumps(result)[:400])
            return result

        await call("parse_prd", path=str(root / "PRD.md"), document="demo-mcp")
        task = (await call("next_task", document="demo-mcp"))["task"]
        ops = root / "calc" / "ops.py"
        # (A size-changing edit: bytecode caches compare size and whole-second mtimes.)
        ops.write_text(ops.read_text().replace("return a + b", "return a - b - 0"))
        print("\n(edit: add() now subtracts)")
        await call("run_tests", root=str(root))
        ops.write_text(ops.read_text().replace("return a - b - 0", "return a + b"))
        print("\n(fixed)")
        await call("run_tests", root=str(root))
        await call("set_task_status", document="demo-mcp", id=task["id"], status="done")
        await call("next_task", document="demo-mcp")


asyncio.run(main())
PY
