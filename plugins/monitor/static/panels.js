/* Which figures each dashboard panel shows. Every panel picks metric names from the
   history columns (see plugins/monitor/flatten.py for the naming) and says what to show
   when its plugin is absent or has published nothing yet. */
"use strict";

var MiB = 1048576;

function byRegex(names, re) {
  return names.filter(function (n) { return re.test(n); }).sort();
}

function topMethods(names, latest, n) {
  var methods = byRegex(names, /^method\..+\.calls$/).map(function (m) {
    return m.slice(7, -6);
  }).filter(function (m) { return m.indexOf("monitor.") !== 0 || m === "monitor.report"; });
  methods.sort(function (a, b) {
    return (latest["method." + b + ".calls"] || 0) - (latest["method." + a + ".calls"] || 0);
  });
  return methods.slice(0, n);
}

function pluginLeaves(names, plugin, re) {
  var prefix = "plugin." + plugin + ".";
  var all = names.filter(function (n) { return n.indexOf(prefix) === 0; }).sort();
  var picked = re ? all.filter(function (n) { return re.test(n.slice(prefix.length)); }) : [];
  return {picked: picked, all: all, label: function (n) { return n.slice(prefix.length); }};
}

function pluginPanel(plugin, re, unitHint) {
  /* The named figures when the plugin publishes them, else every numeric figure it has. */
  return function (names) {
    var leaves = pluginLeaves(names, plugin, re);
    var list = leaves.picked.length ? leaves.picked : leaves.all.slice(0, 8);
    return {
      unit: leaves.picked.length ? undefined : "",
      series: list.map(function (n) { return {name: n, label: leaves.label(n)}; }),
      note: leaves.picked.length ? "" : (list.length ? "No " + unitHint +
        " figures published yet; showing the plugin's other figures." : "")
    };
  };
}

var PANELS = [
  {id: "rate", title: "Requests per second by method", unit: "req/s",
   hint: "Calls per second over each sample interval (busiest methods).",
   pick: function (names, latest) {
     return {series: topMethods(names, latest, 6).map(function (m) {
       return {name: "method." + m + ".rate_per_s", label: m};
     })};
   }},
  {id: "latency", title: "Latency percentiles by method", unit: "ms",
   hint: "p50, p95 and p99 of recent calls (busiest methods).",
   pick: function (names, latest) {
     var out = [];
     topMethods(names, latest, 3).forEach(function (m) {
       ["p50", "p95", "p99"].forEach(function (q) {
         out.push({name: "method." + m + "." + q + "_ms", label: m + " " + q});
       });
     });
     return {series: out};
   }},
  {id: "lag", title: "Event-loop lag", unit: "ms",
   hint: "How late a scheduled callback ran: the daemon's own health figure.",
   pick: function () {
     return {series: [{name: "loop.lag_max_ms", label: "max"},
                      {name: "loop.lag_mean_ms", label: "mean"}]};
   }},
  {id: "memory", title: "Memory (RSS) and budget", unit: "MiB",
   hint: "Resident memory of the daemon against the memory governor's limits.",
   pick: function (names, latest) {
     var out = [{name: "process.rss_bytes", label: "RSS", scale: 1 / MiB},
                {name: "process.rss_avg_bytes", label: "average", scale: 1 / MiB},
                {name: "process.rss_peak_bytes", label: "peak", scale: 1 / MiB}];
     /* Limits far above RSS would flatten the RSS lines: then they are only named. */
     var rss = latest["process.rss_peak_bytes"] || 0, note = "";
     [["governor.soft_limit", "soft limit"], ["governor.budget", "budget"]].forEach(
       function (l) {
         var v = latest[l[0]];
         if (v && v <= 4 * rss) { out.push({name: l[0], label: l[1], scale: 1 / MiB}); }
         else if (v) { note += l[1] + " " + Math.round(v / MiB) + " MiB, "; }
       });
     return {series: out, note: note ? "Far above RSS, not drawn: " + note.slice(0, -2) +
       "." : ""};
   }},
  {id: "cpu", title: "CPU", unit: "%",
   hint: "Daemon CPU (100 % = one core) and each host core.",
   pick: function (names) {
     var out = [{name: "process.cpu_percent", label: "daemon"}];
     byRegex(names, /^host\.cpu_core_\d+_percent$/).forEach(function (n) {
       out.push({name: n, label: "core " + n.replace(/\D+/g, "")});
     });
     return {series: out};
   }},
  {id: "io", title: "Disk I/O and handles", unit: "/s",
   hint: "Bytes and operations per second; open files, sockets and threads.",
   pick: function () {
     return {series: [{name: "process.io_read_bytes_per_s", label: "read KiB/s", scale: 1 / 1024},
                      {name: "process.io_write_bytes_per_s", label: "write KiB/s", scale: 1 / 1024},
                      {name: "process.io_read_ops_per_s", label: "read ops/s"},
                      {name: "process.io_write_ops_per_s", label: "write ops/s"},
                      {name: "process.open_files", label: "open files"},
                      {name: "process.net_connections", label: "sockets"},
                      {name: "process.threads", label: "threads"}]};
   }},
  {id: "executor", title: "Executor", unit: "",
   hint: "Where CPU-heavy jobs run: the local process pool or a Dask cluster.",
   custom: executorPanel},
  {id: "workspace", plugin: "workspace", title: "Workspace hit ratio by tier", unit: "",
   hint: "Share of gets served from cache, per tier, and prefetch precision.",
   pick: pluginPanel("workspace", /hit_ratio|precision|tier/i, "hit-ratio")},
  {id: "prd", plugin: "prd", title: "PRD memo reuse", unit: "",
   hint: "How often a decomposition was answered from the memo table.",
   pick: pluginPanel("prd", /memo|reuse|hit/i, "memo")},
  {id: "evolve", plugin: "evolve", title: "Evolution: Pareto front", unit: "",
   hint: "The latest study's non-dominated set over its first two objectives.",
   custom: evolvePanel},
  {id: "testrun", plugin: "testrun", title: "Test-run makespan vs lower bound", unit: "s",
   hint: "Wall time of each recent run against max(total / workers, longest test).",
   custom: testrunPanel},
  {id: "space", plugin: "space", title: "Space: measured vs fitted", unit: "", wide: true,
   hint: "Measured peak space (points) against the fitted growth curves (lines), from the " +
     "last validation.",
   custom: spacePanel}
];
