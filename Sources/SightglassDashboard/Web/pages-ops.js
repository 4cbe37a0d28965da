// Resources, Logs, Audit, Alerts and Config.
import { chart, formatValue } from "./charts.js";
import { h, card, empty, table, f, exportBar, select, meter, RANGES } from "./ui.js";

export const resources = {
  path: "resources",
  title: "Resources",
  async render(main, ctx) {
    const { api } = ctx;
    const body = h("div");
    let last = null;
    const cpuHistory = [];
    main.append(h("h1", {}, "Resources"), body, exportBar(() => last, "sightglass-resources"));
    const cpuBox = h("div");
    const cpuChart = chart(cpuBox, { title: "CPU (whole machine)", unit: "%" });
    async function load() {
      const r = await api("/dashboard/resources");
      last = r;
      cpuHistory.push([Date.parse(r.timestamp), r.cpu.usage_percent]);
      if (cpuHistory.length > 300) cpuHistory.shift();
      const m = r.memory;
      const gpu = r.gpu.available
        ? table(r.gpu.devices, [{ key: "id", label: "#" }, { key: "name", label: "GPU" }, { key: "utilization_percent", label: "util", num: true, fmt: (v) => formatValue(v, "%") },
          { key: "memory_used_mb", label: "memory used", num: true, fmt: (v) => formatValue(v, "") + " MB" }, { key: "memory_total_mb", label: "total", num: true, fmt: (v) => formatValue(v, "") + " MB" },
          { key: "temperature_celsius", label: "°C", num: true }, { key: "power_usage_watts", label: "W", num: true }, { key: "fan_speed_percent", label: "fan", num: true }])
        : h("p", { class: "muted" }, "No GPU: no NVIDIA driver was found on this machine.");
      body.replaceChildren(h("div", { class: "grid" },
        h("section", { class: "card wide" }, cpuBox),
        card(`CPU per core · ${r.cpu.cores} cores${r.cpu.frequency_mhz ? " · " + Math.round(r.cpu.frequency_mhz) + " MHz" : ""} · load ${r.cpu.load_average.join(" ")}`,
          h("div", { class: "bars" }, ...(r.cpu.per_core_usage.length ? r.cpu.per_core_usage.map((v, i) => meter("cpu" + i, v)) : [h("p", { class: "muted" }, "Per-core figures appear after the second sample.")]))),
        card("Memory", h("div", { class: "bars" }, meter("used", m.usage_percent, `${m.used_gb} / ${m.total_gb} GB`),
          meter("swap", m.swap_total_gb ? (m.swap_used_gb / m.swap_total_gb) * 100 : 0, `${m.swap_used_gb} / ${m.swap_total_gb} GB`)),
          h("p", { class: "muted" }, `available ${m.available_gb} GB · buffers ${m.buffers_gb} GB · cached ${m.cached_gb} GB`)),
        card("Disks", h("div", { class: "bars" }, ...r.disk.filesystems.map((d) => meter(d.mount, d.usage_percent, `${d.used_gb} / ${d.total_gb} GB`))),
          r.disk.io_stats ? h("p", { class: "muted" }, `read ${r.disk.io_stats.read_mb_per_second} MB/s (${r.disk.io_stats.reads_per_second}/s) · write ${r.disk.io_stats.write_mb_per_second} MB/s (${r.disk.io_stats.writes_per_second}/s)`) : ""),
        card("Network", table(r.network.interfaces, [{ key: "name", label: "interface" },
          { key: "receive_bytes_per_second", label: "in", num: true, fmt: (v) => formatValue(v, "B/s") }, { key: "send_bytes_per_second", label: "out", num: true, fmt: (v) => formatValue(v, "B/s") },
          { key: "bytes_received", label: "received", num: true, fmt: (v) => formatValue(v, "B") }, { key: "bytes_sent", label: "sent", num: true, fmt: (v) => formatValue(v, "B") },
          { key: "errors", label: "errors", num: true }, { key: "drops", label: "drops", num: true }]),
          h("p", { class: "muted" }, `TCP: ${r.network.connections.active} established · ${r.network.connections.time_wait} time-wait · ${r.network.connections.listening} listening`)),
        card("GPU", gpu),
        card("This process", table([r.process], [{ key: "pid", label: "pid" }, { key: "rss_mb", label: "RSS MB", num: true }, { key: "cpu_seconds", label: "CPU s", num: true },
          { key: "threads", label: "threads", num: true }, { key: "open_fds", label: "open fds", num: true }, { key: "uptime_seconds", label: "uptime s", num: true }]))));
      cpuChart.update({ series: [{ name: "cpu", points: cpuHistory }] });
    }
    await load();
    ctx.subscribe("stats", () => {});  // keeps the live connection's heartbeat; resources refresh below
    const timer = setInterval(() => load().catch(() => {}), 5000);
    ctx.onCleanup(() => clearInterval(timer));
    this.poll = load;
  },
};

const LEVELS = [["", "any level"], ["debug", "debug+"], ["info", "info+"], ["warn", "warn+"], ["error", "error+"]];

function logRow(e) {
  return { time: e.timestamp, level: e.level, component: e.component, message: e.message, metadata: Object.entries(e.metadata || {}).map(([k, v]) => `${k}=${v}`).join(" ") };
}

export const logs = {
  path: "logs",
  title: "Logs",
  async render(main, ctx) {
    const { api } = ctx;
    const body = h("div");
    let rows = [];
    const level = () => ctx.params.get("level") || "";
    const levels = ["trace", "debug", "info", "notice", "warn", "error", "critical"];
    main.append(h("h1", {}, "Logs"), h("div", { class: "toolbar" }, select("Level", "level", LEVELS, level(), (v) => { ctx.setParams({ level: v }); load(); })),
      body, exportBar(() => rows, "sightglass-logs"));
    function draw() {
      body.replaceChildren(rows.length ? table(rows, [{ key: "time", label: "time", fmt: f.time },
        { key: "level", label: "level", fmt: (v) => h("span", { class: v === "error" || v === "critical" ? "bad" : v === "warn" ? "warn" : "" }, v) },
        { key: "component", label: "component" }, { key: "message", label: "message" }, { key: "metadata", label: "details", fmt: (v) => h("span", { class: "mono" }, v) }])
        : empty("No log entries at this level yet."));
    }
    async function load() {
      const r = await api("/dashboard/logs?limit=500" + (level() ? "&level=" + level() : ""));
      rows = r.logs.map(logRow);
      draw();
    }
    await load();
    ctx.subscribe("logs", (m) => {
      if (level() && levels.indexOf(m.data.level) < levels.indexOf(level())) return;
      rows.unshift(logRow(m.data));
      rows = rows.slice(0, 500);
      draw();
    });
    this.poll = load;
  },
};

export const audit = {
  path: "audit",
  title: "Audit",
  async render(main, ctx) {
    const { api } = ctx;
    const body = h("div");
    let last = null;
    main.append(h("h1", {}, "Audit"), h("div", { class: "toolbar" }, select("Time range", "since", RANGES, ctx.params.get("since") || "7d", (v) => { ctx.setParams({ since: v }); load(); })),
      body, exportBar(() => last, "sightglass-audit"));
    async function load() {
      last = await api(`/dashboard/audit?limit=500&since=${ctx.params.get("since") || "7d"}`);
      body.replaceChildren(h("p", { class: "muted" }, `${last.filtered_count} of ${last.total_count} entries${last.persistent ? "" : " (kept in memory only: the ledger is off or unwritable)"}`),
        last.entries.length ? table(last.entries, [{ key: "timestamp", label: "time", fmt: f.time }, { key: "user", label: "user" }, { key: "action", label: "action" },
          { key: "resource", label: "resource" }, { key: "result", label: "result", fmt: (v) => h("span", { class: v === "success" ? "ok" : "bad" }, v) },
          { key: "source_ip", label: "from" }, { key: "details", label: "details", fmt: (v) => h("span", { class: "mono" }, JSON.stringify(v)) }])
          : empty("Nothing audited in this range."));
    }
    await load();
    this.poll = load;
  },
};

export const alerts = {
  path: "alerts",
  title: "Alerts",
  async render(main, ctx) {
    const { api } = ctx;
    const body = h("div");
    let last = null;
    main.append(h("h1", {}, "Alerts"), body, exportBar(() => last, "sightglass-alerts"));
    async function ack(id) {
      await api(`/dashboard/alerts/${encodeURIComponent(id)}/acknowledge`, { method: "POST" });
      await load();
    }
    async function load() {
      last = await api("/dashboard/alerts");
      body.replaceChildren(
        card("Active", last.active_alerts.length ? table(last.active_alerts, [{ key: "timestamp", label: "since", fmt: f.time },
          { key: "level", label: "level", fmt: (v) => h("span", { class: v === "critical" ? "bad" : "warn" }, v) }, { key: "title", label: "alert" }, { key: "message", label: "what" },
          { key: (a) => a.details.condition, label: "rule" },
          { key: (a) => a, label: "", fmt: (a) => a.acknowledged ? h("span", { class: "muted" }, "acknowledged by " + a.acknowledged_by)
            : h("button", { type: "button", onclick: () => ack(a.id).catch((e) => alert(e.message)) }, "Acknowledge") }]) : empty("No active alerts.")),
        card("Resolved", last.resolved_alerts.length ? table(last.resolved_alerts, [{ key: "timestamp", label: "fired", fmt: f.time }, { key: "resolved_at", label: "resolved", fmt: f.time },
          { key: "level", label: "level" }, { key: "title", label: "alert" }, { key: "resolution", label: "resolution" }]) : empty("Nothing resolved since the gateway started.")),
        card("Rules", table(last.alert_rules, [{ key: "name", label: "rule" }, { key: "condition", label: "condition" }, { key: "window_seconds", label: "window s", num: true },
          { key: "severity", label: "severity" }, { key: "enabled", label: "enabled", fmt: (v) => (v ? "yes" : "no") }])));
    }
    await load();
    ctx.subscribe("alerts", () => load().catch(() => {}));
    this.poll = load;
  },
};

export const config = {
  path: "config",
  title: "Config",
  async render(main, ctx) {
    const c = await ctx.api("/dashboard/config");
    main.append(h("h1", {}, "Configuration"), h("p", { class: "muted" }, "The effective configuration (defaults, file, environment and flags), secrets redacted. Read-only."),
      exportBar(() => c, "sightglass-config"), h("pre", {}, JSON.stringify(c, null, 2)));
  },
};
