// Usage: cost or requests per day stacked by team or model (an SVG the page draws), the usage
// table with sorting, and its CSV as /v1/usage?format=csv gives it.

import * as api from "./api.js";
import { h, fill, integer, money, milliseconds, percent } from "./format.js";

const WINDOWS = [["7d", "Last 7 days"], ["30d", "Last 30 days"], ["90d", "Last 90 days"]];
const SERIES = 8; // the largest series get a colour each; the rest are "other"
const COLUMNS = [
  ["requests", "Requests", integer],
  ["tokens", "Tokens", integer],
  ["cost", "Cost", money],
  ["avg_cost", "Avg cost", money],
  ["blocked", "Blocked", integer],
  ["redacted", "Redacted", integer],
  ["cache_hit_rate", "Cache hits", percent],
  ["p95_latency_ms", "p95 latency", milliseconds],
];

/** The usage view's settings from the URL. */
function settings(params) {
  const since = params.get("since") || "30d";
  const by = params.get("by") === "model" ? "model" : "team";
  const metric = params.get("metric") === "requests" ? "requests" : "cost";
  return { since, by, metric, sort: params.get("sort") || metric, desc: params.get("dir") !== "asc" };
}

const dayLabel = (rfc3339) => new Date(rfc3339).toLocaleDateString(undefined, { month: "short", day: "numeric", timeZone: "UTC" });

/** A nice upper bound for the axis and its step. */
function scale(max) {
  if (max <= 0) return { top: 1, step: 0.25 };
  const magnitude = 10 ** Math.floor(Math.log10(max));
  const step = [0.1, 0.2, 0.25, 0.5, 1, 2, 2.5, 5, 10].map((f) => f * magnitude).find((s) => s * 4 >= max);
  return { top: step * 4, step };
}

export function chart(rows, by, metric) {
  const days = [...new Set(rows.map((r) => r.day))].sort();
  const totals = new Map();
  for (const r of rows) if (r[by] !== undefined && r[by] !== null) totals.set(r[by], (totals.get(r[by]) || 0) + Number(r[metric]));
  const named = [...totals.entries()].sort((a, b) => b[1] - a[1]).slice(0, SERIES).map(([k]) => k);
  const series = totals.size > named.length ? [...named, "other"] : named;
  const stacks = days.map((day) => {
    const values = new Map(series.map((s) => [s, 0]));
    for (const r of rows) {
      if (r.day !== day || r[by] === undefined || r[by] === null) continue;
      const key = named.includes(r[by]) ? r[by] : "other";
      values.set(key, values.get(key) + Number(r[metric]));
    }
    return { day, values };
  });
  const max = Math.max(0, ...stacks.map((s) => [...s.values.values()].reduce((a, b) => a + b, 0)));
  const { top, step } = scale(max);
  const W = 900, H = 280, left = 64, right = 8, topPad = 10, bottom = 28;
  const plotW = W - left - right, plotH = H - topPad - bottom;
  const slot = plotW / Math.max(days.length, 1);
  const barW = Math.max(2, Math.min(48, slot * 0.7));
  const y = (v) => topPad + plotH - (v / top) * plotH;
  const format = metric === "cost" ? money : integer;
  const labelEvery = Math.ceil(days.length / 12);

  const svg = h("svg:svg", { viewBox: `0 0 ${W} ${H}`, role: "img", class: "chart", id: "usage-chart", "aria-label": `${metric === "cost" ? "Cost" : "Requests"} per day by ${by}` },
    [0, 1, 2, 3, 4].map((i) => h("svg:g", { class: "grid" },
      h("svg:line", { x1: left, x2: W - right, y1: y(i * step), y2: y(i * step) }),
      h("svg:text", { x: left - 6, y: y(i * step) + 4, "text-anchor": "end" }, format(i * step)))),
    stacks.map((stack, i) => {
      const x = left + i * slot + (slot - barW) / 2;
      let base = 0;
      const total = [...stack.values.values()].reduce((a, b) => a + b, 0);
      return h("svg:g", { class: "bar", dataset: { day: stack.day, total: String(total) } },
        series.map((s, k) => {
          const v = stack.values.get(s);
          if (!v) return null;
          const rect = h("svg:rect", { x, width: barW, y: y(base + v), height: Math.max(0.5, y(base) - y(base + v)), class: `c${s === "other" ? "x" : k}` },
            h("svg:title", {}, `${dayLabel(stack.day)} · ${s}: ${format(v)}`));
          base += v;
          return rect;
        }),
        h("svg:title", {}, `${dayLabel(stack.day)}: ${format(total)}`),
        i % labelEvery === 0 ? h("svg:text", { x: x + barW / 2, y: H - 8, "text-anchor": "middle", class: "axis" }, dayLabel(stack.day)) : null);
    }));
  const legend = h("ul", { class: "legend", "aria-label": "Series" },
    series.map((s, k) => h("li", {}, h("span", { class: `swatch c${s === "other" ? "x" : k}`, "aria-hidden": "true" }), s)));
  return h("figure", { class: "chart-figure" }, svg, legend,
    h("figcaption", { class: "muted" }, `${days.length} day${days.length === 1 ? "" : "s"} (UTC), ${metric === "cost" ? "cost" : "requests"} by ${by}${series.includes("other") ? `; the ${SERIES} largest, the rest as other` : ""}.`));
}

export async function render(main, params, context) {
  const s = settings(params);
  const set = (changes) => {
    const next = new URLSearchParams(params);
    for (const [k, v] of Object.entries(changes)) next.set(k, v);
    context.navigate("usage", next);
  };
  const select = (id, label, options, current, onchange) =>
    h("label", {}, label, " ", h("select", { id, onchange: (e) => onchange(e.target.value) }, options.map(([v, text]) => h("option", { value: v, selected: v === current }, text))));
  const download = h("button", { type: "button", id: "usage-csv" }, "Download CSV");
  const chartArea = h("div", { id: "chart-area" }, h("p", { class: "muted" }, "Loading…"));
  const tableArea = h("div", { class: "table-wrap", id: "usage-table-area" });
  fill(main,
    h("h1", { class: "visually-hidden" }, "Usage"),
    h("form", { class: "filters", onsubmit: (e) => e.preventDefault() },
      select("u-window", "Window", WINDOWS, s.since, (v) => set({ since: v })),
      select("u-by", "By", [["team", "team"], ["model", "model"]], s.by, (v) => set({ by: v, sort: s.metric })),
      select("u-metric", "Show", [["cost", "cost"], ["requests", "requests"]], s.metric, (v) => set({ metric: v, sort: v })),
      download),
    chartArea, h("h2", {}, `By ${s.by}`), tableArea);

  const tableQuery = { since: s.since, group_by: s.by, sort: ["cost", "requests", "tokens"].includes(s.sort) ? s.sort : "cost" };
  download.addEventListener("click", async () => {
    try {
      const file = await api.blob(api.url("/v1/usage", { ...tableQuery, format: "csv" }));
      const link = h("a", { href: URL.createObjectURL(file), download: `usage-by-${s.by}-${s.since}.csv` });
      document.body.append(link);
      link.click();
      link.remove();
      setTimeout(() => URL.revokeObjectURL(link.href), 10000);
    } catch (error) {
      context.showError(error);
    }
  });

  try {
    const [series, table] = await Promise.all([
      api.get(api.url("/v1/usage", { since: s.since, group_by: `day,${s.by}` })),
      api.get(api.url("/v1/usage", tableQuery)),
    ]);
    fill(chartArea, series.rows.length ? chart(series.rows, s.by, s.metric) : h("p", { class: "muted" }, "No events in this window."));
    renderTable(tableArea, table, s, set);
  } catch (error) {
    fill(chartArea, h("p", { class: "bad" }, error.message));
    context.showError(error);
  }
}

function renderTable(area, report, s, set) {
  const rows = [...report.rows];
  const key = s.sort === s.by || COLUMNS.some(([c]) => c === s.sort) ? s.sort : "cost";
  const numeric = key !== s.by;
  rows.sort((a, b) => {
    const order = numeric ? Number(a[key]) - Number(b[key]) : String(a[key]).localeCompare(String(b[key]));
    return s.desc ? -order : order;
  });
  const header = (column, label, isNumber) => {
    const sorted = key === column;
    return h("th", { scope: "col", class: isNumber ? "num" : null, "aria-sort": sorted ? (s.desc ? "descending" : "ascending") : "none" },
      h("button", { type: "button", class: "sort", onclick: () => set({ sort: column, dir: sorted && s.desc ? "asc" : "desc" }) }, label, sorted ? (s.desc ? " ▼" : " ▲") : ""));
  };
  const totals = report.totals || {};
  fill(area, h("table", { class: "plain usage", id: "usage-table" },
    h("thead", {}, h("tr", {}, header(s.by, s.by, false), COLUMNS.map(([c, label]) => header(c, label, true)))),
    h("tbody", {}, rows.map((r) => h("tr", {}, h("th", { scope: "row" }, r[s.by] ?? "—"), COLUMNS.map(([c, , f]) => h("td", { class: "num" }, f(r[c])))))),
    h("tfoot", {}, h("tr", {}, h("th", { scope: "row" }, "Total"), COLUMNS.map(([c, , f]) => h("td", { class: "num" }, c in totals ? f(totals[c]) : ""))))));
}
