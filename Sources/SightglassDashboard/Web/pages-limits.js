// Rate limits: every limit in force (keys, projects, models in projects, models and backends)
// with how full its windows are now, tiers and their members, refusals per minute over the last
// hour, who was refused and with which Retry-After, and abuse patterns. One source:
// /metrics/rate-limits, polled every two seconds.
import { chart } from "./charts.js";
import { h, card, empty, table, f, tile, exportBar, meter } from "./ui.js";

const DIMS = [
  ["requests_per_minute", "RPM", "requests_this_minute"],
  ["tokens_per_minute", "TPM", "tokens_this_minute"],
  ["requests_per_day", "RPD", "requests_today"],
  ["tokens_per_day", "TPD", "tokens_today"],
  ["max_concurrent_requests", "concurrent", "concurrent_requests"],
];

/** The meters of one scope: one per dimension it limits, and its budget. */
export function scopeMeters(s) {
  const bars = DIMS.filter(([d]) => s.limits[d] != null).map(([d, label, used]) =>
    meter(label, (s.utilization[d] ?? 0) * 100, `${f.int(s.usage[used])} / ${f.int(s.limits[d])}`));
  if (s.budget) bars.push(meter(`budget/${s.budget.period}`, (s.utilization.budget ?? 0) * 100,
    `${f.usd(s.usage.spent_usd)} / ${f.usd(s.budget.amount_usd)}${s.budget.mode === "soft" ? " (soft)" : ""}`));
  return h("div", { class: "bars" }, ...bars);
}

/** The UTC bounds [start, end) in ms of a budget period (`day`, `week` from Monday, `month`) containing `now`. */
export function periodBounds(period, now = Date.now()) {
  const d = new Date(now);
  const day = Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate());
  if (period === "day") return [day, day + 86400000];
  if (period === "week") {
    const start = day - ((d.getUTCDay() + 6) % 7) * 86400000;
    return [start, start + 7 * 86400000];
  }
  return [Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), 1), Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + 1, 1)];
}

/** Spend at the period's end if it goes on at its rate so far. */
export function projectedSpend(spent, period, now = Date.now()) {
  const [start, end] = periodBounds(period, now);
  const elapsed = Math.max(now - start, 60000);
  return (spent / elapsed) * (end - start);
}

/** The Costs page's budgets card: each budget's spend, its projection to the period's end, and
 * the budget alerts in force. */
export function budgetsCard(limits, alerts, now = Date.now()) {
  const rows = limits.scopes.filter((s) => s.budget).map((s) => ({ ...s, projected: projectedSpend(s.usage.spent_usd || 0, s.budget.period, now) }));
  const firing = alerts.active_alerts.filter((a) => a.details && String(a.details.rule || "").startsWith("budget"));
  return card("Budgets",
    rows.length ? table(rows, [
      { key: "scope", label: "scope" }, { key: "id", label: "id" },
      { key: (s) => `${s.budget.mode} · per ${s.budget.period}`, label: "budget" },
      { key: (s) => s, label: "spent", fmt: (s) => meter("", (s.utilization.budget || 0) * 100, `${f.usd(s.usage.spent_usd)} / ${f.usd(s.budget.amount_usd)}`) },
      { key: "projected", label: "projected at period end", num: true, fmt: f.usd },
    ]) : empty("No budgets: set one on a key (budget in its creation body) or a project (PUT /v1/organization/projects/{id}/budget)."),
    firing.length ? h("ul", {}, ...firing.map((a) => h("li", {}, `${a.level}: ${a.message}`))) : "");
}

/** Refusals per minute as one stacked series per dimension. */
export function timelineSeries(timeline) {
  const dims = [...new Set(timeline.flatMap((m) => Object.keys(m.by_dimension)))].sort();
  return dims.map((d) => ({ name: d, points: timeline.map((m) => [m.timestamp * 1000, m.by_dimension[d] || 0]) }));
}

export const rateLimits = {
  path: "rate-limits",
  title: "Rate limits",
  async render(main, ctx) {
    const { api } = ctx;
    let last = null;
    const tiles = h("div", { class: "status-bar" });
    const body = h("div", { class: "grid" });
    const chartBox = h("div");
    const breaches = chart(chartBox, { title: "Refusals per minute, last hour", kind: "area", unit: "" });
    main.append(h("h1", {}, "Rate limits"), tiles, h("section", { class: "card wide" }, chartBox), body, exportBar(() => last, "sightglass-rate-limits"));
    async function load() {
      const r = await api("/metrics/rate-limits");
      last = r;
      const t = r.throttle_analytics;
      tiles.replaceChildren(
        tile("Limits in force", r.scopes.length, "", "scopes"),
        tile("Requests refused", f.int(t.requests_throttled), "", "throttled"),
        tile("Throttle rate", f.pct(t.throttle_rate), "", "rate"),
        tile("Abuse patterns", r.abuse_patterns.length, "", "abuse"));
      breaches.update({ series: timelineSeries(t.timeline) });
      const scopes = r.scopes.length
        ? table(r.scopes, [
          { key: "scope", label: "scope" }, { key: "id", label: "id" }, { key: "tier", label: "tier" },
          { key: (s) => s, label: "used now (window resets: minute " + new Date(r.minute_resets_at * 1000).toLocaleTimeString() + ")", fmt: (s) => scopeMeters(s) },
        ])
        : empty(r.enabled ? "No key, project, model or backend has a limit yet." : "No limits are set: add limits.tiers in the configuration, or rate_limits to a key.");
      const tiers = r.tiers.length
        ? table(r.tiers, [{ key: "name", label: "tier" },
          { key: "limits", label: "limits", fmt: (l) => Object.entries(l).map(([k, v]) => `${k} ${f.int(v)}`).join(" · ") || "–" },
          { key: "keys", label: "keys", fmt: (k) => k.length ? k.join(", ") : "–" }, { key: "projects", label: "projects", fmt: (p) => p.length ? p.join(", ") : "–" },
          { key: "requests_throttled", label: "refused", num: true, fmt: f.int }])
        : empty("No tiers in the configuration (limits.tiers).");
      const top = t.top_throttled.length
        ? table(t.top_throttled, [{ key: "caller", label: "caller" }, { key: "requests_attempted", label: "requests", num: true, fmt: f.int },
          { key: "requests_throttled", label: "refused", num: true, fmt: f.int }, { key: "throttle_rate", label: "rate", num: true, fmt: f.pct },
          { key: "by_dimension", label: "by limit", fmt: (d) => Object.entries(d).map(([k, v]) => `${k} ${v}`).join(" · ") },
          { key: "avg_retry_after_seconds", label: "avg Retry-After s", num: true, fmt: (v) => f.num(v, "") },
          { key: "peak_requests_per_second", label: "peak req/s", num: true }])
        : empty("No request has been refused by a limit since the gateway started.");
      const retry = table(t.retry_after_distribution.map((b) => ({ le: b.le == null ? "longer" : "≤ " + b.le + " s", count: b.count })),
        [{ key: "le", label: "Retry-After" }, { key: "count", label: "refusals", num: true, fmt: f.int }]);
      const abuse = r.abuse_patterns.length
        ? table(r.abuse_patterns, [{ key: "caller", label: "caller" }, { key: "pattern", label: "pattern" },
          { key: "value", label: "value", num: true, fmt: (v) => f.num(v, "") }, { key: "threshold", label: "threshold", num: true, fmt: (v) => f.num(v, "") }])
        : empty("None: no caller is throttled more than half the time, retrying more than 10 times a minute, bursting above 20 requests/s or above 95 % of a quota.");
      body.replaceChildren(
        h("section", { class: "card wide" }, h("h2", {}, "Limits in force"), scopes),
        card("Tiers", tiers), card("Refused callers (since start)", top), card("Retry-After given", retry), card("Abuse patterns", abuse));
    }
    await load();
    ctx.subscribe("stats", () => {});
    const timer = setInterval(() => load().catch(() => {}), 2000);
    ctx.onCleanup(() => clearInterval(timer));
    this.poll = load;
  },
};
