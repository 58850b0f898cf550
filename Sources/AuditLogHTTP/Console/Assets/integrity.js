// Integrity: the head of the log, the latest signed checkpoint, the latest verification the
// server ran, and a button that verifies every byte now with a progress bar.

import * as api from "./api.js";
import { h, fill, integer, time } from "./format.js";

function bytes(n) {
  const units = ["B", "KiB", "MiB", "GiB", "TiB"];
  let i = 0;
  while (n >= 1024 && i < units.length - 1) {
    n /= 1024;
    i++;
  }
  return `${i ? n.toFixed(1) : n} ${units[i]}`;
}

/** The verdict of a verification report: the green tick, or what is wrong. */
export function reportView(report, finishedAt) {
  const ok = report.ok;
  const issues = report.issues || [];
  return h("div", { class: `report ${ok ? "intact" : "damaged"}`, id: "verify-report", dataset: { ok: String(ok) } },
    h("p", { class: "verdict-line" }, h("span", { class: "tick", "aria-hidden": "true" }, ok ? "✓" : "✕"), " ",
      ok ? "Intact" : "Not intact", ": ",
      `${integer(report.records)} records in ${integer(report.segments)} segments checked in ${Number(report.seconds).toFixed(2)} s`,
      finishedAt ? [" (", time(finishedAt), ")"] : ""),
    h("dl", { class: "fields" },
      h("dt", {}, "seqs"), h("dd", {}, report.first_seq === null ? "—" : `${integer(report.first_seq)} – ${integer(report.last_seq)}`),
      h("dt", {}, "chain head"), h("dd", { class: "mono wrap" }, report.chain_head || "—"),
      h("dt", {}, "swept records"), h("dd", {}, integer(report.swept_records)),
      h("dt", {}, "torn tail"), h("dd", {}, report.torn_tail ? `${report.torn_tail.file} at byte ${report.torn_tail.offset}: ${report.torn_tail.reason}` : "none"),
      h("dt", {}, "recoveries"), h("dd", {}, integer((report.recoveries || []).length))),
    issues.length ? h("table", { class: "plain", "aria-label": "Issues" },
      h("thead", {}, h("tr", {}, ["kind", "file", "offset", "seq", "message"].map((c) => h("th", { scope: "col" }, c)))),
      h("tbody", {}, issues.map((i) => h("tr", {}, h("td", {}, i.kind), h("td", { class: "mono" }, i.file), h("td", { class: "num" }, integer(i.offset)), h("td", { class: "num" }, i.seq ?? ""), h("td", {}, i.message))))) : null);
}

export async function render(main, params, context) {
  const head = h("div", { id: "head" }, h("p", { class: "muted" }, "Loading…"));
  const checkpoint = h("div", { id: "checkpoint" }, h("p", { class: "muted" }, "Loading…"));
  const latest = h("div", { id: "latest-verify" }, h("p", { class: "muted" }, "Loading…"));
  const run = h("button", { type: "button", id: "verify-now" }, "Verify now");
  const progress = h("progress", { id: "verify-progress", max: "1", value: "0", hidden: true });
  const progressText = h("span", { class: "muted", id: "verify-progress-text", "aria-live": "polite" });
  fill(main,
    h("h1", { class: "visually-hidden" }, "Integrity"),
    h("div", { class: "detail-grid" },
      h("section", { "aria-labelledby": "h-verify" }, h("h2", { id: "h-verify" }, "Verification"), latest, h("p", {}, run, " ", progress, " ", progressText)),
      h("section", {}, h("h2", {}, "Head"), head, h("h2", {}, "Latest signed checkpoint"), checkpoint)));

  const controller = new AbortController();
  api.get("/v1/head").then((x) => {
    if (x.checkpoint_size === null) fill(checkpoint, h("p", { class: "muted" }, "None yet: a server signs checkpoints with auditlog serve --signing-key."));
    else api.get("/v1/checkpoint", { text: true }).then((note) => fill(checkpoint, h("pre", { class: "note", id: "checkpoint-note" }, note)),
      (error) => fill(checkpoint, h("p", { class: "bad" }, error.message)));
    fill(head, h("dl", { class: "fields" },
    h("dt", {}, "last seq"), h("dd", { id: "head-seq" }, x.last_seq === null ? "— (empty)" : integer(x.last_seq)),
    h("dt", {}, "chain head"), h("dd", { class: "mono wrap" }, x.chain_head),
    h("dt", {}, "newest event"), h("dd", {}, x.event_time ? time(x.event_time) : "—"),
    h("dt", {}, "segments"), h("dd", {}, integer(x.segments)),
    h("dt", {}, "first seq"), h("dd", {}, x.first_seq === null ? "—" : integer(x.first_seq))));
  }, (error) => fill(head, h("p", { class: "bad" }, error.message)));
  api.get("/v1/verify/latest").then((x) => fill(latest,
    x.report ? reportView(x.report, x.finished_at) : x.error ? h("p", { class: "bad" }, x.error.message) : h("p", { class: "muted", id: "not-verified" }, "Not verified since the server started.")),
  (error) => fill(latest, h("p", { class: "bad" }, error.message)));

  run.addEventListener("click", async () => {
    run.disabled = true;
    progress.hidden = false;
    progress.removeAttribute("value"); // indeterminate until the first report of progress
    progressText.textContent = "Starting…";
    try {
      await api.stream("/v1/verify?progress=true", (message) => {
        const data = JSON.parse(message.data);
        if (message.event === "progress") {
          progress.max = Math.max(1, data.bytes_total);
          progress.value = data.bytes_done;
          progressText.textContent = `${bytes(data.bytes_done)} of ${bytes(data.bytes_total)}, ${integer(data.segments_done)} of ${integer(data.segments_total)} segments, ${integer(data.records_done)} records`;
        } else if (message.event === "report") {
          fill(latest, reportView(data, new Date().toISOString()));
          progressText.textContent = "Done.";
        } else if (message.event === "error") {
          fill(latest, h("p", { class: "bad" }, data.error.message));
          progressText.textContent = "";
        }
      }, controller.signal);
    } catch (error) {
      if (error.name !== "AbortError") context.showError(error);
    } finally {
      run.disabled = false;
      progress.hidden = true;
    }
  });
  return () => controller.abort();
}
