// Building elements without HTML strings (nothing from the log is ever parsed as markup),
// and formatting numbers, money, times and verdicts for the viewer's locale and zone.

const SVG = "http://www.w3.org/2000/svg";

/** An element: `h("td", {class: "num"}, "42")`; `svg:rect` for SVG; `on…` attributes are listeners. */
export function h(tag, attributes, ...children) {
  const element = tag.startsWith("svg:") ? document.createElementNS(SVG, tag.slice(4)) : document.createElement(tag);
  for (const [name, value] of Object.entries(attributes || {})) {
    if (value === undefined || value === null || value === false) continue;
    if (name.startsWith("on")) element.addEventListener(name.slice(2), value);
    else if (name === "dataset") Object.assign(element.dataset, value);
    else element.setAttribute(name, value === true ? "" : String(value));
  }
  for (const child of children.flat(Infinity)) {
    if (child === undefined || child === null || child === false) continue;
    element.append(child instanceof Node ? child : String(child));
  }
  return element;
}

/** Replaces the children of `element`. */
export function fill(element, ...children) {
  element.replaceChildren();
  for (const child of children.flat(Infinity)) if (child !== undefined && child !== null && child !== false) element.append(child instanceof Node ? child : String(child));
  return element;
}

const integers = new Intl.NumberFormat(undefined, { maximumFractionDigits: 0 });
const decimals = new Intl.NumberFormat(undefined, { maximumFractionDigits: 2 });

export const integer = (n) => (n === undefined || n === null ? "" : integers.format(Number(n)));

/** US dollars: cents for sums, more digits for the fractions of a cent one request costs. */
export function money(value) {
  if (value === undefined || value === null || value === "") return "";
  const n = Number(value);
  const small = n !== 0 && Math.abs(n) < 0.01;
  return "$" + n.toLocaleString(undefined, { minimumFractionDigits: small ? 4 : 2, maximumFractionDigits: small ? 6 : 2 });
}

export function milliseconds(value) {
  if (value === undefined || value === null) return "";
  const n = Number(value);
  if (n >= 1000) return `${decimals.format(n / 1000)} s`;
  return `${n < 10 ? decimals.format(n) : integers.format(n)} ms`;
}

export const percent = (value) => (value === undefined || value === null ? "" : `${decimals.format(Number(value) * 100)} %`);

const local = new Intl.DateTimeFormat(undefined, { year: "numeric", month: "short", day: "2-digit", hour: "2-digit", minute: "2-digit", second: "2-digit" });

/** A `<time>` in the viewer's zone with the UTC time on hover. */
export function time(rfc3339) {
  if (!rfc3339) return "";
  const date = new Date(rfc3339);
  if (Number.isNaN(date.getTime())) return rfc3339;
  return h("time", { datetime: rfc3339, title: `${date.toISOString()} (UTC)` }, local.format(date));
}

export const VERDICTS = {
  allow: { icon: "✓", label: "allow" },
  block: { icon: "✕", label: "block" },
  redact: { icon: "◐", label: "redact" },
  escalate: { icon: "▲", label: "escalate" },
};

/** A coloured verdict badge with an icon and the word (colour is never the only cue). */
export function verdict(value) {
  if (!value) return h("span", { class: "muted" }, "—");
  const known = VERDICTS[value];
  return h("span", { class: `verdict verdict-${known ? value : "other"}` }, h("span", { "aria-hidden": "true" }, known ? known.icon : "?"), " ", value);
}

/** A value for a table cell: strings as they are, anything else as compact JSON. */
export const text = (value) => (value === undefined || value === null ? "" : typeof value === "string" ? value : JSON.stringify(value));

/** Single-quoted for a POSIX shell. */
export const shellQuote = (value) => (/^[A-Za-z0-9_.:@%+=,\/-]+$/.test(value) ? value : `'${value.replaceAll("'", `'\\''`)}'`);
