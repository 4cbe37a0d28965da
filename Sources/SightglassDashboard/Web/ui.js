// Small DOM helpers shared by the pages: elements, tables, tiles, downloads.
import { formatValue } from "./charts.js";

/** h("div", {class: "card"}, "text", child, …) */
export function h(tag, attrs = {}, ...children) {
  const n = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === null || v === undefined || v === false) continue;
    if (k.startsWith("on")) n.addEventListener(k.slice(2), v);
    else if (k === "class") n.className = v;
    else n.setAttribute(k, v === true ? "" : v);
  }
  for (const c of children.flat()) if (c !== null && c !== undefined) n.append(c instanceof Node ? c : String(c));
  return n;
}

export function card(title, ...children) {
  return h("section", { class: "card" }, title ? h("h2", {}, title) : null, ...children);
}

export function empty(text) {
  return h("p", { class: "empty" }, text);
}

/** A stat tile; `id` lets live updates find its value. */
export function tile(label, value, unit, id) {
  return h("div", { class: "stat" }, h("div", { class: "label" }, label),
    h("div", {}, h("span", { class: "value", "data-stat": id || label }, value), unit ? h("span", { class: "unit" }, unit) : null));
}

export function setTile(root, id, value) {
  const n = root.querySelector(`[data-stat="${id}"]`);
  if (n) n.textContent = value;
}

/** columns: [{key, label, num?, fmt?(value,row)}] */
export function table(rows, columns, { onRow } = {}) {
  const t = h("table");
  const head = t.createTHead().insertRow();
  for (const c of columns) head.appendChild(h("th", { class: c.num ? "num" : null, scope: "col" }, c.label));
  const body = t.createTBody();
  for (const r of rows) {
    const tr = body.insertRow();
    for (const c of columns) {
      const v = typeof c.key === "function" ? c.key(r) : r[c.key];
      const td = tr.insertCell();
      if (c.num) td.className = "num";
      const out = c.fmt ? c.fmt(v, r) : v ?? "–";
      if (out instanceof Node) td.appendChild(out); else td.textContent = out;
    }
    if (onRow) { tr.tabIndex = 0; tr.style.cursor = "pointer"; tr.onclick = () => onRow(r); tr.onkeydown = (e) => { if (e.key === "Enter") onRow(r); }; }
  }
  return h("div", { class: "scroll" }, t);
}

export const f = {
  num: (v, unit) => formatValue(v, unit),
  ms: (v) => formatValue(v, "ms"),
  pct: (v) => (v === null || v === undefined ? "–" : formatValue(v * 100, "%")),
  usd: (v) => formatValue(v, "$"),
  time: (iso) => (iso ? new Date(iso).toLocaleString() : "–"),
  int: (v) => (v === null || v === undefined ? "–" : Number(v).toLocaleString()),
};

export function download(name, text, type = "text/plain") {
  const a = h("a", { href: URL.createObjectURL(new Blob([text], { type })), download: name });
  document.body.appendChild(a);
  a.click();
  setTimeout(() => { URL.revokeObjectURL(a.href); a.remove(); }, 1000);
}

/** Export buttons: JSON of the page's data, the gateway's Prometheus and CSV exports. */
export function exportBar(getJSON, name) {
  return h("div", { class: "toolbar" },
    h("button", { type: "button", onclick: () => download(name + ".json", JSON.stringify(getJSON(), null, 2), "application/json") }, "Export JSON"),
    h("a", { href: "/metrics/prometheus", download: "sightglass.prom" }, h("button", { type: "button", tabindex: "-1" }, "Prometheus")),
    h("a", { href: "/metrics/csv", download: "sightglass-metrics.csv" }, h("button", { type: "button", tabindex: "-1" }, "Metrics CSV")));
}

/** Since-selector values shared by pages. */
export const RANGES = [["15m", "15 min"], ["1h", "1 hour"], ["24h", "24 hours"], ["7d", "7 days"], ["30d", "30 days"]];

export function select(label, name, options, value, onchange) {
  const s = h("select", { name, "aria-label": label, onchange: (e) => onchange(e.target.value) },
    options.map(([v, text]) => h("option", { value: v, selected: v === value ? true : null }, text)));
  return h("label", {}, label, s);
}

export function gatewayURL() {
  return location.origin;
}

/** A labelled bar for a percentage (warning above 75 %, bad above 90 %). */
export function meter(label, percent, detail) {
  const fill = h("div", { class: "bar-fill" });
  fill.style.width = Math.max(0, Math.min(100, percent || 0)) + "%";
  if (percent > 90) fill.style.background = "var(--bad)"; else if (percent > 75) fill.style.background = "var(--warn)";
  return h("div", { class: "core" }, h("span", {}, label), h("div", { class: "bar-track", role: "meter", "aria-valuenow": percent ?? 0, "aria-valuemin": 0, "aria-valuemax": 100, "aria-label": label }, fill),
    h("span", { class: "num" }, detail ?? formatValue(percent, "%")));
}
