// Organization: users, invites, projects with their members, service accounts and keys, and
// each project's and key's usage over the chosen range. Everything goes through the Admin API
// (/v1/organization/…) with an admin key the user pastes, kept in this tab's sessionStorage only;
// usage comes from the ledger's key rollups (/api/analytics/breakdown?by=project|api_key).
import { chart } from "./charts.js";
import { h, card, empty, table, f, select, RANGES } from "./ui.js";

const STORE = "sightglass.adminKey";

/** One Admin API call; errors carry the status and OpenAI's error message. */
export async function admin(path, { method = "GET", body } = {}) {
  const headers = { Accept: "application/json", Authorization: "Bearer " + (sessionStorage.getItem(STORE) || "") };
  if (body !== undefined) headers["Content-Type"] = "application/json";
  const r = await fetch("/v1/organization" + path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  const data = await r.json().catch(() => null);
  if (!r.ok) {
    const e = new Error((data && data.error && data.error.message) || `HTTP ${r.status}`);
    e.status = r.status;
    throw e;
  }
  return data;
}

/** "llama*, qwen2.5:*" → ["llama*", "qwen2.5:*"] */
export function globs(text) {
  return text.split(",").map((s) => s.trim()).filter(Boolean);
}

const SECONDS = { "15m": 900, "1h": 3600, "24h": 86400, "7d": 604800, "30d": 2592000 };

/** The usage API's query for a range: minute buckets up to an hour, hours up to a week, else days. */
export function usageQuery(range, now = Date.now() / 1000) {
  const span = SECONDS[range] || 86400;
  const width = span <= 3600 ? ["1m", 60] : span <= 604800 ? ["1h", 3600] : ["1d", 86400];
  const start = Math.floor((now - span) / width[1]) * width[1];
  return { start, width: width[0], limit: Math.ceil((now - start) / width[1]) };
}

/** Usage pages as chart series: one per value of `dim` (`project_id` by default, or
 * `api_key_id`), named through `names`, a point per bucket. */
export function projectSeries(pages, names, value, dim = "project_id") {
  const by = new Map();
  for (const page of pages) for (const b of page.data) for (const r of b.results) {
    const name = names[r[dim]] || r[dim];
    if (!by.has(name)) by.set(name, new Map());
    const m = by.get(name);
    m.set(b.start_time, (m.get(b.start_time) || 0) + value(r));
  }
  return [...by].map(([name, m]) => ({ name, points: [...m].sort((a, z) => a[0] - z[0]).map(([t, v]) => [t * 1000, v]) }));
}

const when = (unix) => (unix ? new Date(unix * 1000).toLocaleString() : "–");

function usageCells(g) {
  return g ? [f.int(g.requests), f.int(g.tokens.input + g.tokens.output), f.usd(g.cost)] : ["0", "0", f.usd(0)];
}

export const organization = {
  path: "organization",
  title: "Organization",
  async render(main, ctx) {
    const body = h("div");
    const status = h("p", { class: "muted", role: "status", "aria-live": "polite" });
    main.append(h("h1", {}, "Organization"), status, body);
    const since = () => ctx.params.get("since") || "24h";

    function askForKey(message) {
      const input = h("input", { type: "password", name: "admin-key", placeholder: "sk-sg-admin-…", autocomplete: "off", "aria-label": "Admin key" });
      body.replaceChildren(card("Admin key",
        h("p", { class: "muted" }, message || "This page uses the Admin API: an admin key (`sightglass admin bootstrap` prints one; the demo prints one at start) manages the organization; a project key shows its own project, read-only (through /api/projects/own). The key is kept in this tab only."),
        h("form", { onsubmit: (e) => { e.preventDefault(); sessionStorage.setItem(STORE, input.value.trim()); load(); } },
          input, h("button", { type: "submit" }, "Open"))));
    }

    async function act(what, fn) {
      try {
        status.textContent = what + "…";
        const out = await fn();
        status.textContent = what + ": done.";
        return out;
      } catch (e) {
        status.textContent = what + " failed: " + e.message;
        return null;
      }
    }

    function keyReveal(created) {
      const code = h("code", { "data-secret": "" }, created.value);
      return h("div", { class: "reveal", role: "alert" },
        h("strong", {}, `Key "${created.name}" created. Copy it now: it is shown only this once.`), h("br"), code, " ",
        h("button", { type: "button", onclick: () => navigator.clipboard?.writeText(created.value).then(() => { status.textContent = "Copied."; }) }, "Copy"));
    }

    function projectCard(d, perProject, perKey, reveal, manage) {
      const { p, members, accounts, keys } = d;
      const name = h("input", { name: "key-name", placeholder: "key name", "aria-label": "New key name" });
      const models = h("input", { name: "key-models", placeholder: "models (globs, comma-separated; empty: all)", "aria-label": "Models the key may use" });
      const days = h("input", { name: "key-days", type: "number", min: "1", placeholder: "expires in days (optional)", "aria-label": "Expiry in days" });
      const active = p.status === "active" && manage;
      const [requests, tokens, cost] = usageCells(perProject[p.id]);
      return h("section", { class: "card wide", "data-project": p.id },
        h("h2", {}, p.name, " ", h("span", { class: active ? "ok" : "muted" }, p.status)),
        h("p", { class: "muted" }, `${p.id} · created ${when(p.created_at)} · in range: ${requests} requests, ${tokens} tokens, ${cost}`),
        reveal && reveal.project === p.id ? keyReveal(reveal.key) : null,
        h("h3", {}, "API keys"),
        keys.data.length ? table(keys.data, [
          { key: "name", label: "name" }, { key: "redacted_value", label: "key", fmt: (v) => h("span", { class: "mono" }, v) },
          { key: (k) => (k.scopes.models.length ? k.scopes.models.join(", ") : "all"), label: "models" },
          { key: (k) => (k.owner.user ? k.owner.user.email : k.owner.service_account ? k.owner.service_account.name : "–"), label: "owner" },
          { key: "created_at", label: "created", fmt: when }, { key: "last_used_at", label: "last used", fmt: when }, { key: "expires_at", label: "expires", fmt: when },
          { key: (k) => usageCells(perKey[k.id])[0], label: "requests", num: true }, { key: (k) => usageCells(perKey[k.id])[2], label: "cost", num: true },
          { key: (k) => k, label: "", fmt: (k) => !manage ? "" : h("button", { type: "button", "data-revoke": k.id, onclick: async () => {
            if (!confirm(`Revoke "${k.name}" (${k.redacted_value})? Requests with it are refused within seconds.`)) return;
            if (await act("Revoking " + k.name, () => admin(`/projects/${p.id}/api_keys/${k.id}`, { method: "DELETE" }))) load();
          } }, "Revoke") },
        ]) : empty("No live keys."),
        active ? h("form", { class: "toolbar", onsubmit: async (e) => {
          e.preventDefault();
          const bodyJSON = { name: name.value.trim() || "Secret key", scopes: { models: globs(models.value) } };
          if (days.value) bodyJSON.expires_at = Math.floor(Date.now() / 1000) + Number(days.value) * 86400;
          const created = await act("Creating a key", () => admin(`/projects/${p.id}/api_keys`, { method: "POST", body: bodyJSON }));
          if (created) load({ project: p.id, key: created });
        } }, name, models, days, h("button", { type: "submit" }, "Create key")) : null,
        h("h3", {}, "Members"),
        members.data.length ? table(members.data, [{ key: "name", label: "name" }, { key: "email", label: "email" }, { key: "role", label: "project role" },
          { key: "added_at", label: "added", fmt: when }]) : empty("No members."),
        h("h3", {}, "Service accounts"),
        accounts.data.length ? table(accounts.data, [{ key: "name", label: "name" }, { key: "id", label: "id" }, { key: "created_at", label: "created", fmt: when }])
          : empty("No service accounts."),
        active ? h("div", { class: "toolbar" }, h("button", { type: "button", onclick: async () => {
          if (!confirm(`Archive "${p.name}"? Its keys stop working at once.`)) return;
          if (await act("Archiving " + p.name, () => admin(`/projects/${p.id}/archive`, { method: "POST" }))) load();
        } }, "Archive project")) : null);
    }

    /** Each project with its members, service accounts and live keys. */
    function projectDetails(projects) {
      return Promise.all(projects.data.map(async (p) => ({
        p, members: await admin(`/projects/${p.id}/users?limit=100`), accounts: await admin(`/projects/${p.id}/service_accounts?limit=100`),
        keys: await admin(`/projects/${p.id}/api_keys?limit=100`),
      })));
    }

    /** Requests, tokens and cost in the range, by project and by key id (the ledger's key rollups). */
    async function usageByProjectAndKey() {
      const index = (b) => Object.fromEntries(b.groups.map((g) => [g.key, g]));
      const [p, k] = await Promise.all([
        ctx.api(`/api/analytics/breakdown?by=project&since=${since()}`), ctx.api(`/api/analytics/breakdown?by=api_key&since=${since()}`)]);
      return [index(p), index(k)];
    }

    /** A project key's holder sees their own project, read-only. */
    async function loadOwnProject() {
      const r = await fetch("/api/projects/own", { headers: { Accept: "application/json", Authorization: "Bearer " + sessionStorage.getItem(STORE) } });
      const own = await r.json().catch(() => null);
      if (!r.ok) {
        sessionStorage.removeItem(STORE);
        return askForKey("That key was refused: " + ((own && own.error && own.error.message) || `HTTP ${r.status}`));
      }
      const [byProject, byKey] = await usageByProjectAndKey();
      const details = [{ p: own.project, members: own.users, accounts: own.service_accounts, keys: own.api_keys }];
      body.replaceChildren(
        h("div", { class: "toolbar" },
          select("Usage range", "since", RANGES, since(), (v) => { ctx.setParams({ since: v }); load(); }),
          h("button", { type: "button", onclick: () => { sessionStorage.removeItem(STORE); askForKey(); } }, "Forget key")),
        h("p", { class: "muted" }, "Your project, read-only (you signed in with a project key; changes need an admin key)."),
        ...details.map((d) => projectCard(d, byProject, byKey, null, false)));
    }

    async function load(reveal) {
      if (!sessionStorage.getItem(STORE)) return askForKey();
      if (!sessionStorage.getItem(STORE).startsWith("sk-sg-admin-") && sessionStorage.getItem(STORE).startsWith("sk-sg-")) return loadOwnProject();
      let users, invites, projects;
      try {
        [users, invites, projects] = await Promise.all([admin("/users?limit=100"), admin("/invites?limit=100"), admin("/projects?limit=100&include_archived=true")]);
      } catch (e) {
        if (e.status === 401 || e.status === 403) {
          sessionStorage.removeItem(STORE);
          return askForKey("That key was refused: " + e.message);
        }
        throw e;
      }
      const [byProject, byKey] = await usageByProjectAndKey();
      const details = await projectDetails(projects);
      const q = usageQuery(since());
      const params = `start_time=${q.start}&bucket_width=${q.width}&limit=${q.limit}&group_by=project_id`;
      const [completions, embeddings, costs, perKeyCompletions, perKeyEmbeddings] = await Promise.all([
        admin(`/usage/completions?${params}`), admin(`/usage/embeddings?${params}`),
        admin(`/costs?start_time=${Math.floor(q.start / 86400) * 86400}&limit=31&group_by=project_id`),
        admin(`/usage/completions?${params.replace("project_id", "api_key_id")}`), admin(`/usage/embeddings?${params.replace("project_id", "api_key_id")}`)]);
      const names = Object.fromEntries(projects.data.map((p) => [p.id, p.name]));
      const keyNames = Object.fromEntries(details.flatMap((d) => d.keys.data.map((k) => [k.id, `${k.name} (${d.p.name})`])));
      const requestsBox = h("section", { class: "card wide" }), costBox = h("section", { class: "card wide" });
      const keysBox = h("section", { class: "card wide" });
      const projectName = h("input", { name: "project-name", placeholder: "project name", "aria-label": "New project name", required: true });
      const email = h("input", { name: "invite-email", type: "email", placeholder: "email", "aria-label": "Email to invite", required: true });
      const role = h("select", { name: "invite-role", "aria-label": "Role" }, h("option", { value: "reader" }, "reader"), h("option", { value: "owner" }, "owner"));
      body.replaceChildren(
        h("div", { class: "toolbar" },
          select("Usage range", "since", RANGES, since(), (v) => { ctx.setParams({ since: v }); load(); }),
          h("button", { type: "button", onclick: () => { sessionStorage.removeItem(STORE); askForKey(); } }, "Forget admin key")),
        h("div", { class: "grid" },
          card("Users", table(users.data, [{ key: "name", label: "name" }, { key: "email", label: "email" }, { key: "role", label: "role" },
            { key: "added_at", label: "added", fmt: when }])),
          card("Invites",
            invites.data.length ? table(invites.data, [{ key: "email", label: "email" }, { key: "role", label: "role" }, { key: "status", label: "status" },
              { key: "expires_at", label: "expires", fmt: when }]) : empty("No invites."),
            h("form", { class: "toolbar", onsubmit: async (e) => {
              e.preventDefault();
              if (await act("Inviting " + email.value, () => admin("/invites", { method: "POST", body: { email: email.value.trim(), role: role.value } }))) load();
            } }, email, role, h("button", { type: "submit" }, "Invite"))),
          card("New project", h("form", { class: "toolbar", onsubmit: async (e) => {
            e.preventDefault();
            if (await act("Creating " + projectName.value, () => admin("/projects", { method: "POST", body: { name: projectName.value.trim() } }))) load();
          } }, projectName, h("button", { type: "submit" }, "Create project")))),
        h("div", { class: "grid" }, requestsBox, costBox, keysBox),
        ...details.map((d) => projectCard(d, byProject, byKey, reveal, true)));
      chart(requestsBox, { title: `Requests per project (${q.width} buckets)`, kind: "line" }).update({
        series: projectSeries([completions, embeddings], names, (r) => r.num_model_requests) });
      chart(costBox, { title: "Cost per project (daily)", kind: "area", unit: "$" }).update({
        series: projectSeries([costs], names, (r) => r.amount.value) });
      chart(keysBox, { title: `Tokens per key (${q.width} buckets)`, kind: "line" }).update({
        series: projectSeries([perKeyCompletions, perKeyEmbeddings], keyNames, (r) => r.input_tokens + (r.output_tokens || 0), "api_key_id") });
    }

    await load();
  },
};
