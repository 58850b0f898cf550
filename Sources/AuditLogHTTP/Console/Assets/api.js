// The API client: the token (kept in sessionStorage only, sent as a bearer header, never put
// in a URL or a cookie), JSON requests with the API's errors, and Server-Sent Events read
// through fetch (EventSource cannot send a header).

const TOKEN_KEY = "auditlog.token";
let config = { auth_required: true };

/** An error answer of the API (`{"error":{"code","message"}}`), or a server that did not answer. */
export class APIError extends Error {
  constructor(status, code, message, parameter) {
    super(message);
    this.status = status;
    this.code = code;
    this.parameter = parameter;
  }
}

export const token = () => sessionStorage.getItem(TOKEN_KEY);
export const setToken = (value) => sessionStorage.setItem(TOKEN_KEY, value);
export const forgetToken = () => sessionStorage.removeItem(TOKEN_KEY);

/** What the server says about itself before any token: `auth_required`, `read_only`, `records_reads`, `log_id`. */
export async function loadConfig() {
  const response = await request("/console/config.json");
  if (!response.ok) throw await failure(response);
  config = await response.json();
  return config;
}

export const authRequired = () => config.auth_required !== false;

function headers(accept) {
  const out = { Accept: accept };
  const t = token();
  if (t && authRequired()) out.Authorization = "Bearer " + t;
  return out;
}

async function request(path, { signal, accept = "application/json" } = {}) {
  try {
    return await fetch(path, { headers: headers(accept), signal, cache: "no-store", credentials: "omit" });
  } catch (error) {
    if (error.name === "AbortError") throw error;
    throw new APIError(0, "unreachable", `The server did not answer (${error.message}). Is auditlog serve still running?`);
  }
}

async function failure(response) {
  let body = null;
  try {
    body = await response.json();
  } catch {
    // Not the API's JSON error (a proxy's page, say): the status says enough.
  }
  const e = body && body.error;
  return new APIError(response.status, e ? e.code : `http_${response.status}`, e ? e.message : `${response.status} ${response.statusText}`, e && e.parameter);
}

/** GET `path`: its JSON, or its text with `text: true`. Throws APIError. */
export async function get(path, { signal, text = false } = {}) {
  const response = await request(path, { signal, accept: text ? "text/plain, application/json" : "application/json" });
  if (!response.ok) throw await failure(response);
  return text ? response.text() : response.json();
}

/** GET `path` as a Blob (a CSV download). */
export async function blob(path) {
  const response = await request(path, { accept: "text/csv, application/json" });
  if (!response.ok) throw await failure(response);
  return response.blob();
}

/**
 * Reads the Server-Sent Events of `path`, calling `onMessage({event, id, data})` for each,
 * until the stream ends (resolves) or `signal` aborts it (rejects with an AbortError).
 */
export async function stream(path, onMessage, signal) {
  const response = await request(path, { signal, accept: "text/event-stream" });
  if (!response.ok) throw await failure(response);
  const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = "";
  let message = { event: "message", id: null, data: [] };
  for (;;) {
    const { value, done } = await reader.read();
    if (done) return;
    buffer += value;
    let end;
    while ((end = buffer.indexOf("\n")) >= 0) {
      let line = buffer.slice(0, end);
      buffer = buffer.slice(end + 1);
      if (line.endsWith("\r")) line = line.slice(0, -1);
      if (line === "") {
        if (message.data.length) onMessage({ event: message.event, id: message.id, data: message.data.join("\n") });
        message = { event: "message", id: null, data: [] };
        continue;
      }
      if (line.startsWith(":")) continue;
      const colon = line.indexOf(":");
      const field = colon < 0 ? line : line.slice(0, colon);
      let text = colon < 0 ? "" : line.slice(colon + 1);
      if (text.startsWith(" ")) text = text.slice(1);
      if (field === "data") message.data.push(text);
      else if (field === "event") message.event = text;
      else if (field === "id") message.id = text;
    }
  }
}

/** `path?…` with the non-empty entries of `params` (arrays repeat the name). */
export function url(path, params) {
  const search = new URLSearchParams();
  for (const [name, value] of Object.entries(params)) {
    for (const v of Array.isArray(value) ? value : [value]) {
      if (v !== undefined && v !== null && v !== "") search.append(name, v);
    }
  }
  const text = search.toString();
  return text ? `${path}?${text}` : path;
}
