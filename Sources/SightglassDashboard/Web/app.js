// The dashboard shell: client-side routing with real URLs, the API client, the one live
// WebSocket (with reconnect and a polling fallback), theme and credentials. Pages live in
// pages-*.js and get a small context object; every number they show comes from the gateway.

import { PAGES } from "./pages.js";

const state = {
  token: localStorage.getItem("sightglass.token") || "",
  pollMs: +(localStorage.getItem("sightglass.poll") || 5000),
  page: null,
  cleanup: [],
};

// ---- API --------------------------------------------------------------------------------

export class APIError extends Error {
  constructor(status, body) {
    super((body && body.error && body.error.message) || `HTTP ${status}`);
    this.status = status;
    this.body = body;
  }
}

export async function api(path, { method = "GET" } = {}) {
  const headers = { Accept: "application/json" };
  if (state.token) headers.Authorization = "Bearer " + state.token;
  const r = await fetch(path, { method, headers });
  const text = await r.text();
  let body = null;
  try { body = text ? JSON.parse(text) : null; } catch { body = null; }
  if (!r.ok) {
    if (r.status === 401) promptForKey();
    throw new APIError(r.status, body);
  }
  return body;
}

// ---- Live feed --------------------------------------------------------------------------

const live = {
  ws: null, attempts: 0, topics: new Set(), handlers: new Map(), timer: null, pollTimer: null, mode: "connecting",
};

function setConn(mode, text) {
  live.mode = mode;
  const el = document.getElementById("conn");
  el.textContent = text;
  el.className = "pill " + (mode === "live" ? "ok" : mode === "polling" ? "warn" : mode === "offline" ? "bad" : "");
  el.dataset.mode = mode;
}

function connect() {
  clearTimeout(live.timer);
  if (!("WebSocket" in window)) return startPolling("no WebSocket support");
  const url = location.origin.replace(/^http/, "ws") + "/dashboard/ws" + (state.token ? "?access_token=" + encodeURIComponent(state.token) : "");
  let ws;
  try { ws = new WebSocket(url); } catch { return scheduleReconnect(); }
  live.ws = ws;
  setConn("connecting", live.attempts ? `reconnecting (${live.attempts})` : "connecting");
  ws.onopen = () => {
    live.attempts = 0;
    stopPolling();
    setConn("live", "live");
    if (live.topics.size) ws.send(JSON.stringify({ action: "subscribe", topics: [...live.topics] }));
  };
  ws.onmessage = (ev) => {
    let m;
    try { m = JSON.parse(ev.data); } catch { return; }
    if (m.type === "error" && m.error && m.error.status === 401) promptForKey();
    const h = live.handlers.get(m.topic);
    if (h) for (const fn of h) fn(m);
  };
  ws.onclose = () => { if (live.ws === ws) { live.ws = null; scheduleReconnect(); } };
  ws.onerror = () => {};
}

// Backoff: every 5 s for 10 attempts, then every 30 s; the page polls meanwhile.
function scheduleReconnect() {
  live.attempts++;
  startPolling("reconnecting");
  const delay = live.attempts <= 10 ? 5000 : 30000;
  setConn(live.attempts > 10 ? "offline" : "polling", `polling · retry ${live.attempts}`);
  live.timer = setTimeout(connect, delay);
}

function startPolling() {
  if (live.pollTimer) return;
  live.pollTimer = setInterval(() => { if (state.page && state.page.poll) state.page.poll(); }, state.pollMs);
}

function stopPolling() {
  clearInterval(live.pollTimer);
  live.pollTimer = null;
}

/** Subscribes the current page to a topic; returns the unsubscribe function. */
function subscribe(topic, fn) {
  if (!live.handlers.has(topic)) live.handlers.set(topic, new Set());
  live.handlers.get(topic).add(fn);
  if (!live.topics.has(topic)) {
    live.topics.add(topic);
    if (live.ws && live.ws.readyState === 1) live.ws.send(JSON.stringify({ action: "subscribe", topics: [topic] }));
  }
  return () => {
    const set = live.handlers.get(topic);
    set.delete(fn);
    if (!set.size) {
      live.topics.delete(topic);
      if (live.ws && live.ws.readyState === 1) live.ws.send(JSON.stringify({ action: "unsubscribe", topics: [topic] }));
    }
  };
}

// ---- Routing ----------------------------------------------------------------------------

function renderNav(current) {
  const nav = document.getElementById("nav");
  nav.innerHTML = "";
  for (const p of PAGES) {
    const a = document.createElement("a");
    a.href = "/dashboard/" + p.path;
    a.textContent = p.title;
    a.dataset.link = "";
    if (p === current) a.setAttribute("aria-current", "page");
    nav.appendChild(a);
  }
}

async function route() {
  for (const fn of state.cleanup.splice(0)) fn();
  const slug = location.pathname.replace(/^\/dashboard\/?/, "").split("/")[0] || "overview";
  const page = PAGES.find((p) => p.path === slug) || PAGES[0];
  state.page = page;
  renderNav(page);
  document.getElementById("nav").classList.remove("open");
  const main = document.getElementById("main");
  main.innerHTML = "";
  document.title = page.title + " · Sightglass";
  const ctx = {
    api,
    params: new URLSearchParams(location.search),
    /** Rewrites the URL's query so the view can be shared, without reloading. */
    setParams(p) {
      const q = new URLSearchParams();
      for (const [k, v] of Object.entries(p)) if (v !== "" && v !== null && v !== undefined) q.set(k, v);
      const url = location.pathname + (q.toString() ? "?" + q : "");
      history.replaceState(null, "", url);
      this.params = q;
    },
    subscribe: (topic, fn) => { const off = subscribe(topic, fn); state.cleanup.push(off); return off; },
    onCleanup: (fn) => state.cleanup.push(fn),
    navigate,
  };
  try {
    await page.render(main, ctx);
  } catch (e) {
    main.innerHTML = "";
    const p = document.createElement("p");
    p.className = "empty";
    p.textContent = e instanceof APIError && e.status === 401 ? "This gateway has auth on: set an API key or token with the Key button." : "Could not load this page: " + e.message;
    main.appendChild(p);
  }
}

export function navigate(url) {
  history.pushState(null, "", url);
  route();
}

document.addEventListener("click", (ev) => {
  const a = ev.target.closest("a[data-link]");
  if (!a || ev.metaKey || ev.ctrlKey || ev.shiftKey || a.target) return;
  ev.preventDefault();
  navigate(a.getAttribute("href"));
});
window.addEventListener("popstate", route);

// ---- Chrome: theme, credentials, health ---------------------------------------------------

function applyTheme(theme) {
  const t = theme || (matchMedia("(prefers-color-scheme: dark)").matches ? "dark" : "light");
  document.documentElement.dataset.theme = t;
}

function promptForKey() {
  if (promptForKey.open) return;
  promptForKey.open = true;
  const key = prompt("This gateway has auth on. API key or token (stored in this browser):", state.token);
  promptForKey.open = false;
  if (key !== null) {
    state.token = key.trim();
    localStorage.setItem("sightglass.token", state.token);
    if (live.ws) live.ws.close();
    route();
  }
}

async function refreshHealth() {
  const el = document.getElementById("health");
  try {
    const h = await api("/health");
    el.textContent = h.status;
    el.className = "pill " + (h.status === "healthy" ? "ok" : h.status === "degraded" ? "warn" : "bad");
  } catch {
    el.textContent = "unreachable";
    el.className = "pill bad";
  }
}

function init() {
  applyTheme(localStorage.getItem("sightglass.theme"));
  matchMedia("(prefers-color-scheme: dark)").addEventListener("change", () => applyTheme(localStorage.getItem("sightglass.theme")));
  document.getElementById("theme").onclick = () => {
    const next = document.documentElement.dataset.theme === "dark" ? "light" : "dark";
    localStorage.setItem("sightglass.theme", next);
    applyTheme(next);
    route();
  };
  document.getElementById("auth").onclick = promptForKey;
  const poll = document.getElementById("poll-interval");
  poll.value = String(state.pollMs);
  poll.onchange = () => {
    state.pollMs = +poll.value;
    localStorage.setItem("sightglass.poll", poll.value);
    if (live.pollTimer) { stopPolling(); startPolling(); }
  };
  const menu = document.getElementById("menu-toggle");
  menu.onclick = () => {
    const nav = document.getElementById("nav");
    nav.classList.toggle("open");
    menu.setAttribute("aria-expanded", String(nav.classList.contains("open")));
  };
  if (location.pathname === "/dashboard" || location.pathname === "/dashboard/") history.replaceState(null, "", "/dashboard/overview" + location.search);
  refreshHealth();
  setInterval(refreshHealth, 10000);
  connect();
  route();
}

init();
