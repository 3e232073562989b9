/* Panels that need more than a time series of sampled figures: the executor (with the Dask
   cluster), test-run makespans per run, the space plugin's figure and evolve's Pareto front.
   Each is called by dashboard.js as custom(api, spec, el, plugins, current) on every update;
   panels.js names them in PANELS. Loaded before panels.js. */
"use strict";

function setHint(el, text, link) {
  /* The hint line, with an optional external link (only http/https URLs are used). */
  var hint = el.querySelector(".hint");
  hint.textContent = text;
  if (link && /^https?:\/\//.test(link.href)) {
    var a = document.createElement("a");
    a.href = link.href;
    a.textContent = link.text;
    a.target = "_blank";
    a.rel = "noopener";
    hint.appendChild(document.createTextNode(" "));
    hint.appendChild(a);
  }
}

function executorPanel(api, spec, el, plugins, cur) {
  var ex = cur.executor || {};
  var dask = ex.backend === "dask";
  el.querySelector("h2").textContent = dask ? "Executor: Dask cluster" :
    "Executor: local process pool";
  var series = dask ? [
    {name: "executor.cluster_workers", label: "cluster workers"},
    {name: "executor.cluster_executing", label: "tasks executing (cluster)"},
    {name: "executor.running", label: "jobs in flight (this daemon)"}
  ] : [
    {name: "executor.running", label: "jobs in flight"},
    {name: "executor.workers", label: "pool workers"}
  ];
  api.drawPicked(spec, el, {series: series, unit: ""});
  if (!dask) {
    setHint(el, "Local pool of " + (ex.workers || "?") + " worker processes; " +
      (ex.completed || 0) + " jobs done, " + (ex.failed || 0) + " failed.");
    return;
  }
  var where = ex.address || "a LocalCluster";
  var text = ex.connected ?
    "Dask at " + where + ": " + ex.cluster_workers + " workers, " + ex.cluster_threads +
      " threads; " + (ex.completed || 0) + " jobs done, " + (ex.resubmitted || 0) +
      " resubmitted." :
    "Dask at " + where + " is DOWN: " + (ex.error || "not connected") +
      (ex.fallback_local ? " (running in the local pool meanwhile)." : ".");
  setHint(el, text, ex.dashboard ? {href: ex.dashboard, text: "Dask dashboard"} : null);
}

function testrunPanel(api, spec, el, plugins) {
  var runs = (plugins.testrun && plugins.testrun.recent_runs) || [];
  if (!runs.length) {
    api.showEmpty(spec.id, el, "The testrun plugin has published no figures yet: no run " +
      "since the daemon started (try `catalytic test`).");
    return;
  }
  var xs = runs.map(function (_, i) { return i + 1; });
  api.draw(spec.id, el, {title: spec.title, unit: "s", xLabel: "run", xy: true}, xs, [
    {label: "makespan", values: runs.map(function (r) { return r.makespan_s; })},
    {label: "lower bound", values: runs.map(function (r) { return r.lower_bound_s; })}
  ], false);
  var last = runs[runs.length - 1];
  setHint(el, "Run " + runs.length + " (" + last.root + "): " + last.tests + " tests on " +
    last.workers + (last.shards === "dask" ? " Dask shards" : " workers") + ", efficiency " +
    Math.round(100 * last.efficiency) + " % (lower bound / makespan).");
}

function spacePanel(api, spec, el, plugins) {
  var st = plugins.space || {};
  if (typeof st.sqrt_r2 !== "number") {
    api.showEmpty(spec.id, el, "The space plugin has published no figures yet: no " +
      "validation (try `catalytic space validate`).");
    el.dataset.svg = "";
    return;
  }
  var key = [st.validate_calls, st.sqrt_r2, st.tree_classical_r2, st.tree_cm_r2].join(":");
  if (el.dataset.svg === key) { return; }
  el.dataset.svg = key;
  var chartEl = el.querySelector(".chart");
  chartEl.hidden = false;
  el.querySelector(".empty").hidden = true;
  chartEl.innerHTML = "";
  var img = document.createElement("img");
  img.className = "figure";
  img.alt = "Measured peak space (points) against the fitted curves (lines)";
  img.onload = function () { el.dataset.state = "drawn"; };
  img.onerror = function () { el.dataset.state = "error"; };
  img.src = "/api/space/plot.svg?v=" + encodeURIComponent(key);
  chartEl.appendChild(img);
  api.getJSON("/api/space/summary").then(function (body) {
    var s = body.summary || {};
    el.querySelector(".caption").textContent = "R²: √n checkpoints " + api.fmt(s.sqrt_r2) +
      " · classical tree " + api.fmt(s.tree_classical_r2) + " · Cook–Mertz " +
      api.fmt(s.tree_cm_r2) + (s.crossover_L ? " · crossover at L = " + s.crossover_L : "");
  }, function () {});
}

function evolvePanel(api, spec, el) {
  var st = api.state;
  if (!st.evolveBusy) {
    st.evolveBusy = true;
    api.getJSON("/api/monitor/evolve").then(function (body) {
      drawEvolve(api, spec, el, body);
    }, function (err) {
      api.showEmpty(spec.id, el, "The evolve plugin's figures cannot be read: " + err.message);
    }).then(function () { st.evolveBusy = false; });
  }
}

function drawEvolve(api, spec, el, ev) {
  if (!ev || !ev.study) {
    api.showEmpty(spec.id, el, "The evolve plugin has published no figures yet: no study " +
      "(try `catalytic evolve run`).");
    return;
  }
  var objectives = ev.objectives || [];
  var front = (ev.front || []).slice().sort(function (a, b) { return a[0] - b[0]; });
  if (!front.length || objectives.length < 2) {
    api.showEmpty(spec.id, el, "The evolve plugin has published no figures yet for study " +
      ev.name + " (no two-objective Pareto front).");
    return;
  }
  api.draw(spec.id, el, {title: spec.title, unit: objectives[1], xLabel: objectives[0]},
    front.map(function (p) { return p[0]; }),
    [{label: objectives[1] + " (Pareto front)", values: front.map(function (p) { return p[1]; })}],
    true);
  setHint(el, "Study " + ev.name + " (" + ev.algorithm + ")" + (ev.running ? ", running" : "") +
    ": generation " + ev.generation + ", " + ev.evaluations + " evaluations, hypervolume " +
    api.fmt(ev.hypervolume) + ", best score " + api.fmt(ev.best_score) + ".");
}
