// Models, Backends, Chat completions, Embeddings and Costs: views over the ledger's breakdowns
// and the dashboard API's model and worker lists.
import { chart, formatValue } from "./charts.js";
import { h, card, empty, table, f, exportBar, select, RANGES, gatewayURL } from "./ui.js";
import { budgetsCard } from "./pages-limits.js";

/** The range every catalog page shows when the URL names none: the selector and the queries
 * both read it from here, so what the selector says is what the page loads. */
export const DEFAULT_RANGE = "24h";

/** The range in force: the URL's `since`, else the default. */
export function currentRange(ctx) {
  return ctx.params.get("since") || DEFAULT_RANGE;
}

function rangeSelect(ctx, onchange) {
  return select("Time range", "since", RANGES, currentRange(ctx), (v) => { ctx.setParams({ since: v }); onchange(v); });
}

/** Cost per 1,000 tokens of a breakdown group, where it cost anything. */
function per1k(g) {
  const t = g.tokens.input + g.tokens.output;
  return t > 0 && g.cost > 0 ? (g.cost / t) * 1000 : null;
}

function median(values) {
  const v = values.filter((x) => x !== null && x !== undefined).sort((a, z) => a - z);
  return v.length ? v[Math.floor(v.length / 2)] : null;
}

/** Per model: streamed and non-streamed counts and medians, from request records. */
export function streamSplit(requests) {
  const by = new Map();
  for (const r of requests) {
    if (!r.model) continue;
    if (!by.has(r.model)) by.set(r.model, { s: [], n: [] });
    by.get(r.model)[r.stream ? "s" : "n"].push(r);
  }
  return [...by].map(([model, g]) => ({
    model, streamed: g.s.length, plain: g.n.length,
    ttft_p50: median(g.s.map((r) => r.ttft_ms)), stream_p50: median(g.s.map((r) => r.latency_ms)), plain_p50: median(g.n.map((r) => r.latency_ms)),
  })).sort((a, z) => z.streamed + z.plain - a.streamed - a.plain);
}

export const models = {
  path: "models",
  title: "Models",
  async render(main, ctx) {
    const { api } = ctx;
    const body = h("div");
    let last = null;
    main.append(h("h1", {}, "Models"), h("div", { class: "toolbar" }, rangeSelect(ctx, load)), body, exportBar(() => last, "sightglass-models"));
    async function load() {
      const since = currentRange(ctx);
      const [b, inventory, sample] = await Promise.all([api(`/api/analytics/breakdown?by=model&since=${since}`), api("/dashboard/models"),
        api(`/api/requests?limit=1000&since=${since}`)]);
      last = { breakdown: b, models: inventory };
      const groups = b.groups.filter((g) => g.key);
      body.replaceChildren();
      if (!groups.length) { body.append(empty(`No model traffic in this range. Send a request with "model" to ${gatewayURL()}/v1/chat/completions.`)); }
      else {
        const ranked = [...groups].sort((a, z) => (a.latency_ms.p95 ?? 1e12) - (z.latency_ms.p95 ?? 1e12));
        body.append(card("Comparison (ranked by p95 latency)", table(ranked, [
          { key: "key", label: "model" }, { key: "requests", label: "requests", num: true, fmt: f.int },
          { key: (g) => g.latency_ms.p50, label: "p50", num: true, fmt: f.ms }, { key: (g) => g.latency_ms.p95, label: "p95", num: true, fmt: f.ms },
          { key: (g) => g.ttft_ms.p50, label: "TTFT p50", num: true, fmt: f.ms }, { key: "tokens_per_second", label: "tokens/s", num: true, fmt: (v) => f.num(v) },
          { key: "error_rate", label: "error rate", num: true, fmt: f.pct }, { key: per1k, label: "$ / 1K tokens", num: true, fmt: f.usd },
          { key: "cost", label: "cost", num: true, fmt: f.usd }])));
        const grid = h("div", { class: "grid" });
        const lat = h("div"), tps = h("div");
        grid.append(h("section", { class: "card" }, lat), h("section", { class: "card" }, tps));
        body.append(grid);
        chart(lat, { title: "p95 latency by model", kind: "bar", unit: "ms" }).update({ series: [{ name: "p95", points: ranked.map((g) => [g.key, g.latency_ms.p95]) }] });
        chart(tps, { title: "Output tokens/s by model", kind: "bar", unit: "tok/s" }).update({ series: [{ name: "tokens/s", points: ranked.map((g) => [g.key, g.tokens_per_second]) }] });
        const split = streamSplit(sample.requests);
        if (split.length) {
          body.append(card(`Streamed vs not (the ${sample.requests.length.toLocaleString()} newest requests in range)`, table(split, [
            { key: "model", label: "model" }, { key: "streamed", label: "streamed", num: true, fmt: f.int },
            { key: "ttft_p50", label: "TTFT p50 (streamed)", num: true, fmt: f.ms }, { key: "stream_p50", label: "latency p50 (streamed)", num: true, fmt: f.ms },
            { key: "plain", label: "not streamed", num: true, fmt: f.int }, { key: "plain_p50", label: "latency p50 (not streamed)", num: true, fmt: f.ms }])));
        }
      }
      body.append(card("Served by the backends", table(inventory.models, [
        { key: "id", label: "model" }, { key: "backend", label: "backend" }, { key: "status", label: "status" },
        { key: "format", label: "format" }, { key: (m) => m.metadata.parameters, label: "parameters" }, { key: (m) => m.metadata.quantization, label: "quantization" },
        { key: "size_bytes", label: "size", num: true, fmt: (v) => (v ? formatValue(v, "B") : "–") },
        { key: (m) => m.performance.total_requests, label: "requests (since start)", num: true, fmt: f.int }])));
    }
    await load();
    this.poll = load;
  },
};

export const backends = {
  path: "backends",
  title: "Backends",
  async render(main, ctx) {
    const { api } = ctx;
    const body = h("div");
    let last = null;
    main.append(h("h1", {}, "Backends"), body, exportBar(() => last, "sightglass-backends"));
    async function load() {
      const [workers, health] = await Promise.all([api("/dashboard/workers"), api("/dashboard/health")]);
      last = { workers, health };
      const ws = workers.workers;
      body.replaceChildren(ws.length ? card("Backends", table(ws, [
        { key: "id", label: "backend" }, { key: "address", label: "address" },
        { key: "status", label: "status", fmt: (v) => h("span", { class: v === "active" ? "ok" : v === "down" ? "bad" : "muted" }, v) },
        { key: (w) => w.current_load.active_requests, label: "in flight", num: true },
        { key: (w) => w.current_load.average_latency_ms, label: "avg latency", num: true, fmt: f.ms },
        { key: (w) => w.current_load.total_requests, label: "requests", num: true, fmt: f.int },
        { key: (w) => w.current_load.error_rate, label: "error rate", num: true, fmt: f.pct },
        { key: "health_check_latency_ms", label: "health check", num: true, fmt: f.ms },
        { key: "last_heartbeat", label: "last check", fmt: f.time },
        { key: (w) => w.models_loaded.join(", "), label: "models" },
        { key: "last_error", label: "last error" }])) : empty("No backends configured: start with --backend name=http://host:port."),
      card("What the gateway reports", table([workers.cluster_stats], [
        { key: "current_usage", label: "in flight", num: true }, { key: "pending_requests", label: "queued", num: true },
        { key: "total_capacity", label: "concurrency limit", num: true, fmt: (v) => v ?? "none" }])),
      card("Health by component", h("pre", {}, JSON.stringify(health.components.model_backends.backends, null, 2))));
    }
    await load();
    this.poll = load;
  },
};

/** One page per API family: the routes whose names match, from the ledger's per-route data. */
function routePage(path, title, test, unitNote) {
  return {
    path, title,
    async render(main, ctx) {
      const { api } = ctx;
      const body = h("div");
      let last = null;
      main.append(h("h1", {}, title), h("div", { class: "toolbar" }, rangeSelect(ctx, load)), body, exportBar(() => last, "sightglass-" + path));
      async function load() {
        const since = currentRange(ctx);
        const interval = since.endsWith("d") ? "1h" : "1m";
        const [b, ts, lat] = await Promise.all([
          api(`/api/analytics/breakdown?by=route&since=${since}`),
          api(`/api/analytics/timeseries?metric=requests&interval=${interval}&group_by=route&since=${since}`),
          api(`/api/analytics/timeseries?metric=latency_p95&interval=${interval}&group_by=route&since=${since}`)]);
        const groups = b.groups.filter((g) => test(g.key));
        last = { breakdown: groups, requests: ts, latency_p95: lat };
        body.replaceChildren();
        if (!groups.length) { body.append(empty(`No ${title.toLowerCase()} traffic in this range. ${unitNote} ${gatewayURL()}`)); return; }
        body.append(card("By endpoint", table(groups, [
          { key: "key", label: "endpoint" }, { key: "requests", label: "requests", num: true, fmt: f.int },
          { key: (g) => g.latency_ms.p50, label: "p50", num: true, fmt: f.ms }, { key: (g) => g.latency_ms.p95, label: "p95", num: true, fmt: f.ms },
          { key: (g) => g.ttft_ms.p50, label: "TTFT p50", num: true, fmt: f.ms }, { key: (g) => g.tokens.input, label: "tokens in", num: true, fmt: f.int },
          { key: (g) => g.tokens.output, label: "tokens out", num: true, fmt: f.int }, { key: "tokens_per_second", label: "tokens/s", num: true, fmt: (v) => f.num(v) },
          { key: "error_rate", label: "error rate", num: true, fmt: f.pct }, { key: "cost", label: "cost", num: true, fmt: f.usd }])));
        const grid = h("div", { class: "grid" });
        const a = h("div"), c = h("div");
        grid.append(h("section", { class: "card" }, a), h("section", { class: "card" }, c));
        body.append(grid);
        const pts = (r) => r.series.filter((s) => test(s.group)).map((s) => ({ name: s.group, points: s.points.map((p) => [Date.parse(p.timestamp), p.value]) }));
        chart(a, { title: `Requests per ${interval === "1h" ? "hour" : "minute"}`, kind: "area" }).update({ series: pts(ts) });
        chart(c, { title: "p95 latency", unit: "ms" }).update({ series: pts(lat) });
      }
      await load();
      this.poll = load;
    },
  };
}

export const chat = routePage("chat", "Chat completions", (r) => /chat|completions|generate/.test(r || ""), "Send a chat completion to");
export const embeddings = routePage("embeddings", "Embeddings", (r) => /embed/.test(r || ""), "Send an embeddings request to");

export const costs = {
  path: "costs",
  title: "Costs",
  async render(main, ctx) {
    const { api } = ctx;
    const body = h("div");
    let last = null;
    main.append(h("h1", {}, "Costs"), h("div", { class: "toolbar" }, rangeSelect(ctx, load)), body, exportBar(() => last, "sightglass-costs"));
    async function load() {
      const since = currentRange(ctx);
      const now = new Date();
      const monthStart = new Date(now.getFullYear(), now.getMonth(), 1);
      const daysInMonth = new Date(now.getFullYear(), now.getMonth() + 1, 0).getDate();
      const [byModel, byBackend, byRoute, month, series] = await Promise.all([
        api(`/api/analytics/breakdown?by=model&since=${since}`), api(`/api/analytics/breakdown?by=backend&since=${since}`),
        api(`/api/analytics/breakdown?by=route&since=${since}`), api(`/api/analytics/breakdown?by=model&since=${encodeURIComponent(monthStart.toISOString())}`),
        api(`/api/analytics/timeseries?metric=cost&interval=${since.endsWith("d") ? "1d" : "1h"}&group_by=model&since=${since}`)]);
      last = { byModel, byBackend, byRoute, month, series };
      const elapsedDays = Math.max((now - monthStart) / 86400000, 1 / 24);
      const monthCost = month.total.cost;
      const projection = (monthCost / elapsedDays) * daysInMonth;
      body.replaceChildren(
        h("div", { class: "status-bar" },
          h("div", { class: "stat" }, h("div", { class: "label" }, "In range"), h("div", { class: "value" }, formatValue(byModel.total.cost, "$"))),
          h("div", { class: "stat", title: "Priced from token counts Sightglass estimated because the backend reported no usage" },
            h("div", { class: "label" }, "Of which estimated"), h("div", { class: "value", "data-estimated-cost": "" }, formatValue(byModel.total.estimated_cost, "$"))),
          h("div", { class: "stat" }, h("div", { class: "label" }, "This month so far"), h("div", { class: "value" }, formatValue(monthCost, "$"))),
          h("div", { class: "stat" }, h("div", { class: "label" }, "Month projection (at this month's daily rate)"), h("div", { class: "value" }, formatValue(projection, "$")))),
        byModel.total.cost === 0 ? empty("No cost recorded: prices come from the `pricing:` section of the config (USD per million tokens); local models cost 0.") : "");
      const grid = h("div", { class: "grid" });
      const line = h("div");
      grid.append(h("section", { class: "card wide" }, line));
      for (const [title, b] of [["By model", byModel], ["By backend", byBackend], ["By route", byRoute]]) {
        grid.append(card(title, table(b.groups.filter((g) => g.key).sort((a, z) => z.cost - a.cost), [
          { key: "key", label: title.slice(3) }, { key: "cost", label: "cost", num: true, fmt: f.usd },
          { key: "estimated_cost", label: "of which estimated", num: true, fmt: f.usd },
          { key: (g) => g.tokens.input + g.tokens.output, label: "tokens", num: true, fmt: f.int }, { key: per1k, label: "$ / 1K tokens", num: true, fmt: f.usd }])));
      }
      body.append(grid);
      const [limits, alerts] = await Promise.all([api("/metrics/rate-limits"), api("/dashboard/alerts")]);
      last.budgets = limits.scopes.filter((s) => s.budget);
      grid.append(budgetsCard(limits, alerts));
      chart(line, { title: "Cost over time", kind: "area", unit: "$" }).update({
        series: series.series.map((s) => ({ name: s.group, points: s.points.map((p) => [Date.parse(p.timestamp), p.value]) })),
      });
    }
    await load();
    this.poll = load;
  },
};
