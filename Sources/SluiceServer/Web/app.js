// The router of the single-page app: the server answers index.html for every page path,
// and this module picks the view from location.pathname and location.search.

import { key, forget } from "./api.js";
import { afterFirstView } from "./dom.js";

const main = document.getElementById("main");
const crumbs = document.getElementById("crumbs");
const keyPanel = document.getElementById("key-panel");
const keyForm = document.getElementById("key-form");
const keyInput = document.getElementById("key-input");
const keyReason = document.getElementById("key-reason");
const status = document.getElementById("status");

const routes = [
  [/^\/$/, () => import("./home.js")],
  [/^\/p\/([^/]+)\/d\/([^/]+)\/?$/, () => import("./gallery.js")],
  [/^\/p\/([^/]+)\/d\/([^/]+)\/items\/(\d+)\/?$/, () => import("./item.js")],
  [/^\/p\/([^/]+)\/d\/([^/]+)\/diff\/?$/, () => import("./diff.js")],
];

let cleanup = null;
let generation = 0;
const modules = new Map();

export function say(text) { status.textContent = text || ""; }

export function navigate(href, { replace = false, state = null } = {}) {
  history[replace ? "replaceState" : "pushState"](state, "", href);
  route();
}

// Paths of this app, for links: segments are encoded, the query keeps query and version.
export function pagePath(project, dataset, rest = "", search = {}) {
  let path = `/p/${encodeURIComponent(project)}/d/${encodeURIComponent(dataset)}${rest}`;
  const params = new URLSearchParams();
  for (const [k, v] of Object.entries(search)) if (v !== undefined && v !== null && v !== "") params.set(k, v);
  const q = params.toString();
  return q ? `${path}?${q}` : path;
}

export function setCrumbs(list) {
  crumbs.replaceChildren(...list.map(([text, href], i) => {
    const li = document.createElement("li");
    const node = document.createElement(href && i < list.length - 1 ? "a" : "span");
    if (href && i < list.length - 1) node.href = href; else node.setAttribute("aria-current", "page");
    node.textContent = text;
    li.append(node);
    return li;
  }));
}

function showKey(error) {
  keyReason.textContent = error.status === 403
    ? "The key in use belongs to another project. Enter a key of this project."
    : key.get() ? "That key was refused. Enter a valid key of this project."
      : "This project is private. Enter one of its API keys (client_id:secret, from sluice keys create); it is kept in this tab only.";
  keyPanel.hidden = false;
  keyInput.value = "";
  keyInput.focus();
}

function showError(error) {
  const box = document.createElement("div");
  box.className = "error";
  box.setAttribute("role", "alert");
  const h = document.createElement("h1");
  h.textContent = error.status === 404 ? "Not found" : "Something went wrong";
  const p = document.createElement("p");
  p.textContent = error.message || String(error);
  box.append(h, p);
  main.firstElementChild.replaceChildren(box);
}

async function route() {
  if (cleanup) { try { cleanup(); } catch { /* a view's cleanup never blocks the next one */ } }
  cleanup = null;
  const gen = ++generation;
  keyPanel.hidden = true;
  forget();   // datasets and labels are read again per page: counts and versions move
  say("");
  // Each view draws into its own element: a view still loading when the route changes
  // then only fills a detached one.
  const view = document.createElement("div");
  main.replaceChildren(view);
  const path = location.pathname;
  const found = routes.find(([pattern]) => pattern.test(path));
  const ctx = { navigate, say, setCrumbs, current: () => gen === generation };
  try {
    if (!found) throw Object.assign(new Error(`No page at ${path}.`), { status: 404 });
    const params = path.match(found[0]).slice(1).map(decodeURIComponent);
    // A module already loaded is used without awaiting its import (a task away): a key
    // pressed right after the URL changes must find the new view's handlers in place.
    const module = modules.get(found[0]) || await found[1]();
    modules.set(found[0], module);
    const done = await module.render(view, params, new URLSearchParams(location.search), ctx);
    if (gen === generation) cleanup = done || null;
    else if (done) done();
  } catch (error) {
    if (gen !== generation) return;
    if (error && error.needsKey) showKey(error);
    else showError(error);
  }
}

keyForm.addEventListener("submit", (event) => {
  event.preventDefault();
  key.set(keyInput.value);
  forget();
  route();
});

// Same-origin links to pages of the app change the route without a reload.
document.addEventListener("click", (event) => {
  if (event.defaultPrevented || event.button !== 0 || event.metaKey || event.ctrlKey || event.shiftKey || event.altKey) return;
  const a = event.target.closest("a[href]");
  if (!a || a.target || a.hasAttribute("download") || a.origin !== location.origin) return;
  if (!(a.pathname === "/" || a.pathname.startsWith("/p/"))) return;
  event.preventDefault();
  if (a.pathname === location.pathname && a.search === location.search && a.hash) {
    location.hash = a.hash;
    return;
  }
  navigate(a.pathname + a.search);
});

window.addEventListener("popstate", route);
// The other views load once the first is shown (not before: they would queue in front of its
// thumbnails and take the cores that make them), so moving between pages never waits on a script.
route().finally(() => afterFirstView(() => {
  for (const [pattern, load] of routes) load().then((module) => modules.set(pattern, module), () => {});
}));
