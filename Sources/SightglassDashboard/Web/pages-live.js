// Overview and Requests: the live pages.
import { chart, formatValue } from "./charts.js";
import { h, card, empty, tile, setTile, table, f, download, exportBar, select, RANGES, gatewayURL } from "./ui.js";

const POINTS = 600; // ten minutes of one-second snapshots per live chart

function series(name, points) { return { name, points }; }

/** Minute points from the ledger for the last 30 minutes, as [ms, value]. */
async function ledgerSeries(api, metric, scale = 1) {
  try {
    const r = await api(`/api/analytics/timeseries?metric=${metric}&interval=1m&since=30m`);
    const s = (r.series || [])[0];
    return s ? s.points.map((p) => [Date.parse(p.timestamp), p.value === null ? null : p.value * scale]) : [];
  } catch { return []; }
}

const BUCKETS_MS = [5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000, 30000];

/** Counts per latency bucket (upper bounds in ms, the last open-ended), labelled for the axis. */
export function latencyHistogram(latencies) {
  const counts = new Array(BUCKETS_MS.length + 1).fill(0);
  for (const v of latencies) {
    if (v === null || v === undefined) continue;
    const i = BUCKETS_MS.findIndex((b) => v <= b);
    counts[i === -1 ? BUCKETS_MS.length : i]++;
  }
  const label = (ms) => (ms >= 1000 ? ms / 1000 + " s" : ms + " ms");
  return counts.map((c, i) => [i < BUCKETS_MS.length ? "≤" + label(BUCKETS_MS[i]) : ">" + label(BUCKETS_MS[BUCKETS_MS.length - 1]), c]);
}

function midnightISO() {
  const d = new Date();
  d.setHours(0, 0, 0, 0);
  return d.toISOString();
}

export const overview = {
  path: "overview",
  title: "Overview",
  async render(main, ctx) {
    const { api } = ctx;
    const tiles = h("div", { class: "status-bar" },
      tile("Health", "…", null, "health"), tile("Requests/s", "–", null, "rps"), tile("Avg latency", "–", null, "avg"),
      tile("p95 latency", "–", null, "p95"), tile("Errors", "–", null, "err"), tile("Active streams", "–", null, "streams"),
      tile("Tokens/s", "–", null, "tps"), tile("Cost today", "–", null, "cost"));
    const hint = h("div");
    const boxes = { traffic: h("div"), latency: h("div"), ttft: h("div"), tokens: h("div"), errors: h("div"), distribution: h("div") };
    const charts = {
      traffic: chart(boxes.traffic, { title: "Traffic (requests/s)", unit: "req/s" }),
      latency: chart(boxes.latency, { title: "Latency percentiles", unit: "ms" }),
      ttft: chart(boxes.ttft, { title: "Time to first token", unit: "ms" }),
      tokens: chart(boxes.tokens, { title: "Output tokens/s", unit: "tok/s" }),
      errors: chart(boxes.errors, { title: "Errors by type (in the window)", kind: "area" }),
      distribution: chart(boxes.distribution, { title: "Latency distribution (last 1,000 requests, last hour)", kind: "histogram" }),
    };
    let last = null;
    main.append(h("h1", {}, "Overview"), tiles, hint,
      h("div", { class: "grid" }, ...Object.values(boxes).map((b) => h("section", { class: "card" }, b))),
      exportBar(() => last, "sightglass-overview"));

    const data = { rps: [], p50: [], p95: [], p99: [], t50: [], t95: [], tps: [], errors: new Map() };
    // The last half hour from the ledger's minute rollups, then one point per live snapshot.
    const [req, l50, l95, l99, tt50, tt95, tok] = await Promise.all([
      ledgerSeries(api, "requests", 1 / 60), ledgerSeries(api, "latency_p50"), ledgerSeries(api, "latency_p95"), ledgerSeries(api, "latency_p99"),
      ledgerSeries(api, "ttft_p50"), ledgerSeries(api, "ttft_p95"), ledgerSeries(api, "tokens_per_second")]);
    Object.assign(data, { rps: req, p50: l50, p95: l95, p99: l99, t50: tt50, t95: tt95, tps: tok });

    function draw() {
      charts.traffic.update({ series: [series("requests/s", data.rps)] });
      charts.latency.update({ series: [series("p50", data.p50), series("p95", data.p95), series("p99", data.p99)] });
      charts.ttft.update({ series: [series("p50", data.t50), series("p95", data.t95)] });
      charts.tokens.update({ series: [series("tokens/s", data.tps)] });
      charts.errors.update({ series: [...data.errors].map(([name, pts]) => series(name, pts)) });
    }

    function push(arr, t, v) { arr.push([t, v]); if (arr.length > POINTS) arr.shift(); }

    function onMetrics(m) {
      last = m;
      const t = Date.parse(m.timestamp);
      const x = m.metrics;
      push(data.rps, t, x.requests.rate_per_second);
      push(data.p50, t, x.latency.p50_ms);
      push(data.p95, t, x.latency.p95_ms);
      push(data.p99, t, x.latency.p99_ms);
      push(data.t50, t, x.ttft.p50_ms);
      push(data.t95, t, x.ttft.p95_ms);
      push(data.tps, t, x.throughput.tokens_per_second);
      const types = new Set([...data.errors.keys(), ...Object.keys(x.errors.types)]);
      for (const ty of types) {
        if (!data.errors.has(ty)) data.errors.set(ty, []);
        push(data.errors.get(ty), t, x.errors.types[ty] || 0);
      }
      setTile(tiles, "rps", formatValue(x.requests.rate_per_second, ""));
      setTile(tiles, "avg", formatValue(x.latency.average_ms, "ms"));
      setTile(tiles, "p95", formatValue(x.latency.p95_ms, "ms"));
      setTile(tiles, "err", x.requests.success_rate === null ? "–" : formatValue((1 - x.requests.success_rate) * 100, "%"));
      setTile(tiles, "tps", formatValue(x.throughput.tokens_per_second, ""));
      hint.replaceChildren(x.requests.total === 0
        ? empty(`No traffic yet: point your client at ${gatewayURL()}/v1 (OpenAI) or ${gatewayURL()}/api (Ollama).`) : "");
      draw();
    }

    function onStats(s) {
      setTile(tiles, "streams", String(s.inference.active_streams));
    }

    async function refreshSlow() {
      const [health, cost, recent] = await Promise.all([
        api("/dashboard/health").catch(() => null),
        api(`/api/analytics/breakdown?by=model&since=${encodeURIComponent(midnightISO())}`).catch(() => null),
        api("/api/requests?limit=1000&since=1h").catch(() => null)]);
      if (recent) charts.distribution.update({ series: [{ name: "requests", points: latencyHistogram(recent.requests.map((r) => r.latency_ms)) }] });
      if (health) {
        setTile(tiles, "health", health.status);
        tiles.querySelector('[data-stat="health"]').className = "value " + (health.status === "healthy" ? "ok" : health.status === "degraded" ? "warn" : "bad");
      }
      setTile(tiles, "cost", cost && cost.total ? formatValue(cost.total.cost, "$") : "–");
    }

    const [metrics, stats] = await Promise.all([api("/dashboard/metrics"), api("/dashboard/stats")]);
    onMetrics({ timestamp: metrics.timestamp, metrics: metrics.metrics });
    onStats(stats);
    await refreshSlow();
    ctx.subscribe("metrics", (m) => onMetrics({ timestamp: m.timestamp, metrics: m.data.metrics }));
    ctx.subscribe("stats", (m) => onStats(m.data));
    const slow = setInterval(refreshSlow, 30000);
    ctx.onCleanup(() => clearInterval(slow));
    this.poll = async () => {
      const [m, s] = await Promise.all([api("/dashboard/metrics"), api("/dashboard/stats")]);
      onMetrics({ timestamp: m.timestamp, metrics: m.metrics });
      onStats(s);
    };
  },
};

// ---- Requests ---------------------------------------------------------------------------

const ROW = 30;
const FILTERS = ["since", "model", "backend", "route", "status", "user"];

/** A virtualized list: only the rows in view exist in the DOM, so 10,000 rows stay smooth. */
function virtualTable(onOpen) {
  const box = h("div", { class: "vtable", role: "table", "aria-label": "Requests", tabindex: "0" });
  const head = h("div", { class: "row head", role: "row" },
    ...["time", "id", "route", "model", "status", "latency", "TTFT", "tokens"].map((t, i) => h("span", { role: "columnheader", class: i > 3 && i !== 4 ? "opt" : null }, t)));
  const rows = h("div", { class: "rows", role: "rowgroup" });
  box.append(head, rows);
  let items = [];
  let fresh = new Set();
  function render() {
    rows.style.height = items.length * ROW + "px";
    const top = Math.max(0, Math.floor((box.scrollTop - ROW) / ROW));
    const count = Math.ceil(box.clientHeight / ROW) + 2;
    rows.replaceChildren(...items.slice(top, top + count).map((r, i) => {
      const status = h("span", { class: r.status >= 500 ? "bad" : r.status >= 400 ? "warn" : "ok" }, r.status);
      const row = h("div", { class: "row" + (fresh.has(r.id) ? " new" : ""), role: "row", tabindex: "0", "data-id": r.id,
        onclick: () => onOpen(r), onkeydown: (e) => { if (e.key === "Enter") onOpen(r); } },
        h("span", { class: "mono" }, new Date(r.timestamp).toLocaleTimeString()), h("span", { class: "mono" }, r.id.slice(-10)),
        h("span", {}, r.route), h("span", { class: "opt" }, r.model ?? "–"), status,
        h("span", { class: "opt" }, f.ms(r.latency_ms)), h("span", { class: "opt" }, f.ms(r.ttft_ms)),
        h("span", { class: "opt" }, r.tokens ? r.tokens.total : "–"));
      row.style.top = (top + i) * ROW + "px";
      return row;
    }));
  }
  box.addEventListener("scroll", () => requestAnimationFrame(render));
  return {
    el: box,
    set(list) { items = list; fresh = new Set(); render(); },
    prepend(list) { items = list.concat(items).slice(0, 10000); fresh = new Set(list.map((r) => r.id)); render(); },
    get items() { return items; },
  };
}

function matches(r, p) {
  if (p.get("model") && r.model !== p.get("model")) return false;
  if (p.get("backend") && r.backend !== p.get("backend")) return false;
  if (p.get("route") && r.route !== p.get("route")) return false;
  if (p.get("user") && r.user !== p.get("user")) return false;
  const s = p.get("status");
  if (s && (/^\dxx$/.test(s) ? Math.floor(r.status / 100) !== +s[0] : String(r.status) !== s)) return false;
  return true;
}

export async function showRequest(api, id) {
  const r = await api(`/api/requests/${encodeURIComponent(id)}`);
  const dialog = h("dialog", { "aria-label": "Request " + id });
  const total = r.latency_ms || 1;
  const phases = (r.phases || []).map((p) => {
    const fill = h("div", { class: "bar-fill" });
    fill.style.left = (p.start_ms / total) * 100 + "%";
    fill.style.width = (p.duration_ms / total) * 100 + "%";
    return h("div", { class: "bar-row" }, h("span", {}, p.name.replace("_", " ")), h("div", { class: "bar-track" }, fill), h("span", { class: "num" }, f.ms(p.duration_ms)));
  });
  dialog.append(
    h("h2", {}, "Request ", h("span", { class: "mono" }, r.id)),
    h("p", { class: "muted" }, `${r.method} ${r.route} → ${r.backend ?? "no backend"} · ${r.model ?? "no model"} · status ${r.status}${r.stream ? " · streamed" : ""}${r.synthetic ? " · synthetic" : ""}`),
    h("h2", {}, "Timing"),
    h("div", { class: "waterfall" }, ...phases, h("div", { class: "bar-row" }, h("b", {}, "total"), h("span"), h("b", { class: "num" }, f.ms(r.latency_ms)))),
    h("p", { class: "muted" }, (r.queue_ms === null ? "No queue wait. " : "") + (r.connect_ms === null ? "A pooled upstream connection was reused (no connect)." : "")),
    table([r], [
      { key: (x) => x.tokens.input, label: "tokens in", num: true }, { key: (x) => x.tokens.output, label: "tokens out", num: true },
      { key: (x) => x.tokens.cached, label: "cached", num: true }, { key: (x) => (x.tokens.estimated ? "yes" : "no"), label: "estimated" },
      { key: (x) => x.cost, label: "cost", num: true, fmt: (v) => f.usd(v) + (r.cost_estimated ? " (estimated)" : "") },
      { key: "tokens_per_second", label: "tokens/s", num: true, fmt: (v) => f.num(v) },
      { key: "user", label: "user" }, { key: "client_ip", label: "client" }]),
    r.error_message ? h("p", { class: "bad" }, r.error_type + ": " + r.error_message) : "",
    h("h2", {}, "Bodies"),
    r.bodies_recorded ? h("div", {},
      h("h3", {}, "Request" + (r.bodies_truncated && r.bodies_truncated.request ? " (truncated)" : "")), h("pre", {}, r.request_body),
      h("h3", {}, "Response" + (r.bodies_truncated && r.bodies_truncated.response ? " (truncated)" : "")), h("pre", {}, r.response_body))
      : h("p", { class: "muted" }, "Bodies are not recorded (turn on ledger.bodies to keep them, capped and redacted)."),
    h("div", { class: "toolbar" }, h("button", { type: "button", onclick: () => { dialog.close(); dialog.remove(); } }, "Close")));
  document.body.appendChild(dialog);
  dialog.addEventListener("close", () => dialog.remove());
  dialog.showModal();
}

export const requests = {
  path: "requests",
  title: "Requests",
  async render(main, ctx) {
    const { api } = ctx;
    const p = ctx.params;
    const list = virtualTable((r) => showRequest(api, r.id).catch((e) => alert(e.message)));
    const count = h("span", { class: "muted" });
    const inputs = {};
    function field(name, label, placeholder) {
      const i = h("input", { name, value: p.get(name) || "", placeholder, "aria-label": label, size: 14 });
      i.addEventListener("change", apply);
      i.addEventListener("keydown", (e) => { if (e.key === "Enter") { e.preventDefault(); apply(); } });
      inputs[name] = i;
      return h("label", {}, label, i);
    }
    const since = select("Time range", "since", RANGES, p.get("since") || "1h", (v) => { inputs.since = { value: v }; apply(); });
    inputs.since = { value: p.get("since") || "1h" };
    const toolbar = h("div", { class: "toolbar", role: "search" }, since, field("model", "Model", "any"), field("backend", "Backend", "any"),
      field("route", "Route", "/v1/chat/completions"), field("status", "Status", "200, 5xx"), field("user", "User", "any"),
      h("button", { type: "button", onclick: exportCSV }, "CSV of this view"), count);
    main.append(h("h1", {}, "Requests"), toolbar, list.el);

    function query(extra = {}) {
      const q = new URLSearchParams();
      for (const k of FILTERS) { const v = (inputs[k] && inputs[k].value || "").trim(); if (v) q.set(k, v); }
      for (const [k, v] of Object.entries(extra)) q.set(k, v);
      return q;
    }
    async function load() {
      const q = query({ limit: 1000 });
      let all = [];
      let cursor = null;
      // Up to 10 pages (10,000 rows), newest first.
      for (let i = 0; i < 10; i++) {
        if (cursor) q.set("cursor", cursor);
        const page = await api("/api/requests?" + q);
        all = all.concat(page.requests);
        cursor = page.next_cursor;
        list.set(all);
        count.textContent = `${all.length.toLocaleString()} requests${cursor ? "+" : ""}`;
        if (!cursor) break;
      }
      if (!all.length) main.querySelector(".vtable").after(empty(`No requests match. Send one through ${gatewayURL()}/v1/chat/completions and it appears here.`));
    }
    let applied = query().toString();
    async function apply() {
      const params = {};
      for (const k of FILTERS) params[k] = (inputs[k].value || "").trim();
      // Enter and the change that follows it on blur are one edit.
      if (query().toString() === applied) return;
      applied = query().toString();
      ctx.setParams(params);
      main.querySelectorAll(".empty").forEach((e) => e.remove());
      try { await load(); } catch (e) { count.textContent = e.message; }
    }
    function exportCSV() {
      window.location.href = "/api/requests/export?format=csv&" + query();
    }
    await load();
    ctx.subscribe("requests", (m) => {
      if (m.event !== "finished" || !matches(m.data, ctx.params)) return;
      list.prepend([m.data]);
      count.textContent = `${list.items.length.toLocaleString()} requests`;
    });
    this.poll = load;
  },
};
