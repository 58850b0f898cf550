// One event in full: its fields, policy results, redactions, fields the event model does not
// know, where it is stored (seq, segment, chain value), the change an admin event describes,
// the `auditlog show` command, and whether its inclusion proof leads to the signed root.

import * as api from "./api.js";
import { h, fill, integer, money, milliseconds, time, verdict, text, shellQuote } from "./format.js";

/** The top-level fields the event model knows (docs/FORMAT.md); the rest are "unknown". */
const KNOWN = [
  "id", "event_type", "timestamp", "verdict", "reason_code", "user", "team", "model", "provider", "config_version",
  "api_key", "source", "tokens_in", "tokens_out", "tokens_cached", "tokens_reasoning", "cost", "latency_ms", "cache_hit",
  "request_id", "session_id", "gateway", "ip", "user_agent", "policies", "redactions", "resource", "details", "seq",
];
const SHOWN_APART = new Set(["policies", "redactions", "details", "id", "seq"]);

function value(name, v) {
  if (name === "timestamp") return time(v);
  if (name === "verdict") return verdict(v);
  if (name === "cost") return money(v);
  if (name === "latency_ms") return milliseconds(v);
  if (name.startsWith("tokens_")) return integer(v);
  if (typeof v === "object" && v !== null) return h("code", {}, JSON.stringify(v));
  return text(v);
}

const definitionList = (pairs) => h("dl", { class: "fields" }, pairs.map(([k, v]) => [h("dt", {}, k), h("dd", {}, v)]));

/** The changes `details` describes, as [field, old, new] (the CLI's DetailsSummary rules), or null. */
export function changes(details) {
  if (!details || typeof details !== "object" || Array.isArray(details)) return null;
  for (const wrapper of ["changes", "diff"]) {
    const found = details[wrapper] && changes(details[wrapper]);
    if (found) return found;
  }
  const keys = Object.keys(details);
  for (const [o, n] of [["before", "after"], ["old", "new"], ["from", "to"]]) {
    const before = details[o], after = details[n];
    const isObject = (x) => x && typeof x === "object" && !Array.isArray(x);
    if (!isObject(before) || !isObject(after) || (o !== "before" && keys.length !== 2)) continue;
    const out = [];
    for (const k of Object.keys(before)) if (JSON.stringify(before[k]) !== JSON.stringify(after[k])) out.push([k, before[k], after[k]]);
    for (const k of Object.keys(after)) if (!(k in before)) out.push([k, undefined, after[k]]);
    return out;
  }
  const out = [];
  for (const [k, pair] of Object.entries(details)) {
    if (!pair || typeof pair !== "object" || Array.isArray(pair)) return null;
    const found = [["old", "new"], ["from", "to"], ["before", "after"]].find(([o, n]) => (o in pair || n in pair) && Object.keys(pair).every((x) => x === o || x === n));
    if (!found) return null;
    out.push([k, pair[found[0]], pair[found[1]]]);
  }
  return out.length ? out : null;
}

const show = (v) => (v === undefined ? h("span", { class: "muted" }, "∅") : h("code", {}, typeof v === "string" ? v : JSON.stringify(v)));

function detailsSection(details) {
  const diff = changes(details);
  if (!diff) return h("pre", { class: "json" }, JSON.stringify(details, null, 2));
  return h("table", { class: "diff", "aria-label": "Changes" },
    h("thead", {}, h("tr", {}, h("th", { scope: "col" }, "Field"), h("th", { scope: "col" }, "Before"), h("th", { scope: "col" }, "After"))),
    h("tbody", {}, diff.map(([field, before, after]) => h("tr", {}, h("th", { scope: "row" }, field), h("td", { class: "old" }, show(before)), h("td", { class: "new" }, show(after))))));
}

function objectsTable(label, rows, columns) {
  const extraKeys = (row) => Object.keys(row).filter((k) => !columns.includes(k));
  return h("table", { class: "plain", "aria-label": label },
    h("thead", {}, h("tr", {}, columns.map((c) => h("th", { scope: "col" }, c)), h("th", { scope: "col" }, "other"))),
    h("tbody", {}, rows.map((row) => h("tr", {},
      columns.map((c) => h("td", {}, c === "verdict" && ["allow", "block", "redact", "escalate"].includes(row[c]) ? verdict(row[c]) : text(row[c]))),
      h("td", {}, extraKeys(row).length ? h("code", {}, JSON.stringify(Object.fromEntries(extraKeys(row).map((k) => [k, row[k]])))) : "")))));
}

// RFC 9162 (2.1.3.2): the root an inclusion proof leads to.
async function sha256(...parts) {
  const data = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    data.set(p, at);
    at += p.length;
  }
  return new Uint8Array(await crypto.subtle.digest("SHA-256", data));
}
const fromBase64 = (s) => Uint8Array.from(atob(s), (c) => c.charCodeAt(0));
const toBase64 = (bytes) => btoa(String.fromCharCode(...bytes));

export async function rootFromProof(entry, index, size, proof) {
  let fn = BigInt(index), sn = BigInt(size) - 1n;
  if (fn > sn) return null;
  let r = await sha256(new Uint8Array([0]), entry);
  for (const p of proof) {
    if (sn === 0n) return null;
    if ((fn & 1n) === 1n || fn === sn) {
      r = await sha256(new Uint8Array([1]), p, r);
      if ((fn & 1n) === 0n) while ((fn & 1n) === 0n && fn !== 0n) { fn >>= 1n; sn >>= 1n; }
    } else r = await sha256(new Uint8Array([1]), r, p);
    fn >>= 1n;
    sn >>= 1n;
  }
  return sn === 0n ? r : null;
}

async function proofStatus(id, seq, output) {
  fill(output, h("span", { class: "muted" }, "Checking…"));
  let bundle;
  try {
    const head = await api.get("/v1/head");
    if (head.checkpoint_size === null) {
      fill(output, h("span", { class: "muted", id: "proof-none" }, "No signed checkpoint yet: a server signs them with auditlog serve --signing-key."));
      return;
    }
    if (seq > head.checkpoint_size) {
      fill(output, h("span", { class: "muted", id: "proof-pending" }, `Not yet covered: the latest signed checkpoint has ${integer(head.checkpoint_size)} entries; the next one will include seq ${integer(seq)}.`));
      return;
    }
    bundle = await api.get(api.url("/v1/proof/inclusion", { id }));
  } catch (error) {
    if (error.status === 404 || error.status === 400) {
      fill(output, h("span", { class: "muted" }, `No inclusion proof: ${error.message}. A server signs checkpoints with auditlog serve --signing-key.`));
    } else fill(output, h("span", { class: "bad" }, error.message));
    return;
  }
  const lines = String(bundle.checkpoint || "").split("\n");
  const signer = (lines.find((l) => l.startsWith("— ")) || "").split(" ")[1] || "?";
  if (!window.crypto || !crypto.subtle) {
    fill(output, `A proof against the checkpoint of size ${integer(bundle.tree_size)} exists; this page is not a secure context, so it cannot hash here: check it with auditlog check-proof.`);
    return;
  }
  const proof = (bundle.inclusion_proof || []).map(fromBase64);
  const root = await rootFromProof(fromBase64(bundle.entry), bundle.leaf_index, bundle.tree_size, proof);
  const signedRoot = lines[2];
  if (root && toBase64(root) === signedRoot && Number(lines[1]) === bundle.tree_size) {
    fill(output, h("span", { class: "good", id: "proof-ok" }, "✓ Included"),
      ` at leaf ${integer(bundle.leaf_index)} of the tree of size ${integer(bundle.tree_size)} signed by ${signer}: the proof's ${proof.length} hashes lead to the checkpoint's root. Check the signature with auditlog check-proof --key.`);
  } else {
    fill(output, h("span", { class: "bad", id: "proof-bad" }, "✕ The proof does not lead to the checkpoint's root."));
  }
}

function copyButton(command) {
  const status = h("span", { class: "muted", "aria-live": "polite" });
  const button = h("button", { type: "button", id: "copy-show" }, "Copy command");
  button.addEventListener("click", async () => {
    try {
      await navigator.clipboard.writeText(command);
      status.textContent = "Copied.";
    } catch {
      // No clipboard access (an insecure context): select the text for the user to copy.
      const range = document.createRange();
      range.selectNodeContents(button.previousElementSibling);
      window.getSelection().removeAllRanges();
      window.getSelection().addRange(range);
      status.textContent = "Selected: press Ctrl+C.";
    }
  });
  return [h("code", { id: "show-command" }, command), " ", button, " ", status];
}

export async function render(main, id, context) {
  fill(main, h("p", { class: "muted" }, "Loading…"));
  let found;
  try {
    found = await api.get(api.url(`/v1/events/${encodeURIComponent(id)}`, { location: "true" }));
  } catch (error) {
    fill(main, h("p", {}, h("a", { href: "#/events" }, "← Events")), h("p", { class: "bad" }, error.status === 404 ? `No event with id ${id}.` : error.message));
    if (error.status !== 404) context.showError(error);
    return;
  }
  const event = found.event;
  const unknown = Object.keys(event).filter((k) => !KNOWN.includes(k));
  const fields = Object.keys(event).filter((k) => KNOWN.includes(k) && !SHOWN_APART.has(k)).map((k) => [k, value(k, event[k])]);
  const proof = h("p", { id: "proof-status" });
  const back = h("a", { href: "#/events", onclick: (e) => { if (history.length > 1 && context.cameFromEvents()) { e.preventDefault(); history.back(); } } }, "← Events");

  fill(main,
    h("p", {}, back),
    h("h1", { class: "event-title" }, event.verdict ? verdict(event.verdict) : h("span", { class: "admin-type" }, event.event_type), " ", h("span", { class: "mono" }, event.id)),
    h("div", { class: "detail-grid" },
      h("section", { "aria-labelledby": "h-fields" }, h("h2", { id: "h-fields" }, "Fields"), definitionList(fields)),
      h("section", { "aria-labelledby": "h-storage" },
        h("h2", { id: "h-storage" }, "Stored"),
        definitionList([
          ["seq", h("span", { id: "detail-seq" }, String(found.seq))],
          ["segment", h("span", { class: "mono" }, found.segment || "—")],
          ["frame offset", found.frame_offset === null ? "—" : integer(found.frame_offset)],
          ["chain value", h("span", { class: "mono wrap", id: "detail-chain" }, found.chain_value || "—")],
        ]),
        h("h3", {}, "Show it in a terminal"),
        h("p", {}, copyButton(`auditlog show ${shellQuote(event.id)}`)),
        h("h3", {}, "Inclusion proof"),
        proof)),
    event.policies ? h("section", { id: "policies", "aria-labelledby": "h-policies" }, h("h2", { id: "h-policies" }, `Policy results (${event.policies.length})`),
      objectsTable("Policy results", event.policies, ["name", "kind", "phase", "verdict", "reason"])) : null,
    event.redactions ? h("section", { id: "redactions", "aria-labelledby": "h-redactions" }, h("h2", { id: "h-redactions" }, `Redactions (${event.redactions.length})`),
      objectsTable("Redactions", event.redactions, ["kind", "replacement"])) : null,
    event.details !== undefined ? h("section", { id: "details", "aria-labelledby": "h-details" }, h("h2", { id: "h-details" }, "Change"), detailsSection(event.details)) : null,
    unknown.length ? h("section", { id: "unknown", "aria-labelledby": "h-unknown" }, h("h2", { id: "h-unknown" }, "Other fields"),
      h("p", { class: "muted" }, "Fields the event model does not know, kept as they came."), definitionList(unknown.map((k) => [k, value(k, event[k])]))) : null,
    h("details", {}, h("summary", {}, "JSON"), h("pre", { class: "json" }, JSON.stringify(event, null, 2))));
  proofStatus(event.id, found.seq, proof);
}
