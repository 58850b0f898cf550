// The events view: filters (kept in the URL), a table newest first, "Load more" by cursor,
// and a live mode that adds events from /v1/tail as they are appended.

import * as api from "./api.js";
import { h, fill, integer, money, milliseconds, time, verdict, text } from "./format.js";

const PRESETS = [
  ["15m", "Last 15 minutes"],
  ["1h", "Last hour"],
  ["24h", "Last 24 hours"],
  ["7d", "Last 7 days"],
  ["30d", "Last 30 days"],
  ["", "All time"],
  ["custom", "Custom…"],
];
const FIELDS = ["verdict", "user", "team", "model", "q", "admin", "since", "until"];
const PAGE = 50;

/** The filters of the URL as /v1/events parameters. */
export function filterParams(params) {
  const out = {};
  for (const name of FIELDS) {
    const value = params.get(name);
    if (value) out[name] = value;
  }
  return out;
}

/** `datetime-local` input value ↔ RFC 3339 in UTC. */
const toLocalInput = (rfc3339) => {
  const d = new Date(rfc3339);
  if (Number.isNaN(d.getTime())) return "";
  return new Date(d.getTime() - d.getTimezoneOffset() * 60000).toISOString().slice(0, 16);
};
const fromLocalInput = (value) => (value ? new Date(value).toISOString() : "");

export function render(main, params, context) {
  const filters = filterParams(params);
  const custom = (filters.since && !/^\d+[smhdw]/.test(filters.since)) || filters.until;
  const state = { cursor: null, shown: new Set(), maxSeq: 0, live: null, loading: false };

  const windowSelect = h("select", { id: "f-window", name: "window", "aria-label": "Time window" },
    PRESETS.map(([value, label]) => h("option", { value, selected: custom ? value === "custom" : (filters.since || "") === value }, label)));
  const since = h("input", { type: "datetime-local", id: "f-since", "aria-label": "From (your time zone)", value: custom && filters.since ? toLocalInput(filters.since) : "" });
  const until = h("input", { type: "datetime-local", id: "f-until", "aria-label": "Until (your time zone)", value: custom && filters.until ? toLocalInput(filters.until) : "" });
  const customFields = h("span", { class: "custom-window", hidden: !custom }, since, h("span", { "aria-hidden": "true" }, "–"), until);
  const verdictSelect = h("select", { id: "f-verdict", name: "verdict", "aria-label": "Verdict" },
    h("option", { value: "" }, "Any verdict"),
    ["allow", "block", "redact", "escalate"].map((v) => h("option", { value: v, selected: filters.verdict === v }, v)));
  const input = (name, label, placeholder) =>
    h("input", { type: "search", id: `f-${name}`, name, value: filters[name] || "", placeholder, "aria-label": label, autocomplete: "off", spellcheck: "false" });
  const user = input("user", "User (exact)", "user");
  const team = input("team", "Team (exact)", "team");
  const model = input("model", "Model (exact)", "model");
  const search = input("q", "Search text fields", "search text…");
  const admin = h("input", { type: "checkbox", id: "f-admin", checked: filters.admin === "true" });

  const apply = () => {
    const next = new URLSearchParams();
    const preset = windowSelect.value;
    if (preset === "custom") {
      if (since.value) next.set("since", fromLocalInput(since.value));
      if (until.value) next.set("until", fromLocalInput(until.value));
    } else if (preset) next.set("since", preset);
    if (verdictSelect.value) next.set("verdict", verdictSelect.value);
    for (const field of [user, team, model, search]) if (field.value.trim()) next.set(field.name, field.value.trim());
    if (admin.checked) next.set("admin", "true");
    context.navigate("events", next);
  };
  windowSelect.addEventListener("change", () => {
    customFields.hidden = windowSelect.value !== "custom";
    if (windowSelect.value !== "custom") apply();
  });
  verdictSelect.addEventListener("change", apply);
  admin.addEventListener("change", apply);

  const form = h("form", { class: "filters", role: "search", onsubmit: (e) => { e.preventDefault(); apply(); } },
    windowSelect, customFields, verdictSelect, user, team, model, search,
    h("label", { class: "check" }, admin, " admin only"),
    h("button", { type: "submit" }, "Apply"),
    h("button", { type: "button", class: "link", onclick: () => context.navigate("events", new URLSearchParams()) }, "Clear"));

  const liveButton = h("button", { type: "button", id: "live", "aria-pressed": "false" }, h("span", { class: "dot", "aria-hidden": "true" }), " Live");
  const pauseButton = h("button", { type: "button", id: "pause", hidden: true }, "Pause");
  const liveStatus = h("span", { id: "live-status", class: "muted", "aria-live": "polite" });
  const tbody = h("tbody", { id: "events-body" });
  const table = h("table", { class: "events", id: "events-table", "aria-label": "Events, newest first" },
    h("thead", {}, h("tr", {},
      h("th", { scope: "col" }, "Time"), h("th", { scope: "col" }, "Verdict"), h("th", { scope: "col" }, "Reason"),
      h("th", { scope: "col" }, "User"), h("th", { scope: "col", class: "opt" }, "Team"), h("th", { scope: "col" }, "Model"),
      h("th", { scope: "col", class: "num" }, "Tokens"), h("th", { scope: "col", class: "num" }, "Cost"),
      h("th", { scope: "col", class: "num opt" }, "Latency"), h("th", { scope: "col", class: "opt" }, "Cache"))),
    tbody);
  const status = h("p", { id: "events-status", class: "muted", "aria-live": "polite" });
  const more = h("button", { type: "button", id: "load-more", hidden: true }, "Load more");

  fill(main,
    h("h1", { class: "visually-hidden" }, "Events"),
    form,
    h("div", { class: "toolbar" }, liveButton, pauseButton, liveStatus),
    h("div", { class: "table-wrap" }, table),
    h("div", { class: "below" }, status, more));

  function row(event, fresh) {
    const tokens = (event.tokens_in || 0) + (event.tokens_out || 0);
    const hasTokens = event.tokens_in !== undefined || event.tokens_out !== undefined;
    const tr = h("tr", { tabindex: "0", class: fresh ? "fresh" : null, dataset: { seq: event.seq, id: event.id } },
      h("td", { class: "time" }, time(event.timestamp)),
      h("td", {}, event.event_type === "decision" || event.verdict ? verdict(event.verdict) : h("span", { class: "admin-type" }, event.event_type)),
      h("td", { class: "reason" }, text(event.reason_code)),
      h("td", {}, text(event.user)),
      h("td", { class: "opt" }, text(event.team)),
      h("td", {}, text(event.model)),
      h("td", { class: "num" }, hasTokens ? integer(tokens) : ""),
      h("td", { class: "num" }, money(event.cost)),
      h("td", { class: "num opt" }, milliseconds(event.latency_ms)),
      h("td", { class: "opt" }, event.cache_hit === true ? "hit" : event.cache_hit === false ? "miss" : ""));
    tr.title = `seq ${event.seq} · ${event.id}`;
    return tr;
  }

  function add(events, { atTop = false } = {}) {
    const rows = [];
    for (const event of events) {
      if (state.shown.has(event.seq)) continue;
      state.shown.add(event.seq);
      state.maxSeq = Math.max(state.maxSeq, event.seq);
      rows.push(row(event, atTop));
    }
    if (atTop) tbody.prepend(...rows.reverse());
    else tbody.append(...rows);
    return rows.length;
  }

  function describe() {
    const n = state.shown.size;
    status.textContent = n === 0 ? "No events match these filters." : `${integer(n)} event${n === 1 ? "" : "s"} shown${state.cursor ? "; more are older" : ""}.`;
    more.hidden = !state.cursor;
  }

  async function loadPage() {
    if (state.loading) return;
    state.loading = true;
    more.disabled = true;
    status.textContent = "Loading…";
    try {
      const started = performance.now();
      const page = await api.get(api.url("/v1/events", { ...filters, limit: PAGE, cursor: state.cursor }));
      const answered = performance.now();
      state.cursor = page.next_cursor;
      add(page.data);
      describe();
      await new Promise((resolve) => requestAnimationFrame(() => setTimeout(resolve, 0)));
      const rendered = performance.now();
      // Read by the browser test (docs/PERFORMANCE.md): API time and render time of the page.
      document.documentElement.dataset.lastApiMs = (answered - started).toFixed(1);
      document.documentElement.dataset.lastRenderMs = (rendered - answered).toFixed(1);
      document.documentElement.dataset.lastRenderRows = String(page.data.length);
    } catch (error) {
      context.showError(error);
      status.textContent = "Could not load events.";
    } finally {
      state.loading = false;
      more.disabled = false;
    }
  }
  more.addEventListener("click", loadPage);

  // Live mode: /v1/tail with the same filters from just after the newest event shown.
  async function follow() {
    const live = state.live;
    while (state.live === live && !live.paused) {
      live.controller = new AbortController();
      const after = state.maxSeq;
      try {
        liveStatus.textContent = "Live: waiting for new events…";
        await api.stream(api.url("/v1/tail", { ...filters, after_seq: after || undefined }), (message) => {
          if (message.event !== "message") return;
          const event = JSON.parse(message.data);
          if (add([event], { atTop: true })) {
            liveStatus.textContent = `Live: ${integer(++live.received)} new`;
            describe();
          }
        }, live.controller.signal);
      } catch (error) {
        if (error.name === "AbortError") return;
        if (error.status === 401 || error.status === 403) {
          context.showError(error);
          stopLive();
          return;
        }
        liveStatus.textContent = `Live: reconnecting (${error.message})`;
      }
      await new Promise((resolve) => setTimeout(resolve, 2000));
    }
  }

  function startLive() {
    state.live = { paused: false, received: 0, controller: null };
    liveButton.setAttribute("aria-pressed", "true");
    liveButton.classList.add("on");
    pauseButton.hidden = false;
    pauseButton.textContent = "Pause";
    const next = new URLSearchParams(params);
    next.set("live", "1");
    context.replace("events", next);
    follow();
  }

  function stopLive() {
    if (state.live && state.live.controller) state.live.controller.abort();
    state.live = null;
    liveButton.setAttribute("aria-pressed", "false");
    liveButton.classList.remove("on");
    pauseButton.hidden = true;
    liveStatus.textContent = "";
    const next = new URLSearchParams(params);
    next.delete("live");
    context.replace("events", next);
  }

  liveButton.addEventListener("click", () => (state.live ? stopLive() : startLive()));
  pauseButton.addEventListener("click", () => {
    const live = state.live;
    if (!live) return;
    live.paused = !live.paused;
    pauseButton.textContent = live.paused ? "Resume" : "Pause";
    if (live.paused) {
      if (live.controller) live.controller.abort();
      liveStatus.textContent = "Live: paused; new events will be added when you resume";
    } else follow();
  });

  // Keyboard: arrows (or j/k) move between rows, Enter opens one, Home/End jump.
  tbody.addEventListener("keydown", (e) => {
    const rowElement = e.target.closest("tr");
    if (!rowElement) return;
    let target = null;
    if (e.key === "ArrowDown" || e.key === "j") target = rowElement.nextElementSibling || (more.hidden ? null : more);
    else if (e.key === "ArrowUp" || e.key === "k") target = rowElement.previousElementSibling;
    else if (e.key === "Home") target = tbody.firstElementChild;
    else if (e.key === "End") target = tbody.lastElementChild;
    else if (e.key === "Enter") {
      context.go("event", rowElement.dataset.id);
      e.preventDefault();
      return;
    } else return;
    e.preventDefault();
    if (target) target.focus();
  });
  tbody.addEventListener("click", (e) => {
    const rowElement = e.target.closest("tr");
    if (rowElement && !window.getSelection().toString()) context.go("event", rowElement.dataset.id);
  });

  loadPage().then(() => {
    if (params.get("live") === "1") startLive();
  });
  return () => {
    if (state.live && state.live.controller) state.live.controller.abort();
    state.live = null;
  };
}
