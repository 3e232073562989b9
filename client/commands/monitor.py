"""`catalytic monitor report|profile|baseline`, `catalytic top` and `catalytic dashboard`."""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path
from typing import Any

from catalytic.client.commands import EXIT_ERROR, EXIT_OK, CliContext


def register(sub: Any) -> None:
    p = sub.add_parser("monitor", help="performance reports, baselines and profiles")
    msub = p.add_subparsers(dest="monitor_cmd", required=True, metavar="VERB")
    r = msub.add_parser("report", help="mean/median/stdev/p95 of every metric, vs a baseline")
    r.add_argument("--baseline", help="compare with this saved baseline")
    r.add_argument("--window", type=float, default=None, help="seconds of history (default "
                   "monitor.report_window_s)")
    r.add_argument("--match", default="", help="only metrics whose name contains this")
    r.set_defaults(func=run_report)
    pr = msub.add_parser("profile", help="cProfile the daemon's event loop for SECONDS")
    pr.add_argument("seconds", type=float)
    pr.add_argument("-o", "--output", type=Path, help="write a .prof file (pstats, snakeviz)")
    pr.add_argument("--plugin", help="only functions of this plugin")
    pr.add_argument("--top", type=int, default=15)
    pr.set_defaults(func=run_profile)
    b = msub.add_parser("baseline", help="save or list baselines")
    bsub = b.add_subparsers(dest="baseline_cmd", required=True, metavar="VERB")
    s = bsub.add_parser("save", help="snapshot current metrics under NAME")
    s.add_argument("name")
    s.set_defaults(func=run_baseline_save)
    bsub.add_parser("list", help="saved baselines").set_defaults(func=run_baseline_list)
    t = sub.add_parser("top", help="live view: requests/s, latency, memory (Ctrl-C quits)")
    t.add_argument("-n", "--interval", type=float, default=1.0, help="seconds between updates")
    t.add_argument("--iterations", type=int, default=0, help="stop after N updates (0: never)")
    t.set_defaults(func=run_top)
    d = sub.add_parser("dashboard", help="print the dashboard URL and open it in a browser")
    d.add_argument("--no-open", action="store_true", help="only print the URL")
    d.set_defaults(func=run_dashboard)


def _fmt(v: Any) -> str:
    if v is None:
        return "–"
    if isinstance(v, float):
        return f"{v:.4g}"
    return str(v)


def run_report(args: argparse.Namespace, cli: CliContext) -> int:
    params: dict[str, Any] = {}
    if args.baseline:
        params["baseline"] = args.baseline
    if args.window:
        params["window_s"] = args.window
    report = cli.call("monitor.report", params)
    report = {k: v for k, v in report.items() if args.match in k}

    def human(con: Any) -> None:
        from rich.table import Table

        vs = f" vs {args.baseline}" if args.baseline else ""
        table = Table(title=f"catalytic monitor report{vs}")
        table.add_column("metric", overflow="fold", min_width=24)
        for col in ("mean", "median", "stdev", "p95", "vs baseline", "better is"):
            table.add_column(col, justify="right")
        for name, e in report.items():
            imp = e.get("improvement_vs_baseline")
            cell = "–" if imp is None else (f"[green]+{imp:.1%}[/]" if imp > 0 else
                                            f"[red]{imp:.1%}[/]" if imp < 0 else "0.0%")
            way = {"lower_is_better": "lower", "higher_is_better": "higher"}.get(
                e.get("direction", ""), "–")
            table.add_row(name, _fmt(e["mean"]), _fmt(e["median"]), _fmt(e["stdev"]),
                          _fmt(e["p95"]), cell, way)
        con.print(table)
        con.print("vs baseline: relative change of the mean, signed so that + is better "
                  "(lower latency, lag and memory; higher hit ratios).")

    cli.emit(report, human)
    return EXIT_OK


def run_profile(args: argparse.Namespace, cli: CliContext) -> int:
    params: dict[str, Any] = {"seconds": args.seconds, "top": args.top,
                              "prof": args.output is not None}
    if args.plugin:
        params["plugin"] = args.plugin
    result = cli.call("monitor.profile", params,
                      timeout=args.seconds + 30 if cli.timeout is None else cli.timeout)
    if args.output is not None:
        args.output.write_bytes(result.pop("prof"))

    def human(con: Any) -> None:
        from rich.table import Table

        for key, title in (("by_cumulative", "cumulative"), ("by_own", "own time")):
            table = Table("function", "where", "calls", "own s", "cumulative s",
                          title=f"hottest by {title} ({result['seconds']:.1f} s, "
                                f"{result['scope']})")
            for r in result[key]:
                table.add_row(r["function"], f"{r['file']}:{r['line']}", str(r["calls"]),
                              f"{r['own_s']:.4f}", f"{r['cumulative_s']:.4f}")
            con.print(table)
        if args.output is not None:
            con.print(f"wrote {args.output} (python -m pstats {args.output}, or snakeviz)")

    cli.emit(result, human)
    return EXIT_OK


def run_baseline_save(args: argparse.Namespace, cli: CliContext) -> int:
    result = cli.call("monitor.baseline.save", {"name": args.name})
    cli.emit(result, lambda con: con.print(
        f"baseline {result['name']!r} saved ({result['metrics']} metrics); compare later with "
        f"`catalytic monitor report --baseline {result['name']}`"))
    return EXIT_OK


def run_baseline_list(args: argparse.Namespace, cli: CliContext) -> int:
    rows = cli.call("monitor.baseline.list", {})

    def human(con: Any) -> None:
        for b in rows:
            when = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(b["created"]))
            con.print(f"{b['name']}  {when}")
        if not rows:
            con.print("no baselines yet: `catalytic monitor baseline save NAME`")

    cli.emit(rows, human)
    return EXIT_OK


def top_view(stats: dict[str, Any], prev: dict[str, Any] | None, dt: float) -> Any:
    """The `catalytic top` screen for one `system.stats` answer (and the one before)."""
    from rich.console import Group
    from rich.table import Table
    from rich.text import Text

    gov = stats.get("governor") or {}
    rps = 0.0
    if prev is not None and dt > 0:
        rps = max(0, stats["requests"] - prev["requests"]) / dt
    head = Text(f"catalyticd {stats.get('version', '?')} · pid {stats['pid']} · up "
                f"{stats['uptime_s']:.0f} s · {rps:.0f} req/s · connections "
                f"{stats['connections']} · RSS {stats['rss_bytes'] / 2**20:.1f} MiB"
                + (f" / budget {gov['budget'] / 2**20:.0f} MiB" if gov.get("budget") else "")
                + f" · CPU {stats.get('cpu_percent', 0):.0f} %"
                + (" · OVERLOADED" if stats.get("overloaded") else ""))
    table = Table("method", "req/s", "calls", "errors", "p50 ms", "p95 ms", "p99 ms",
                  expand=True)
    rows = []
    for name, m in stats.get("methods", {}).items():
        before = (prev or {}).get("methods", {}).get(name, {}).get("calls", m["calls"])
        rate = max(0, m["calls"] - before) / dt if prev is not None and dt > 0 else 0.0
        rows.append((rate, m["calls"], name, m))
    for rate, calls, name, m in sorted(rows, key=lambda r: (-r[0], -r[1]))[:20]:
        table.add_row(name, f"{rate:.1f}", str(calls), str(sum(m["errors"].values())),
                      f"{m['p50_us'] / 1000:.3f}", f"{m['p95_us'] / 1000:.3f}",
                      f"{m['p99_us'] / 1000:.3f}")
    lines = []
    for name, figures in sorted((stats.get("plugins") or {}).items()):
        if isinstance(figures, dict):
            numeric = [(k, v) for k, v in figures.items()
                       if isinstance(v, int | float) and not isinstance(v, bool)]
            # Ratios (hit ratio, precision) first: they are what `top` is watched for.
            numeric.sort(key=lambda kv: not any(w in kv[0] for w in ("ratio", "precision",
                                                                      "hit", "reuse")))
            picked = dict(numeric)
            if picked:
                lines.append(f"[bold]{name}[/]: " + ", ".join(
                    f"{k}={_fmt(v)}" for k, v in list(picked.items())[:8]))
    return Group(head, table, *(Text.from_markup(line) for line in lines),
                 Text("Ctrl-C to quit", style="dim"))


def run_top(args: argparse.Namespace, cli: CliContext) -> int:
    from rich.live import Live

    client = cli.client()
    prev: dict[str, Any] | None = None
    last = time.monotonic()
    n = 0
    with Live(console=cli.console, refresh_per_second=4, screen=False) as live:
        try:
            while True:
                stats = client.call("system.stats")
                now = time.monotonic()
                live.update(top_view(stats, prev, now - last))
                prev, last, n = stats, now, n + 1
                if args.iterations and n >= args.iterations:
                    break
                time.sleep(args.interval)
        except KeyboardInterrupt:
            pass
    return EXIT_OK


def run_dashboard(args: argparse.Namespace, cli: CliContext) -> int:
    # The URL carries the daemon's token once; the page trades it for a cookie (SameSite
    # Strict, HttpOnly) and drops it from the address.
    url = cli.call("system.http_token").get("dashboard")
    if not url:
        cli.err.print("catalytic: the daemon serves no HTTP (http.enabled = false, or its port "
                      "could not be bound; see `catalytic logs`)")
        return EXIT_ERROR
    opened = False
    if not args.no_open and not cli.json and sys.stdout.isatty() and _has_display():
        import webbrowser

        try:
            opened = webbrowser.open(url)
        except webbrowser.Error:
            opened = False
    cli.emit({"url": url, "opened": opened}, lambda con: con.print(
        f"dashboard: {url}" + ("  (opened in your browser)" if opened else "")))
    return EXIT_OK


def _has_display() -> bool:
    return sys.platform == "darwin" or bool(os.environ.get("DISPLAY")
                                            or os.environ.get("WAYLAND_DISPLAY"))
