// registryd console: plain DOM, no build step. Every text from the registry is put in the page as
// text (textContent, never innerHTML), so card texts cannot become markup.
"use strict";

const STATUSES = ["ACTIVE", "DEGRADED", "UNHEALTHY", "OFFLINE"];
const PAGE_SIZE = 100;
const TAIL_LIMIT = 500;
// Pre-A2A-1.0 card fields: accepted on registration and moved onto the agent, never set in a card read back.
const DEPRECATED_CARD_FIELDS = ["url", "capabilityPhrases", "labels"];
const REFRESH_MS = 200; // at most this often a view is re-read after events
const TOKEN_KEY = "registryd-token";

const state = {
  token: sessionStorage.getItem(TOKEN_KEY) || "",
  role: "reader",
  view: "overview",
  agentId: "",
  filters: { statuses: new Set(), runtime: "", labels: "", capability: "" },
  pageTokens: [""], // the token of each page seen so far; the last is the current page's
  history: [],
  tail: [],
  pending: [],
  paused: false,
};

const $ = (id) => document.getElementById(id);

function el(tag, attrs, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs || {})) {
    if (key === "class") node.className = value;
    else if (key.startsWith("data-")) node.setAttribute(key, value);
    else node[key] = value;
  }
  for (const child of children) node.append(child instanceof Node ? child : String(child ?? ""));
  return node;
}

const short = (name, prefix) => String(name || "").replace(prefix, "");
const when = (iso) => (iso && !iso.startsWith("1970") ? new Date(iso).toLocaleTimeString() : "");
const badge = (status) => el("span", { class: "badge", "data-status": status }, status);

// ------------------------------------------------------------------ API

class ApiError extends Error {
  constructor(message, status) {
    super(message);
    this.status = status;
  }
}

async function api(path, options = {}) {
  const headers = { Accept: "application/json" };
  if (state.token) headers.Authorization = `Bearer ${state.token}`;
  const init = { method: options.method || "GET", headers, cache: "no-store" };
  if (options.body !== undefined) {
    headers["Content-Type"] = "application/json";
    init.body = JSON.stringify(options.body);
  }
  const response = await fetch(path, init);
  const body = await response.json().catch(() => ({}));
  if (response.status === 401) askToken(body.error ? body.error.message : "");
  if (!response.ok) throw new ApiError(body.error ? body.error.message : response.statusText, response.status);
  return body;
}

function showError(error) {
  const box = $("error");
  if (!error || error.status === 401) {
    box.hidden = true;
    return;
  }
  box.textContent = String(error.message || error);
  box.hidden = false;
}

// ------------------------------------------------------------------ token

let tokenWaiters = [];

function askToken(reason) {
  $("token-reason").textContent = reason || "";
  if (!$("token-dialog").open) $("token-dialog").showModal();
}

function tokenReady() {
  return new Promise((resolve) => tokenWaiters.push(resolve));
}

$("token-form").addEventListener("submit", (event) => {
  event.preventDefault();
  state.token = $("token-input").value.trim();
  sessionStorage.setItem(TOKEN_KEY, state.token);
  $("token-input").value = "";
  $("token-dialog").close();
  for (const resolve of tokenWaiters) resolve();
  tokenWaiters = [];
  start();
});

$("forget-token").addEventListener("click", () => {
  sessionStorage.removeItem(TOKEN_KEY);
  state.token = "";
  location.reload();
});

function confirmAction(text) {
  return new Promise((resolve) => {
    const dialog = $("confirm-dialog");
    $("confirm-text").textContent = text;
    const done = (answer) => {
      $("confirm-ok").onclick = $("confirm-cancel").onclick = dialog.oncancel = null;
      dialog.close();
      resolve(answer);
    };
    $("confirm-ok").onclick = () => done(true);
    $("confirm-cancel").onclick = () => done(false);
    dialog.oncancel = () => done(false);
    dialog.showModal();
  });
}

// ------------------------------------------------------------------ live events (SSE over fetch)
// EventSource cannot send an Authorization header, so the stream is read with fetch; the protocol is the
// same: ids are revisions and a reconnect sends Last-Event-ID, so no event is missed.

class EventStream {
  constructor(onEvent) {
    this.onEvent = onEvent;
    this.lastId = "";
  }

  setState(name) {
    $("live").dataset.state = name;
    $("live").textContent = name;
  }

  async run() {
    for (;;) {
      try {
        const headers = { Accept: "text/event-stream" };
        if (state.token) headers.Authorization = `Bearer ${state.token}`;
        if (this.lastId) headers["Last-Event-ID"] = this.lastId;
        const response = await fetch("/api/v1/events/stream", { headers, cache: "no-store" });
        if (response.status === 401) {
          askToken("");
          await tokenReady();
          continue;
        }
        if (response.status === 410) {
          this.lastId = ""; // too far behind to resume: start live and re-read everything
          scheduleRefresh();
          continue;
        }
        if (!response.ok) throw new Error(`event stream: HTTP ${response.status}`);
        this.setState("live");
        await this.read(response.body.pipeThrough(new TextDecoderStream()).getReader());
      } catch (error) {
        console.warn(error);
      }
      this.setState("reconnecting");
      await new Promise((resolve) => setTimeout(resolve, 1000));
    }
  }

  async read(reader) {
    let buffer = "";
    for (;;) {
      const { value, done } = await reader.read();
      if (done) return;
      buffer += value;
      let end;
      while ((end = buffer.indexOf("\n\n")) >= 0) {
        this.dispatch(buffer.slice(0, end));
        buffer = buffer.slice(end + 2);
      }
    }
  }

  dispatch(block) {
    let id = null;
    let type = "message";
    const data = [];
    for (const line of block.split("\n")) {
      const colon = line.indexOf(":");
      if (colon === 0) continue;
      const field = colon < 0 ? line : line.slice(0, colon);
      const value = colon < 0 ? "" : line.slice(colon + 1).replace(/^ /, "");
      if (field === "id") id = value;
      else if (field === "event") type = value;
      else if (field === "data") data.push(value);
    }
    if (id !== null) this.lastId = id;
    if (data.length && type !== "bookmark" && type !== "error") this.onEvent(JSON.parse(data.join("\n")));
  }
}

// ------------------------------------------------------------------ views

const views = {
  overview: renderOverview,
  agents: renderAgents,
  agent: renderAgent,
  runtimes: renderRuntimes,
  events: renderEvents,
};

function route() {
  const [, view = "overview", ...rest] = location.hash.split("/");
  state.view = views[view] ? view : "overview";
  state.agentId = decodeURIComponent(rest.join("/"));
  for (const section of document.querySelectorAll(".view")) section.hidden = section.id !== `view-${state.view}`;
  for (const link of document.querySelectorAll("nav a")) {
    link.classList.toggle("current", link.dataset.view === state.view);
  }
  refresh();
}

let refreshing = null;
let refreshAgain = false;

async function refresh() {
  if (refreshing) {
    refreshAgain = true;
    return refreshing;
  }
  refreshing = (async () => {
    try {
      await views[state.view]();
      showError(null);
    } catch (error) {
      showError(error);
    }
  })();
  await refreshing;
  refreshing = null;
  if (refreshAgain) {
    refreshAgain = false;
    refresh();
  }
}

let refreshTimer = null;
function scheduleRefresh() {
  if (refreshTimer === null) {
    refreshTimer = setTimeout(() => {
      refreshTimer = null;
      refresh();
    }, REFRESH_MS);
  }
}

// ------------------------------------------------------------------ overview

async function renderOverview() {
  const [stats, history] = await Promise.all([api("/api/v1/stats"), api("/api/v1/stats/history")]);
  const counts = $("status-counts");
  counts.replaceChildren(
    ...STATUSES.map((s) =>
      el("a", { class: "count", href: `#/agents`, "data-status": s, onclick: () => setStatusFilter(s) },
        el("strong", {}, stats.statusDistribution[s] || 0), el("span", {}, s)),
    ),
  );
  const facts = [
    ["Agents", stats.totalAgents],
    ["Runtimes", stats.totalRuntimes],
    ["Heartbeat streams", stats.heartbeatStreams],
    ["Subscribers", stats.subscribers],
    ["Expiry guard", stats.expiryGuardActive ? "ACTIVE: deregistrations are held back" : "idle"],
    ["Revision", stats.revision],
    ["Oldest resumable revision", Number(stats.compactedRevision) + 1],
    ["Registrations", stats.totalRegistrations],
    ["Deregistrations", stats.totalDeregistrations],
    ["FindAgents queries", stats.totalQueries],
  ];
  $("facts").replaceChildren(...facts.flatMap(([k, v]) => [el("dt", {}, k), el("dd", {}, v)]));
  $("facts").classList.toggle("guard", stats.expiryGuardActive);
  const samples = history.samples.map((s) => ({ time: s.time, counts: s.counts }));
  samples.push({ time: Date.now() / 1000, counts: stats.statusDistribution });
  drawChart(samples);
}

function drawChart(samples) {
  const svg = $("chart");
  const ns = "http://www.w3.org/2000/svg";
  const width = 600;
  const height = 180;
  const max = Math.max(1, ...samples.flatMap((s) => STATUSES.map((k) => Number(s.counts[k] || 0))));
  const t0 = samples[0].time;
  const span = Math.max(1, samples[samples.length - 1].time - t0);
  const x = (t) => ((t - t0) / span) * width;
  const y = (v) => height - 4 - (v / max) * (height - 12);
  const nodes = STATUSES.map((status) => {
    const line = document.createElementNS(ns, "polyline");
    line.setAttribute("points", samples.map((s) => `${x(s.time)},${y(Number(s.counts[status] || 0))}`).join(" "));
    line.setAttribute("class", `line status-${status}`);
    return line;
  });
  const label = document.createElementNS(ns, "text");
  label.setAttribute("x", "4");
  label.setAttribute("y", "12");
  label.textContent = `max ${max}`;
  svg.replaceChildren(...nodes, label);
  const minutes = Math.round(span / 60);
  $("chart-legend").replaceChildren(
    ...STATUSES.map((s) => el("span", { class: `legend status-${s}` }, s)),
    el("span", { class: "small" }, ` last ${minutes || "<1"} min`),
  );
}

// ------------------------------------------------------------------ agents

function setStatusFilter(status) {
  state.filters.statuses = new Set([status]);
  state.pageTokens = [""];
  syncFilterForm();
}

function syncFilterForm() {
  for (const box of document.querySelectorAll("#status-filter input")) box.checked = state.filters.statuses.has(box.value);
  $("filter-runtime").value = state.filters.runtime;
  $("filter-labels").value = state.filters.labels;
  $("filter-capability").value = state.filters.capability;
}

$("status-filter").append(
  ...STATUSES.map((s) => el("label", {}, el("input", { type: "checkbox", value: s, name: "status" }), s)),
);

$("agent-filters").addEventListener("submit", (event) => {
  event.preventDefault();
  state.filters = {
    statuses: new Set([...document.querySelectorAll("#status-filter input:checked")].map((b) => b.value)),
    runtime: $("filter-runtime").value.trim(),
    labels: $("filter-labels").value.trim(),
    capability: $("filter-capability").value.trim(),
  };
  state.pageTokens = [""];
  refresh();
});

$("page-next").addEventListener("click", () => {
  if (state.nextPageToken) {
    state.pageTokens.push(state.nextPageToken);
    refresh();
  }
});
$("page-prev").addEventListener("click", () => {
  if (state.pageTokens.length > 1) {
    state.pageTokens.pop();
    refresh();
  }
});

function agentQuery() {
  const query = new URLSearchParams();
  for (const s of state.filters.statuses) query.append("status", s);
  if (state.filters.labels) query.append("selector", state.filters.labels);
  return query;
}

async function renderAgents() {
  const query = agentQuery();
  let agents;
  let matched = new Map();
  if (state.filters.capability) {
    query.set("capability", state.filters.capability);
    query.set("limit", PAGE_SIZE);
    const found = await api(`/api/v1/find?${query}`);
    agents = found.matches.map((m) => m.agent).filter((a) => !state.filters.runtime || a.runtimeId === state.filters.runtime);
    matched = new Map(found.matches.map((m) => [m.agent.agentId, `${m.matchedCapability} (${short(m.matchKind, "MATCH_KIND_")})`]));
    state.nextPageToken = "";
  } else {
    if (state.filters.runtime) query.set("runtime_id", state.filters.runtime);
    query.set("page_size", PAGE_SIZE);
    query.set("page_token", state.pageTokens[state.pageTokens.length - 1]);
    const page = await api(`/api/v1/agents?${query}`);
    agents = page.agents;
    state.nextPageToken = page.nextPageToken;
  }
  $("agents").tBodies[0].replaceChildren(
    ...agents.map((a) => {
      const status = short(a.status, "AGENT_STATUS_");
      return el("tr", { "data-agent-id": a.agentId, "data-status": status },
        el("td", {}, el("a", { href: `#/agent/${encodeURIComponent(a.agentId)}` }, a.agentId)),
        el("td", {}, a.card.name),
        el("td", {}, a.runtimeId),
        el("td", {}, badge(status)),
        el("td", {}, short(a.statusReason, "STATUS_REASON_")),
        el("td", {}, when(a.lastHeartbeat)),
        el("td", {}, matched.get(a.agentId) || ""));
    }),
  );
  const first = (state.pageTokens.length - 1) * PAGE_SIZE;
  $("page-info").textContent = agents.length ? `page ${state.pageTokens.length}: ${first + 1}–${first + agents.length}` : "no agents match";
  $("page-prev").disabled = state.pageTokens.length <= 1;
  $("page-next").disabled = !state.nextPageToken;
}

// ------------------------------------------------------------------ one agent

function fieldList(object, skip) {
  return Object.entries(object)
    .filter(([key]) => !skip.includes(key))
    .flatMap(([key, value]) => [el("dt", {}, key), el("dd", {}, describe(value))]);
}

function describe(value) {
  if (Array.isArray(value)) {
    if (!value.length) return "";
    if (value.every((v) => typeof v !== "object")) return value.join(", ");
    return el("ul", {}, ...value.map((v) => el("li", {}, describe(v))));
  }
  if (value && typeof value === "object") {
    const entries = Object.entries(value);
    return entries.length ? el("dl", { class: "facts nested" }, ...fieldList(value, [])) : "";
  }
  if (typeof value === "string" && /^\d{4}-\d\d-\d\dT/.test(value)) return value.startsWith("1970") ? "" : value;
  return String(value);
}

async function renderAgent() {
  const id = state.agentId;
  $("agent-title").textContent = id;
  let agent;
  try {
    agent = (await api(`/api/v1/agents/${encodeURIComponent(id)}`)).agent;
  } catch (error) {
    if (error.status !== 404) throw error;
    $("agent-status").replaceChildren("not registered");
    $("agent-actions").hidden = true;
    $("agent-fields").replaceChildren();
    $("agent-card").replaceChildren();
    return;
  }
  const status = short(agent.status, "AGENT_STATUS_");
  $("agent-status").replaceChildren(badge(status));
  $("agent-actions").hidden = state.role !== "admin";
  $("agent-fields").replaceChildren(...fieldList(agent, ["card"]));
  $("agent-card").replaceChildren(el("dl", { class: "facts" }, ...fieldList(agent.card, DEPRECATED_CARD_FIELDS)));
  $("card-link").href = `/agents/${encodeURIComponent(id)}/.well-known/agent-card.json`;
  const recent = await api(`/api/v1/agents/${encodeURIComponent(id)}/events?limit=50`);
  $("agent-events").tBodies[0].replaceChildren(
    ...recent.events.reverse().map((e) => el("tr", {}, el("td", {}, e.revision), el("td", {}, when(e.time)),
      el("td", {}, short(e.type, "EVENT_TYPE_")), el("td", {}, change(e)))),
  );
}

function change(event) {
  const type = short(event.type, "EVENT_TYPE_");
  const reason = short(event.statusReason, "STATUS_REASON_").replace("UNSPECIFIED", "");
  if (type === "AGENT_STATUS_CHANGED") {
    return `${short(event.oldStatus, "AGENT_STATUS_")} → ${short(event.newStatus, "AGENT_STATUS_")} (${reason})`;
  }
  if (type === "AGENT_DEREGISTERED") return short(event.deregisterReason, "DEREGISTER_REASON_");
  return reason;
}

$("set-status").addEventListener("click", async () => {
  const status = $("operator-status").value;
  if (!(await confirmAction(`Set agent ${state.agentId} to ${status} (operator)?`))) return;
  await act(`/api/v1/agents/${encodeURIComponent(state.agentId)}/status`, "POST", { status });
});

$("deregister").addEventListener("click", async () => {
  if (!(await confirmAction(`Deregister agent ${state.agentId}? Its runtime must register it again.`))) return;
  await act(`/api/v1/agents/${encodeURIComponent(state.agentId)}`, "DELETE", {});
});

async function act(path, method, body) {
  try {
    await api(path, { method, body });
    showError(null);
  } catch (error) {
    showError(error);
  }
  refresh();
}

// ------------------------------------------------------------------ runtimes

async function allRuntimes() {
  const runtimes = [];
  let token = "";
  do {  // pages, as ListRuntimes answers them
    const page = await api(`/api/v1/runtimes?page_size=1000&page_token=${encodeURIComponent(token)}`);
    runtimes.push(...(page.runtimes || []));
    token = page.nextPageToken || "";
  } while (token);
  return runtimes;
}

async function renderRuntimes() {
  const runtimes = await allRuntimes();
  $("runtimes").tBodies[0].replaceChildren(
    ...runtimes.map((r) => {
      const show = el("a", { href: "#/agents", onclick: () => showRuntime(r.runtimeId) }, r.runtimeId);
      const drain = el("button", { type: "button", class: "danger", hidden: state.role !== "admin" }, "Drain");
      drain.addEventListener("click", async () => {
        const question = `Drain runtime ${r.runtimeId}: set all ${r.agentCount} of its agents OFFLINE (operator)?`;
        if (await confirmAction(question)) await act(`/api/v1/runtimes/${encodeURIComponent(r.runtimeId)}/drain`, "POST", {});
      });
      return el("tr", { "data-runtime-id": r.runtimeId }, el("td", {}, show), el("td", {}, r.agentCount),
        el("td", {}, r.streamConnected ? "bound" : "none"), el("td", {}, drain));
    }),
  );
}

function showRuntime(runtimeId) {
  state.filters = { statuses: new Set(), runtime: runtimeId, labels: "", capability: "" };
  state.pageTokens = [""];
  syncFilterForm();
}

// ------------------------------------------------------------------ events tail

async function loadTail() {
  const recent = await api(`/api/v1/events?limit=${TAIL_LIMIT}`);
  const known = new Set(state.tail.map((e) => e.revision));
  state.tail = [...recent.events.filter((e) => !known.has(e.revision)), ...state.tail].slice(-TAIL_LIMIT);
}

function eventMatches(e) {
  const type = $("event-type").value;
  const runtime = $("event-runtime").value.trim();
  const agent = $("event-agent").value.trim();
  return (!type || short(e.type, "EVENT_TYPE_") === type) && (!runtime || e.runtimeId.includes(runtime)) &&
    (!agent || e.agentId.includes(agent));
}

async function renderEvents() {
  if (!state.tailLoaded) {
    await loadTail();
    state.tailLoaded = true;
  }
  const rows = state.tail.filter(eventMatches).slice(-200).reverse();
  $("events").tBodies[0].replaceChildren(
    ...rows.map((e) => el("tr", { "data-revision": e.revision }, el("td", {}, e.revision), el("td", {}, when(e.time)),
      el("td", {}, short(e.type, "EVENT_TYPE_")),
      el("td", {}, e.agentId ? el("a", { href: `#/agent/${encodeURIComponent(e.agentId)}` }, e.agentId) : ""),
      el("td", {}, e.runtimeId), el("td", {}, change(e)))),
  );
  $("pending").textContent = state.paused ? `paused: ${state.pending.length} new` : "";
  $("pause").textContent = state.paused ? "Resume" : "Pause";
}

for (const id of ["event-type", "event-runtime", "event-agent"]) $(id).addEventListener("input", () => renderEvents());
$("event-filters").addEventListener("submit", (event) => event.preventDefault());
$("pause").addEventListener("click", () => {
  state.paused = !state.paused;
  if (!state.paused) {
    state.tail = [...state.tail, ...state.pending].slice(-TAIL_LIMIT);
    state.pending = [];
  }
  renderEvents();
});

function onEvent(event) {
  if (state.paused) state.pending.push(event);
  else state.tail = [...state.tail, event].slice(-TAIL_LIMIT);
  if (state.view === "events") renderEvents();
  else if (state.view !== "agent" || event.agentId === state.agentId) scheduleRefresh();
}

// ------------------------------------------------------------------ start

let stream = null;

async function start() {
  try {
    const me = await api("/api/v1/whoami");
    state.role = me.role;
    $("who").textContent = me.authenticated ? `${me.name} (${me.role})` : "no authentication";
    $("forget-token").hidden = !me.authenticated;
  } catch (error) {
    if (error.status === 401) return; // the token dialog is open; start() runs again after it
    showError(error);
  }
  if (!stream) {
    stream = new EventStream(onEvent);
    stream.run();
  }
  route();
}

window.addEventListener("hashchange", route);
start();
