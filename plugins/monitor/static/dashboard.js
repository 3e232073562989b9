/* The live dashboard: polls /api/monitor/current and /api/monitor/history, keeps a window
   of samples and draws each panel of PANELS (panels.js) with uPlot. No build step.
   window.catalyticDashboard exposes the state (charts drawn, points, reachability). */
"use strict";
(function () {
  var PALETTE = ["#2958d6", "#d1495b", "#2a9d8f", "#e9a03b", "#7b2cbf", "#4d908e",
                 "#bc6c25", "#577590", "#f94144", "#90be6d"];
  var state = {t: [], series: {}, lastTs: 0, current: null, paused: false, refresh: 2,
               window: 300, charts: {}, reachable: null, updates: 0, failures: 0,
               lastError: "", timer: null};
  window.catalyticDashboard = state;
  var panelsEl = document.getElementById("panels");
  var statusEl = document.getElementById("status");
  var bannerEl = document.getElementById("unreachable");

  function getJSON(url) {
    return fetch(url, {cache: "no-store"}).then(function (r) {
      if (r.status === 401) {
        throw new Error("this page has no token for the daemon's /api: open it with " +
                        "`catalytic dashboard`, which passes the token once");
      }
      if (!r.ok) { throw new Error(url + " answered HTTP " + r.status); }
      return r.json();
    });
  }

  function merge(cols) {
    var n0 = state.t.length, add = cols.t.length;
    if (!add) { return; }
    Object.keys(cols.series).forEach(function (name) {
      if (!state.series[name]) { state.series[name] = new Array(n0).fill(null); }
    });
    Object.keys(state.series).forEach(function (name) {
      var incoming = cols.series[name];
      for (var i = 0; i < add; i++) { state.series[name].push(incoming ? incoming[i] : null); }
    });
    state.t = state.t.concat(cols.t);
    state.lastTs = cols.t[add - 1];
    var cutoff = state.lastTs - state.window, cut = 0;
    while (cut < state.t.length && state.t[cut] < cutoff) { cut++; }
    if (cut) {
      state.t = state.t.slice(cut);
      Object.keys(state.series).forEach(function (name) {
        state.series[name] = state.series[name].slice(cut);
      });
    }
  }

  function fmt(v) {
    if (v === null || v === undefined || !isFinite(v)) { return "–"; }
    var a = Math.abs(v);
    return a >= 1000 ? v.toFixed(0) : a >= 10 ? v.toFixed(1) : a >= 0.01 ? v.toFixed(2)
      : v === 0 ? "0" : v.toExponential(1);
  }

  function ensurePanel(id, title, hint, wide) {
    var el = document.getElementById("panel-" + id);
    if (el) { return el; }
    el = document.createElement("section");
    el.className = "panel" + (wide ? " wide" : "");
    el.id = "panel-" + id;
    el.tabIndex = 0;
    el.setAttribute("aria-labelledby", "title-" + id);
    el.innerHTML = '<h2 id="title-' + id + '"></h2><p class="hint"></p>' +
      '<div class="chart" role="img"></div><div class="empty" hidden></div>' +
      '<p class="caption" aria-live="off"></p>';
    el.querySelector("h2").textContent = title;
    el.querySelector(".hint").textContent = hint || "";
    panelsEl.appendChild(el);
    return el;
  }

  function showEmpty(id, el, message) {
    if (state.charts[id]) { state.charts[id].plot.destroy(); delete state.charts[id]; }
    el.querySelector(".chart").hidden = true;
    var empty = el.querySelector(".empty");
    empty.hidden = false;
    empty.textContent = message;
    el.querySelector(".caption").textContent = "";
    el.dataset.state = "empty";
  }

  function draw(id, el, spec, xs, cols, points) {
    /* cols: [{label, values, scale}] aligned with xs. */
    var chartEl = el.querySelector(".chart");
    chartEl.hidden = false;
    el.querySelector(".empty").hidden = true;
    var data = [xs].concat(cols.map(function (c) { return c.values; }));
    var key = (points ? "xy:" : spec.xy ? "xl:" : "ts:") +
      cols.map(function (c) { return c.label; }).join("|");
    var chart = state.charts[id];
    if (chart && chart.key !== key) { chart.plot.destroy(); chart = null; }
    var width = Math.max(300, chartEl.clientWidth || el.clientWidth - 24);
    if (!chart) {
      var series = [{label: points || spec.xy ? spec.xLabel || "x" : "time"}].concat(cols.map(
        function (c, i) {
          var s = {label: c.label, stroke: PALETTE[i % PALETTE.length], width: 1.5,
                   spanGaps: true, value: function (u, v) { return fmt(v); }};
          if (points) { s.paths = function () { return null; }; s.points = {show: true, size: 7}; }
          return s;
        }));
      var opts = {width: width, height: 220, series: series,
                  scales: {x: {time: !(points || spec.xy)}}, legend: {live: true},
                  axes: [{}, {label: spec.unit || "", size: 56,
                              values: function (u, vals) { return vals.map(fmt); }}]};
      chartEl.innerHTML = "";
      chart = state.charts[id] = {plot: new uPlot(opts, data, chartEl), key: key};
    } else {
      chart.plot.setData(data);
    }
    var count = 0;
    cols.forEach(function (c) {
      c.values.forEach(function (v) { if (v !== null && isFinite(v)) { count++; } });
    });
    chart.points = count;
    chart.title = spec.title;
    chartEl.setAttribute("aria-label", spec.title + ": " + count + " data points");
    el.querySelector(".caption").textContent = cols.map(function (c) {
      var v = null;
      for (var i = c.values.length - 1; i >= 0 && v === null; i--) { v = c.values[i]; }
      return c.label + " " + fmt(v) + (spec.unit && spec.unit !== "/s" ? " " + spec.unit : "");
    }).join(" · ");
    el.dataset.state = count ? "drawn" : "nodata";
  }

  function renderPanel(spec, names, latest, plugins) {
    var el = ensurePanel(spec.id, spec.title, spec.hint, spec.wide);
    if (spec.plugin && !(spec.plugin in plugins)) {
      showEmpty(spec.id, el, "The " + spec.plugin + " plugin is not running in this daemon, " +
        "so there is nothing to show here (enable it in daemon.plugins).");
      return;
    }
    if (spec.custom) { spec.custom(api, spec, el, plugins, state.current || {}); return; }
    drawPicked(spec, el, spec.pick(names, latest));
  }

  function drawPicked(spec, el, pick) {
    var chosen = pick.series.filter(function (s) { return state.series[s.name]; });
    if (!chosen.length) {
      showEmpty(spec.id, el, spec.plugin ? "The " + spec.plugin +
        " plugin has published no figures yet." : "No figures yet; the first samples arrive " +
        "within a few seconds.");
      return;
    }
    var shown = pick.unit === undefined ? spec : {title: spec.title, unit: pick.unit};
    draw(spec.id, el, shown, state.t, chosen.map(function (s) {
      var scale = s.scale || 1;
      return {label: s.label, values: state.series[s.name].map(function (v) {
        return v === null ? null : v * scale;
      })};
    }), false);
    el.querySelector(".hint").textContent = pick.note || spec.hint;
  }

  /* What custom panels (custom_panels.js) may use. */
  var api = {state: state, draw: draw, showEmpty: showEmpty, drawPicked: drawPicked,
             getJSON: getJSON, fmt: fmt};

  function renderPublished(plugins) {
    /* Plugins may publish ready-made x/y charts in stats()["charts"]. */
    Object.keys(plugins).sort().forEach(function (pname) {
      var charts = plugins[pname] && plugins[pname].charts;
      if (!charts || typeof charts !== "object") { return; }
      Object.keys(charts).sort().forEach(function (cname) {
        var c = charts[cname];
        if (!c || !Array.isArray(c.x) || !c.series) { return; }
        var id = "pub-" + pname + "-" + cname.replace(/[^A-Za-z0-9_-]/g, "_");
        var spec = {title: c.title || pname + ": " + cname, unit: c.unit || "", xy: true,
                    xLabel: c.x_label || "x", hint: c.hint || "Published by " + pname + "."};
        var el = ensurePanel(id, spec.title, spec.hint);
        var order = c.x.map(function (_, i) { return i; });
        order.sort(function (a, b) { return c.x[a] - c.x[b]; });
        var xs = order.map(function (i) { return c.x[i]; });
        var cols = Object.keys(c.series).map(function (label) {
          return {label: label, values: order.map(function (i) {
            var v = c.series[label][i];
            return v === undefined ? null : v;
          })};
        });
        if (!xs.length || !cols.length) { showEmpty(id, el, "No points yet."); return; }
        draw(id, el, spec, xs, cols, c.kind === "points");
      });
    });
  }

  function render() {
    var cur = state.current;
    var latest = cur && cur.sample ? cur.sample.values : {};
    var plugins = (cur && cur.plugins) || {};
    var names = Object.keys(state.series);
    PANELS.forEach(function (spec) { renderPanel(spec, names, latest, plugins); });
    renderPublished(plugins);
  }

  function setReachable(ok, detail) {
    state.reachable = ok;
    bannerEl.hidden = ok;
    document.body.classList.toggle("stale", !ok);
    statusEl.className = "status " + (ok ? "ok" : "bad");
    if (!ok) {
      statusEl.textContent = "daemon unreachable — retrying every " + state.refresh + " s";
      document.getElementById("unreachable-detail").textContent = detail;
      return;
    }
    var cur = state.current || {};
    var up = cur.uptime_s ? Math.round(cur.uptime_s) : 0;
    var health = cur.health && !cur.health.ok ? " · problems: " + cur.health.problems.join("; ")
      : " · healthy";
    statusEl.textContent = "connected · catalyticd " + (cur.version || "?") + " · up " +
      Math.floor(up / 60) + " min " + (up % 60) + " s" + health + " · updated " +
      new Date().toLocaleTimeString();
  }

  function tick() {
    if (state.paused) { schedule(); return; }
    var limit = Math.ceil(state.window / ((state.current && state.current.interval_s) || 1)) + 5;
    var since = state.lastTs || (Date.now() / 1000 - state.window);
    Promise.all([getJSON("/api/monitor/current"),
                 getJSON("/api/monitor/history?since=" + since + "&limit=" + limit)])
      .then(function (res) {
        state.current = res[0];
        merge(res[1]);
        state.updates++;
        setReachable(true, "");
        render();
      }, function (err) {
        state.failures++;
        state.lastError = String(err);
        setReachable(false, "Last attempt: " + String(err.message || err) + " at " +
          new Date().toLocaleTimeString() + ".");
      })
      .then(schedule);
  }

  function schedule() {
    clearTimeout(state.timer);
    state.timer = setTimeout(tick, state.refresh * 1000);
  }

  var pauseBtn = document.getElementById("pause");
  function togglePause() {
    state.paused = !state.paused;
    pauseBtn.setAttribute("aria-pressed", String(state.paused));
    pauseBtn.textContent = state.paused ? "Resume" : "Pause";
  }
  pauseBtn.addEventListener("click", togglePause);
  document.addEventListener("keydown", function (e) {
    if (e.key === "p" && !/SELECT|INPUT|TEXTAREA/.test(document.activeElement.tagName)) {
      togglePause();
    }
  });
  document.getElementById("refresh").addEventListener("change", function (e) {
    state.refresh = Number(e.target.value);
    schedule();
  });
  document.getElementById("window").addEventListener("change", function (e) {
    state.window = Number(e.target.value);
    state.t = []; state.series = {}; state.lastTs = 0;
    tick();
  });
  window.addEventListener("resize", function () {
    Object.keys(state.charts).forEach(function (id) {
      var el = document.querySelector("#panel-" + id + " .chart");
      if (el) { state.charts[id].plot.setSize({width: Math.max(300, el.clientWidth), height: 220}); }
    });
  });
  fetch("/api/monitor/current", {cache: "no-store"}).then(function (r) { return r.json(); })
    .then(function (cur) { state.refresh = cur.refresh_s || 2; }, function () {})
    .then(tick);
}());
