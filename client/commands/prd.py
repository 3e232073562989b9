"""`catalytic prd ...`: decompose a requirements document, then work through its tasks.

The CLI reads files itself and sends their text, so it works on any file the
user can read; `prd.allowed_roots` only limits paths the daemon opens.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

FORMATS = ("json", "taskmaster", "mermaid", "md")
STATUSES = ("pending", "in-progress", "blocked", "done", "cancelled", "deferred")


def register(sub: Any) -> None:
    prd = sub.add_parser("prd", help="decompose requirements documents into a task graph")
    verbs = prd.add_subparsers(dest="prd_verb", required=True)

    p = verbs.add_parser("decompose", help="decompose FILE (again: only changed sections redo)")
    p.add_argument("file", type=Path)
    p.add_argument("--format", choices=FORMATS, help="print/write this export instead of a summary")
    p.add_argument("-o", "--output", type=Path, help="write the export to this file")
    _doc(p)
    p.set_defaults(func=run_decompose)

    p = verbs.add_parser("next", help="the next available task(s)")
    p.add_argument("-n", "--limit", type=int, default=1)
    _doc(p)
    p.set_defaults(func=run_next)

    p = verbs.add_parser("status", help="show or set a task's status (no ID: counts)")
    p.add_argument("id", nargs="?")
    p.add_argument("status", nargs="?", choices=STATUSES)
    _doc(p)
    p.set_defaults(func=run_status)

    p = verbs.add_parser("graph", help="order, parallel levels, critical path, cycles")
    _doc(p)
    p.set_defaults(func=run_graph)

    p = verbs.add_parser("diff", help="tasks added, removed, changed, moved between OLD and NEW")
    p.add_argument("old", type=Path)
    p.add_argument("new", type=Path)
    p.set_defaults(func=run_diff)

    p = verbs.add_parser("import", help="take statuses from a Task Master tasks.json")
    p.add_argument("file", type=Path)
    p.add_argument("--tag", default="master")
    _doc(p)
    p.set_defaults(func=run_import)


def _doc(p: argparse.ArgumentParser) -> None:
    p.add_argument("-d", "--document", default="default",
                   help="name the decomposition is stored under (default: %(default)s)")


def _read(path: Path) -> str:
    return path.read_bytes().decode("utf-8", errors="replace")


def run_decompose(args: argparse.Namespace, cli: Any) -> int:
    result = cli.call("prd.decompose", {"text": _read(args.file), "document": args.document})
    if args.format:
        content = cli.call("prd.export", {"document": args.document,
                                          "format": args.format})["content"]
        if args.output:
            args.output.write_text(content)
            cli.err.print(f"wrote {args.format} to {args.output}")
        else:
            sys.stdout.write(content if content.endswith("\n") else content + "\n")
        return 0

    def human(console: Any) -> None:
        from rich.tree import Tree

        s = result["stats"]
        console.print(f"[bold]{args.file}[/]: {s['tasks']} tasks from {s['sections_total']} "
                      f"sections — {s['sections_reused']} reused, "
                      f"{s['sections_recomputed']} recomputed, "
                      f"{s.get('sections_placed', 0)} placed anew")
        console.print(change_summary(result))
        for w in result["warnings"]:
            console.print(f"[yellow]warning:[/] {w}")
        for c in result["problems"]["cycles"]:
            console.print("[red]cycle:[/] " + " → ".join(x["title"] for x in c))
        for m in result["problems"]["missing"]:
            console.print(f"[yellow]missing reference:[/] {m['task']} → {m['ref']}")
        tree = Tree(f"[bold]{args.document}")
        nodes: dict[Any, Any] = {None: tree}
        for t in result["tasks"][:60]:
            parent = nodes.get(t["parent"], tree)
            deps = f" [dim]after {len(t['dependencies'])}[/]" if t["dependencies"] else ""
            nodes[t["id"]] = parent.add(
                f"{t['title']} [dim]{t['kind']} · {t['priority']} · c{t['complexity']}[/]{deps}")
        console.print(tree)
        if len(result["tasks"]) > 60:
            console.print(f"… {len(result['tasks']) - 60} more (use --format md)")

    cli.emit(result, human)
    return 0


def change_summary(result: dict[str, Any], show: int = 5) -> str:
    """One line (and a few IDs) saying what this decomposition changed against the stored one."""
    ch = result.get("changes") or {"added": [], "changed": [], "removed": []}
    added = [t["id"] for t in ch["added"]]
    changed = [t["id"] for t in ch["changed"]]
    removed = list(ch["removed"])
    if not (added or changed or removed):
        return f"revision {result.get('revision', '?')}: no task changed"
    parts = [f"revision {result.get('revision', '?')}: {len(added)} added, "
             f"{len(changed)} changed, {len(removed)} removed"]
    for mark, ids in (("+", added), ("~", changed), ("-", removed)):
        parts += [f"  {mark} {tid}" for tid in ids[:show]]
        if len(ids) > show:
            parts.append(f"  {mark} … {len(ids) - show} more")
    return "\n".join(parts)


def run_next(args: argparse.Namespace, cli: Any) -> int:
    result = cli.call("prd.next", {"document": args.document, "limit": args.limit})

    def human(console: Any) -> None:
        if not result["tasks"]:
            console.print("nothing available: everything is done, blocked or waiting")
        for t in result["tasks"]:
            console.print(f"[bold]{t['title']}[/]  [dim]{t['id']}[/]")
            console.print(f"  {t['kind']} · {t['priority']} · complexity {t['complexity']} · "
                          f"lines {t['lines'][0]}-{t['lines'][1]}")
            if t["description"]:
                console.print(f"  {t['description'][:200]}")

    cli.emit(result, human)
    return 0


def run_status(args: argparse.Namespace, cli: Any) -> int:
    params: dict[str, Any] = {"document": args.document, "id": args.id, "status": args.status}
    result = cli.call("prd.status", params)

    def human(console: Any) -> None:
        if args.id is None:
            console.print(", ".join(f"{k}: {v}" for k, v in result["counts"].items() if v))
        else:
            console.print(f"{result['id']}: [bold]{result['status']}[/]")

    cli.emit(result, human)
    return 0


def run_graph(args: argparse.Namespace, cli: Any) -> int:
    result = cli.call("prd.graph", {"document": args.document})

    def human(console: Any) -> None:
        console.print(f"{len(result['order'])} tasks, {result['edges']} dependency edges, "
                      f"{len(result['levels'])} parallel levels")
        for i, level in enumerate(result["levels"][:12]):
            console.print(f"  level {i}: {len(level)} task(s)  [dim]{', '.join(level[:4])}"
                          f"{' …' if len(level) > 4 else ''}[/]")
        console.print("critical path: " + " → ".join(result["critical_path"]))
        for c in result["cycles"]:
            console.print("[red]cycle:[/] " + " → ".join(x["title"] for x in c))

    cli.emit(result, human)
    return 0


def run_diff(args: argparse.Namespace, cli: Any) -> int:
    result = cli.call("prd.diff", {"old": _read(args.old), "new": _read(args.new)})

    def human(console: Any) -> None:
        s = result["summary"]
        console.print(f"added {s['added']}, removed {s['removed']}, changed {s['changed']}, "
                      f"moved {s['moved']}, kept {s['kept']}")
        for tid in result["added"]:
            console.print(f"[green]+ {tid}")
        for tid in result["removed"]:
            console.print(f"[red]- {tid}")
        for c in result["changed"]:
            console.print(f"[yellow]~ {c['id']}[/] ({', '.join(c['fields'])})")
        for m in result["moved"]:
            console.print(f"[cyan]> {m['from']} → {m['to']}")

    cli.emit(result, human)
    return 0


def run_import(args: argparse.Namespace, cli: Any) -> int:
    result = cli.call("prd.import", {"document": args.document, "tasks_json": _read(args.file),
                                     "tag": args.tag})
    cli.emit(result, lambda console: console.print(
        f"imported {result['imported']} status(es); unmatched: {len(result['unmatched'])}"))
    return 0
