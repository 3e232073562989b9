"""The daemon's own verbs: start, stop, restart, status, ping, plugins, stats, call, logs."""

from __future__ import annotations

import argparse
import json
import os
import signal
import time
from typing import Any

from catalytic.client.commands import (
    EXIT_ERROR,
    EXIT_NOT_RUNNING,
    EXIT_OK,
    CliContext,
    config_apply,
)
from catalytic.client.discover import (
    connect_unix,
    daemon_log_path,
    read_status,
    resolve_socket,
    spawn_daemon,
    wait_for_socket,
)
from catalytic.client.errors import DaemonNotRunning


def register(sub: Any) -> None:
    p = sub.add_parser("start", help="start the daemon in the background")
    p.add_argument("daemon_args", nargs=argparse.REMAINDER,
                   help="arguments for catalyticd (after --)")
    p.set_defaults(func=run_start, autostart=False)
    p = sub.add_parser("stop", help="stop the daemon gracefully")
    p.set_defaults(func=run_stop, autostart=False)
    p = sub.add_parser("restart", help="stop, then start the daemon")
    p.set_defaults(func=run_restart, autostart=False)
    p = sub.add_parser("status", help="is the daemon running? pid, version, socket, uptime")
    p.set_defaults(func=run_status, autostart=False)
    p = sub.add_parser("ping", help="round trip to the daemon")
    p.add_argument("-c", "--count", type=int, default=1, help="number of pings")
    p.set_defaults(func=run_ping)
    sub.add_parser("plugins", help="loaded and failed plugins").set_defaults(func=run_plugins)
    sub.add_parser("stats", help="requests, latency, memory, plugins").set_defaults(
        func=run_stats)
    p = sub.add_parser("call", help="call any method: catalytic call system.ping --params '{}'")
    p.add_argument("method")
    p.add_argument("--params", default="{}", help="named params as a JSON object")
    p.set_defaults(func=run_call)
    p = sub.add_parser("logs", help="tail of the daemon log (when it runs without systemd)")
    p.add_argument("-n", "--lines", type=int, default=40)
    p.add_argument("-f", "--follow", action="store_true")
    p.set_defaults(func=run_logs, autostart=False)
    p = sub.add_parser("config", help="configuration")
    csub = p.add_subparsers(dest="config_cmd", required=True)
    csub.add_parser("show", help="effective config with where each value came from"
                    ).set_defaults(func=run_config_show)
    config_apply.register(csub)


def _alive(cli: CliContext) -> bool:
    try:
        connect_unix(resolve_socket(cli.socket), timeout=1.0).close()
        return True
    except DaemonNotRunning:
        return False


def run_start(args: argparse.Namespace, cli: CliContext) -> int:
    sock = resolve_socket(cli.socket)
    if _alive(cli):
        status = read_status(sock)
        cli.err.print(f"catalyticd is already running (pid {status.pid if status else '?'}) "
                      f"on {sock}")
        return EXIT_OK
    extra = [a for a in args.daemon_args if a != "--"]
    proc = spawn_daemon(sock, extra)
    wait_for_socket(sock, 15.0, proc)
    cli.emit({"started": True, "pid": proc.pid, "socket": str(sock)},
             lambda con: con.print(f"catalyticd started (pid {proc.pid}) on {sock}"))
    return EXIT_OK


def run_stop(args: argparse.Namespace, cli: CliContext) -> int:
    sock = resolve_socket(cli.socket)
    status = read_status(sock)
    if not _alive(cli):
        cli.err.print(f"catalyticd is not running on {sock}")
        return EXIT_OK
    cli.client().call("system.shutdown")
    cli.close()
    deadline = time.monotonic() + 60
    while status is not None and status.alive() and time.monotonic() < deadline:
        time.sleep(0.05)
    if status is not None and status.alive():
        cli.err.print(f"catalyticd (pid {status.pid}) did not stop within 60 s; sending SIGKILL")
        os.kill(status.pid, signal.SIGKILL)
        return EXIT_ERROR
    cli.emit({"stopped": True}, lambda con: con.print("catalyticd stopped"))
    return EXIT_OK


def run_restart(args: argparse.Namespace, cli: CliContext) -> int:
    run_stop(args, cli)
    args.daemon_args = []
    return run_start(args, cli)


def run_status(args: argparse.Namespace, cli: CliContext) -> int:
    sock = resolve_socket(cli.socket)
    if not _alive(cli):
        status = read_status(sock)
        why = (f"stale status file: pid {status.pid} is gone"
               if status and not status.alive() else "not running")
        cli.emit({"running": False, "socket": str(sock), "reason": why},
                 lambda con: con.print(f"catalyticd: {why} ({sock})"))
        return EXIT_NOT_RUNNING
    stats = cli.client().call("system.stats")
    hello = cli.client().hello_info or {}
    out = {"running": True, "pid": stats["pid"], "version": stats["version"],
           "socket": str(sock), "uptime_s": stats["uptime_s"], "http": hello.get("http"),
           "plugins": hello.get("plugins")}

    def human(con: Any) -> None:
        con.print(f"catalyticd {out['version']} running (pid {out['pid']}), up "
                  f"{out['uptime_s']:.0f} s")
        con.print(f"  socket    {sock}")
        con.print(f"  dashboard {out['http'] or 'off'}")
        con.print("  plugins   " + ", ".join(f"{k} {v}" for k, v in (out["plugins"] or {}).items()))

    cli.emit(out, human)
    return EXIT_OK


def run_ping(args: argparse.Namespace, cli: CliContext) -> int:
    client = cli.client()
    times = []
    for _ in range(max(1, args.count)):
        t0 = time.perf_counter()
        client.call("system.ping")
        times.append((time.perf_counter() - t0) * 1e6)
    times.sort()
    out = {"pings": len(times), "min_us": times[0], "median_us": times[len(times) // 2],
           "max_us": times[-1]}
    cli.emit(out, lambda con: con.print(
        f"pong: {len(times)} round trip(s), median {out['median_us']:.0f} µs "
        f"(min {out['min_us']:.0f}, max {out['max_us']:.0f})"))
    return EXIT_OK


def run_plugins(args: argparse.Namespace, cli: CliContext) -> int:
    plugins = cli.call("system.plugins")

    def human(con: Any) -> None:
        from rich.table import Table

        table = Table("plugin", "version", "state", "methods", "error")
        for p in plugins:
            table.add_row(p["name"], str(p["version"] or ""), p["state"],
                          str(len(p["methods"])), p["error"] or "")
        con.print(table)

    cli.emit(plugins, human)
    return EXIT_OK if all(p["state"] == "running" for p in plugins) else EXIT_ERROR


def run_stats(args: argparse.Namespace, cli: CliContext) -> int:
    stats = cli.call("system.stats")

    def human(con: Any) -> None:
        from rich.table import Table

        cpu = stats["cpu_user_s"] + stats["cpu_system_s"]
        con.print(f"uptime {stats['uptime_s']:.0f} s · connections {stats['connections']} · "
                  f"requests {stats['requests']} · errors {stats['errors']} · RSS "
                  f"{stats['rss_bytes'] / 2**20:.1f} MiB · CPU {cpu:.2f} s")
        ex = stats.get("executor") or {}
        if ex.get("backend") == "dask":
            where = ex.get("address") or "a local cluster"
            state = "connected" if ex.get("connected") else f"DOWN: {ex.get('error')}"
            con.print(f"executor: dask at {where} ({state}) · {ex.get('cluster_workers', 0)} "
                      f"workers · {ex.get('running', 0)} jobs running · dashboard "
                      f"{ex.get('dashboard') or '-'}")
        elif ex:
            con.print(f"executor: local pool · {ex.get('workers')} workers · "
                      f"{ex.get('running', 0)} jobs running · {ex.get('completed', 0)} done")
        table = Table("method", "calls", "errors", "p50 µs", "p99 µs", "max µs")
        for name, m in sorted(stats["methods"].items()):
            table.add_row(name, str(m["calls"]), str(sum(m["errors"].values())),
                          f"{m['p50_us']:.0f}", f"{m['p99_us']:.0f}", f"{m['max_us']:.0f}")
        con.print(table)
        for name, figures in stats["plugins"].items():
            if figures:
                con.print(f"[bold]{name}[/]: " + ", ".join(
                    f"{k}={_short(v)}" for k, v in figures.items()
                    if not isinstance(v, dict | list)))

    cli.emit(stats, human)
    return EXIT_OK


def _short(value: Any) -> str:
    return f"{value:.4g}" if isinstance(value, float) else str(value)


def run_call(args: argparse.Namespace, cli: CliContext) -> int:
    try:
        params = json.loads(args.params)
    except json.JSONDecodeError as exc:
        cli.err.print(f"--params is not valid JSON: {exc}")
        return 2
    if not isinstance(params, dict):
        cli.err.print("--params must be a JSON object of named params")
        return 2
    cli.emit(cli.call(args.method, params))
    return EXIT_OK


def run_logs(args: argparse.Namespace, cli: CliContext) -> int:
    path = daemon_log_path()
    if not path.exists():
        cli.err.print(f"no log at {path}: the daemon has not run in the background here "
                      "(under systemd, use `journalctl --user -u catalytic`)")
        return EXIT_ERROR
    with path.open("r", errors="replace") as fh:
        lines = fh.readlines()[-args.lines:]
        for line in lines:
            print(line, end="")
        while args.follow:
            line = fh.readline()
            if line:
                print(line, end="", flush=True)
            else:
                time.sleep(0.25)
    return EXIT_OK


def run_config_show(args: argparse.Namespace, cli: CliContext) -> int:
    cfg = cli.call("system.config")

    def human(con: Any) -> None:
        from rich.table import Table

        con.print(f"config file: {cfg['path'] or '(none: defaults and environment only)'}")
        table = Table("key", "value", "from")
        for section, values in cfg["values"].items():
            for key, value in values.items():
                table.add_row(f"{section}.{key}", json.dumps(value),
                              cfg["sources"][section][key])
        con.print(table)

    cli.emit(cfg, human)
    return EXIT_OK
