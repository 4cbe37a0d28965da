// Sightglass's charts: line, stacked area, bar, histogram and sparkline in SVG, with hover
// read-outs, legends, units, sensible axes, and a table view of the same numbers.
// No library is reachable from here (no registry, no CDN), so this is small and in one place;
// the pure helpers (ticks, scales, formatting, paths) are exported for the browser tests.

const NS = "http://www.w3.org/2000/svg";
const PALETTE = ["--c1", "--c2", "--c3", "--c4", "--c5", "--c6", "--c7", "--c8"];

/** Round tick values covering [min, max]: steps of 1, 2 or 5 × 10^k. */
export function niceTicks(min, max, count = 5) {
  if (!isFinite(min) || !isFinite(max)) return [0];
  if (min === max) { max = min + (min === 0 ? 1 : Math.abs(min) * 0.1); }
  const raw = (max - min) / Math.max(1, count);
  const mag = Math.pow(10, Math.floor(Math.log10(raw)));
  const step = [1, 2, 5, 10].map((m) => m * mag).find((s) => s >= raw) || 10 * mag;
  const start = Math.floor(min / step) * step;
  const ticks = [];
  for (let v = start; v <= max + step * 0.5 && ticks.length < 50; v += step) ticks.push(+v.toPrecision(12));
  return ticks;
}

/** A linear map from [d0, d1] to [r0, r1]. */
export function scaleLinear(d0, d1, r0, r1) {
  const span = d1 - d0 || 1;
  return (v) => r0 + ((v - d0) / span) * (r1 - r0);
}

const SI = [[1e12, "T"], [1e9, "G"], [1e6, "M"], [1e3, "k"]];

/** A number with its unit, short enough for an axis or a tile. */
export function formatValue(v, unit = "") {
  if (v === null || v === undefined || Number.isNaN(v)) return "–";
  if (unit === "ms" && Math.abs(v) >= 1000) return trim(v / 1000, 2) + " s";
  if (unit === "%") return trim(v, v < 10 ? 2 : 1) + " %";
  if (unit === "$") return "$" + (Math.abs(v) < 0.01 && v !== 0 ? String(+v.toPrecision(2)) : trim(v, 2));
  if (unit === "B" || unit === "B/s") {
    const units = ["B", "KB", "MB", "GB", "TB"];
    let i = 0, x = Math.abs(v);
    while (x >= 1024 && i < units.length - 1) { x /= 1024; i++; }
    return trim(Math.sign(v) * x, 1) + " " + units[i] + (unit === "B/s" ? "/s" : "");
  }
  for (const [n, s] of SI) if (Math.abs(v) >= n) return trim(v / n, 1) + s + (unit ? " " + unit : "");
  return trim(v, Math.abs(v) < 10 ? 2 : 1) + (unit ? " " + unit : "");
}

function trim(v, digits) {
  return String(+v.toFixed(digits));
}

export function formatTime(ms, seconds = false) {
  const d = new Date(ms);
  const two = (n) => String(n).padStart(2, "0");
  return two(d.getHours()) + ":" + two(d.getMinutes()) + (seconds ? ":" + two(d.getSeconds()) : "");
}

/** SVG path through points (already in pixels), skipping gaps (null y). */
export function linePath(points) {
  let d = "", pen = false;
  for (const [x, y] of points) {
    if (y === null || y === undefined || !isFinite(y)) { pen = false; continue; }
    d += (pen ? "L" : "M") + x.toFixed(1) + "," + y.toFixed(1);
    pen = true;
  }
  return d;
}

/** Cumulative sums per x for stacked areas: series[i].points[j][1] becomes the top of layer i. */
export function stack(series) {
  const out = [];
  const base = new Map();
  for (const s of series) {
    out.push({ ...s, points: s.points.map(([x, y]) => {
      const b = base.get(x) || 0;
      const top = b + (y || 0);
      base.set(x, top);
      return [x, top, b];
    }) });
  }
  return out;
}

function el(name, attrs = {}, parent) {
  const n = document.createElementNS(NS, name);
  for (const [k, v] of Object.entries(attrs)) n.setAttribute(k, v);
  if (parent) parent.appendChild(n);
  return n;
}

function color(i) {
  return getComputedStyle(document.documentElement).getPropertyValue(PALETTE[i % PALETTE.length]).trim() || "#888";
}

/** The table view of a chart (accessibility, copy-paste). */
export function chartTable(series, unit, xFormat = formatTime) {
  const xs = [...new Set(series.flatMap((s) => s.points.map((p) => p[0])))].sort((a, b) => a - b);
  const t = document.createElement("table");
  const head = t.createTHead().insertRow();
  head.insertCell().outerHTML = "<th>" + (typeof xs[0] === "number" && xs[0] > 1e11 ? "time" : "x") + "</th>";
  for (const s of series) { const th = document.createElement("th"); th.className = "num"; th.textContent = s.name; head.appendChild(th); }
  const body = t.createTBody();
  for (const x of xs) {
    const r = body.insertRow();
    r.insertCell().textContent = typeof x === "number" && x > 1e11 ? xFormat(x) : x;
    for (const s of series) {
      const c = r.insertCell();
      c.className = "num";
      const p = s.points.find((q) => q[0] === x);
      c.textContent = formatValue(p ? p[1] : null, unit);
    }
  }
  return t;
}

/**
 * A chart card body: title row with a table toggle, the SVG, a legend and a hover tip.
 * `kind` is "line", "area" (stacked), "bar" or "histogram". Returns { update(data) }.
 */
export function chart(container, { title = "", kind = "line", unit = "", height = 180, yMin = 0 } = {}) {
  container.classList.add("chart");
  container.innerHTML = "";
  const head = document.createElement("div");
  head.className = "chart-head";
  const h = document.createElement("h2");
  h.textContent = title;
  const toggle = document.createElement("button");
  toggle.type = "button";
  toggle.textContent = "table";
  toggle.setAttribute("aria-pressed", "false");
  head.append(h, toggle);
  const svgBox = document.createElement("div");
  const tableBox = document.createElement("div");
  tableBox.className = "scroll";
  tableBox.hidden = true;
  const legend = document.createElement("div");
  legend.className = "legend";
  const tip = document.createElement("div");
  tip.className = "tip";
  container.append(head, svgBox, tableBox, legend, tip);
  let data = { series: [] };
  toggle.onclick = () => {
    const on = tableBox.hidden;
    tableBox.hidden = !on;
    svgBox.hidden = on;
    toggle.setAttribute("aria-pressed", String(on));
    toggle.textContent = on ? "chart" : "table";
    render();
  };

  function render() {
    const series = data.series || [];
    legend.innerHTML = "";
    series.forEach((s, i) => {
      const item = document.createElement("span");
      item.innerHTML = `<i style="background:${s.color || color(i)}"></i>`;
      item.append(document.createTextNode(s.name));
      legend.appendChild(item);
    });
    if (!tableBox.hidden) {
      tableBox.innerHTML = "";
      tableBox.appendChild(chartTable(series, unit, data.xFormat));
      return;
    }
    const width = Math.max(260, svgBox.clientWidth || 520);
    const m = { l: 52, r: 10, t: 8, b: 22 };
    svgBox.innerHTML = "";
    const svg = el("svg", { viewBox: `0 0 ${width} ${height}`, role: "img", "aria-label": title });
    svgBox.appendChild(svg);
    const all = series.flatMap((s) => s.points);
    const anyValue = all.some((p) => p[1] !== null && p[1] !== undefined && isFinite(p[1]));
    if (!all.length || !anyValue) {
      const t = el("text", { x: width / 2, y: height / 2, "text-anchor": "middle", class: "axis" }, svg);
      t.textContent = "no data yet";
      return;
    }
    if (kind === "bar" || kind === "histogram") return renderBars(svg, width, m, series);
    const layers = kind === "area" ? stack(series) : series;
    const xs = all.map((p) => p[0]);
    const tops = layers.flatMap((s) => s.points.map((p) => p[1])).filter((v) => v !== null && isFinite(v));
    const x0 = Math.min(...xs), x1 = Math.max(...xs);
    const top = Math.max(...tops);
    const ticks = niceTicks(Math.min(yMin, ...tops), top > yMin ? top : yMin + 1, 4);
    // Minutes on long spans, seconds on short ones (a live chart's first minutes).
    const xFormat = data.xFormat || ((v) => formatTime(v, x1 - x0 < 600000));
    const sx = scaleLinear(x0, x1 === x0 ? x0 + 1 : x1, m.l, width - m.r);
    const sy = scaleLinear(ticks[0], ticks[ticks.length - 1], height - m.b, m.t);
    const axis = el("g", { class: "axis" }, svg);
    for (const t of ticks) {
      el("line", { x1: m.l, x2: width - m.r, y1: sy(t), y2: sy(t), class: "gridline" }, axis);
      const label = el("text", { x: m.l - 6, y: sy(t) + 3, "text-anchor": "end" }, axis);
      label.textContent = formatValue(t, unit);
    }
    const xt = x1 === x0 ? 0 : Math.min(6, Math.max(2, Math.floor(width / 110)));
    let previous = "";
    for (let i = 0; i <= xt; i++) {
      const xv = x0 + ((x1 - x0) * i) / (xt || 1);
      const text = xFormat(xv);
      if (text === previous) continue;
      previous = text;
      const label = el("text", { x: sx(xv), y: height - 6, "text-anchor": i === 0 ? "start" : i === xt ? "end" : "middle" }, axis);
      label.textContent = text;
    }
    layers.forEach((s, i) => {
      const c = s.color || color(i);
      if (kind === "area") {
        const top = s.points.map((p) => [sx(p[0]), sy(p[1])]);
        const bottom = s.points.map((p) => [sx(p[0]), sy(p[2])]).reverse();
        el("path", { d: linePath(top) + linePath(bottom).replace(/^M/, "L") + "Z", fill: c, "fill-opacity": 0.35, stroke: c, "stroke-width": 1 }, svg);
      } else {
        el("path", { d: linePath(s.points.map((p) => [sx(p[0]), p[1] === null ? null : sy(p[1])])), fill: "none", stroke: c, "stroke-width": 1.8 }, svg);
        // A point with no neighbour draws no line: show it as a dot.
        s.points.forEach((p, j) => {
          const has = (q) => q && q[1] !== null && q[1] !== undefined && isFinite(q[1]);
          if (has(p) && !has(s.points[j - 1]) && !has(s.points[j + 1])) el("circle", { cx: sx(p[0]), cy: sy(p[1]), r: 2.5, fill: c }, svg);
        });
      }
    });
    const cursor = el("line", { y1: m.t, y2: height - m.b, stroke: "currentColor", "stroke-opacity": 0.3, visibility: "hidden" }, svg);
    svg.addEventListener("mousemove", (ev) => {
      const box = svg.getBoundingClientRect();
      const px = ((ev.clientX - box.left) / box.width) * width;
      const xv = x0 + ((px - m.l) / (width - m.l - m.r)) * (x1 - x0);
      const nearest = xs.reduce((a, b) => (Math.abs(b - xv) < Math.abs(a - xv) ? b : a), xs[0]);
      cursor.setAttribute("x1", sx(nearest));
      cursor.setAttribute("x2", sx(nearest));
      cursor.setAttribute("visibility", "visible");
      const rows = series.map((s, i) => {
        const p = s.points.find((q) => q[0] === nearest);
        return `<div><i style="display:inline-block;width:8px;height:8px;background:${s.color || color(i)}"></i> ${escapeHTML(s.name)}: <b>${formatValue(p ? p[1] : null, unit)}</b></div>`;
      });
      tip.innerHTML = `<div class="muted">${(data.xFormat || ((v) => formatTime(v, true)))(nearest)}</div>` + rows.join("");
      tip.style.display = "block";
      const left = ev.clientX - container.getBoundingClientRect().left;
      tip.style.left = Math.min(left + 12, container.clientWidth - tip.offsetWidth) + "px";
      tip.style.top = "28px";
    });
    svg.addEventListener("mouseleave", () => { tip.style.display = "none"; cursor.setAttribute("visibility", "hidden"); });
  }

  function renderBars(svg, width, m, series) {
    // One series of [label, value] pairs; histograms label buckets by their upper bound.
    const s = series[0];
    const values = s.points.map((p) => p[1] || 0);
    const ticks = niceTicks(0, Math.max(...values, 1e-9), 4);
    const sy = scaleLinear(0, ticks[ticks.length - 1], height - m.b, m.t);
    const band = (width - m.l - m.r) / Math.max(1, values.length);
    const axis = el("g", { class: "axis" }, svg);
    for (const t of ticks) {
      el("line", { x1: m.l, x2: width - m.r, y1: sy(t), y2: sy(t), class: "gridline" }, axis);
      el("text", { x: m.l - 6, y: sy(t) + 3, "text-anchor": "end" }, axis).textContent = formatValue(t, kind === "histogram" ? "" : unit);
    }
    const every = Math.ceil(values.length / Math.max(1, Math.floor((width - m.l) / 60)));
    s.points.forEach((p, i) => {
      const x = m.l + i * band + band * 0.1;
      const y = sy(p[1] || 0);
      const r = el("rect", { x, y, width: Math.max(1, band * 0.8), height: Math.max(0, height - m.b - y), fill: s.color || color(kind === "histogram" ? 0 : i), rx: 2 }, svg);
      el("title", {}, r).textContent = `${p[0]}: ${formatValue(p[1], kind === "histogram" ? "" : unit)}`;
      if (i % every === 0) el("text", { x: x + band * 0.4, y: height - 6, "text-anchor": "middle" }, axis).textContent = String(p[0]).slice(0, 14);
    });
  }

  let raf = 0;
  const observer = typeof ResizeObserver !== "undefined" ? new ResizeObserver(() => { cancelAnimationFrame(raf); raf = requestAnimationFrame(render); }) : null;
  if (observer) observer.observe(svgBox);
  return {
    update(next) { data = next; render(); },
    get data() { return data; },
  };
}

/** A tiny line without axes, for tiles. */
export function sparkline(container, values, { width = 120, height = 28 } = {}) {
  container.innerHTML = "";
  const svg = el("svg", { viewBox: `0 0 ${width} ${height}`, width, height, "aria-hidden": "true" });
  container.appendChild(svg);
  const v = values.filter((x) => x !== null && isFinite(x));
  if (v.length < 2) return svg;
  const sx = scaleLinear(0, values.length - 1, 1, width - 1);
  const sy = scaleLinear(Math.min(...v), Math.max(...v) || 1, height - 2, 2);
  el("path", { d: linePath(values.map((y, i) => [sx(i), y === null ? null : sy(y)])), fill: "none", stroke: color(0), "stroke-width": 1.5 }, svg);
  return svg;
}

export function escapeHTML(s) {
  return String(s ?? "").replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c]);
}
