// The console's shell: asks for the token once (sessionStorage), routes between the views by
// the URL's fragment (`#/events?verdict=block`, `#/event/<id>`, `#/usage`, `#/integrity`) so
// that a view can be shared, and shows the API's errors.

import * as api from "./api.js";
import { h, fill, integer } from "./format.js";
import * as events from "./events.js";
import * as detail from "./detail.js";
import * as usage from "./usage.js";
import * as integrity from "./integrity.js";

const main = document.getElementById("main");
const banner = document.getElementById("banner");
const signOut = document.getElementById("sign-out");
const serverStatus = document.getElementById("server-status");
let cleanup = null;
let previousView = null;
let cameFrom = null;

function parseHash() {
  const raw = location.hash.replace(/^#\/?/, "");
  const [path, search = ""] = raw.split(/\?(.*)/s);
  const [view, ...rest] = path.split("/");
  return { view: view || "events", arg: rest.length ? decodeURIComponent(rest.join("/")) : null, params: new URLSearchParams(search) };
}

const hashFor = (view, params) => {
  const search = params ? params.toString() : "";
  return `#/${view}${search ? "?" + search : ""}`;
};

const context = {
  navigate(view, params) {
    location.hash = hashFor(view, params);
  },
  replace(view, params) {
    history.replaceState(null, "", hashFor(view, params));
  },
  go(view, arg) {
    location.hash = `#/${view}/${encodeURIComponent(arg)}`;
  },
  cameFromEvents: () => cameFrom === "events",
  showError,
};

function showError(error) {
  if (error.status === 401) {
    api.forgetToken();
    askForToken(`The server refused the token (401 unauthorized): ${error.message}.`);
    return;
  }
  const hint = error.status === 403 ? " This token's scope does not allow it." : "";
  fill(banner, h("span", {}, error.message + hint), " ", h("button", { type: "button", class: "link", onclick: () => (banner.hidden = true) }, "Dismiss"));
  banner.hidden = false;
}

function askForToken(problem) {
  if (cleanup) cleanup();
  cleanup = null;
  signOut.hidden = true;
  serverStatus.textContent = "";
  const input = h("input", { type: "password", id: "token", name: "token", autocomplete: "off", spellcheck: "false", required: true, "aria-describedby": "token-help" });
  const message = h("p", { id: "token-error", class: "bad", role: "alert", hidden: !problem }, problem || "");
  const submit = h("button", { type: "submit" }, "Open the log");
  const form = h("form", { class: "token-form", id: "token-form" },
    h("h1", {}, "Sign in to the audit log"),
    h("label", { for: "token" }, "API token"),
    input,
    h("p", { id: "token-help", class: "muted" }, "A read token from the server's --token-file. It stays in this tab only (sessionStorage) and is sent as a bearer header, never in a URL or a cookie."),
    message, submit);
  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    submit.disabled = true;
    api.setToken(input.value.trim());
    try {
      await api.get("/v1/head");
      route();
    } catch (error) {
      api.forgetToken();
      message.hidden = false;
      message.textContent = error.status === 401 ? `The server refused this token (401 unauthorized): ${error.message}. Check it, or ask whoever runs the server for a read token.`
        : error.status === 403 ? `This token may not read the log (403 forbidden): ${error.message}.`
        : error.message;
      input.focus();
      input.select();
    } finally {
      submit.disabled = false;
    }
  });
  fill(main, form);
  input.focus();
}

async function status() {
  try {
    const head = await api.get("/v1/head");
    serverStatus.textContent = head.last_seq === null ? "empty log" : `${integer(head.last_seq)} records`;
  } catch {
    serverStatus.textContent = "";
  }
}

async function route() {
  if (api.authRequired() && !api.token()) return askForToken();
  if (cleanup) cleanup();
  cleanup = null;
  banner.hidden = true;
  signOut.hidden = !api.authRequired();
  const { view, arg, params } = parseHash();
  for (const link of document.querySelectorAll("nav a")) {
    const current = link.dataset.view === view || (view === "event" && link.dataset.view === "events");
    if (current) link.setAttribute("aria-current", "page");
    else link.removeAttribute("aria-current");
  }
  cameFrom = previousView;
  previousView = view;
  document.title = `${view === "event" ? arg : view[0].toUpperCase() + view.slice(1)} · AuditLog`;
  if (view === "event" && arg) cleanup = await detail.render(main, arg, context);
  else if (view === "usage") cleanup = await usage.render(main, params, context);
  else if (view === "integrity") cleanup = await integrity.render(main, params, context);
  else cleanup = events.render(main, params, context);
  status();
}

signOut.addEventListener("click", () => {
  api.forgetToken();
  askForToken();
});
window.addEventListener("hashchange", route);

try {
  await api.loadConfig();
  route();
} catch (error) {
  fill(main, h("p", { class: "bad", role: "alert" }, `Cannot reach the server: ${error.message}`));
}
