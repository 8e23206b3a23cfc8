// Every request to /api/v1 goes through here, so the key (kept in sessionStorage only,
// never in localStorage or a cookie) rides on all of them, images included.

const KEY = "sluice.key";
export const API = "/api/v1";

export class ApiError extends Error {
  constructor(status, body) {
    const error = (body && body.error) || {};
    super(error.message || `HTTP ${status}`);
    this.status = status;
    this.code = error.code || "";
    this.detail = error.detail;
  }
  // 401: no key or a wrong one; 403: a key of another project. Both are answered with the key form.
  get needsKey() { return this.status === 401 || this.status === 403; }
}

export const key = {
  get: () => sessionStorage.getItem(KEY) || "",
  set: (value) => value ? sessionStorage.setItem(KEY, value.trim()) : sessionStorage.removeItem(KEY),
};

function headers(extra = {}) {
  const k = key.get();
  return k ? { ...extra, Authorization: `Bearer ${k}` } : extra;
}

// A path and its query parameters; null/undefined/"" parameters are left out.
export function url(path, params = {}) {
  const search = new URLSearchParams();
  for (const [name, value] of Object.entries(params)) {
    if (value !== undefined && value !== null && value !== "") search.set(name, String(value));
  }
  const query = search.toString();
  return API + path + (query ? `?${query}` : "");
}

export async function raw(path, params = {}, init = {}) {
  // credentials "omit": the key travels in its own header, and a 401 carrying
  // "WWW-Authenticate: Basic" then never opens the browser's login dialog.
  const response = await fetch(url(path, params), { ...init, credentials: "omit", headers: headers(init.headers) });
  if (!response.ok) {
    let body = null;
    try { body = await response.json(); } catch { /* not JSON: the status says enough */ }
    throw new ApiError(response.status, body);
  }
  return response;
}

export async function get(path, params = {}, init = {}) {
  return (await raw(path, params, init)).json();
}

export async function post(path, body, params = {}) {
  const response = await raw(path, params, {
    method: "POST", body: JSON.stringify(body), headers: { "Content-Type": "application/json" },
  });
  return response.json();
}

// Media through fetch (an <img src> could not carry the key); the caller revokes the URL.
export async function objectURL(path, params = {}, signal) {
  const response = await raw(path, params, { signal });
  return URL.createObjectURL(await response.blob());
}

export const isAbort = (error) => error && error.name === "AbortError";

// A file's media into `element.src` through fetch (so the key rides along); `keep` gets the
// object URL, which the caller revokes. A failure replaces the element with a line saying so.
export function loadMedia(element, fileID, signal, keep, what) {
  objectURL(`/files/${fileID}/media`, {}, signal).then((src) => {
    if (signal.aborted) { URL.revokeObjectURL(src); return; }
    keep(src);
    element.src = src;
  }, (error) => {
    if (isAbort(error)) return;
    const note = document.createElement("p");
    note.className = "error";
    note.textContent = `No ${what}: ${error.message}`;
    element.replaceWith(note);
  });
}

// The dataset of a project by name, and the project's labels, fetched once per page load.
const cache = new Map();

// Without a key, a project the list shows as private is answered with the key form at
// once: no request is made only to be refused (and logged by the browser as a failure).
async function guard(project) {
  if (key.get()) return;
  if (!cache.has("projects")) {
    cache.set("projects", get("/projects"));
    cache.get("projects").catch(() => cache.delete("projects"));
  }
  const found = (await cache.get("projects")).find((p) => p.id === project);
  if (found && found.public === false) {
    throw new ApiError(401, { error: { code: "unauthorized", message: `Project ${project} is private.` } });
  }
}

export function dataset(project, name) {
  const id = `d:${project}/${name}`;
  if (!cache.has(id)) {
    cache.set(id, guard(project).then(() => get(`/projects/${encodeURIComponent(project)}/datasets`, { name })).then((list) => {
      if (!list.length) throw new ApiError(404, { error: { code: "not_found", message: `No dataset “${name}” in ${project}.` } });
      return list[0];
    }));
    cache.get(id).catch(() => cache.delete(id));
  }
  return cache.get(id);
}

export function labels(project) {
  const id = `l:${project}`;
  if (!cache.has(id)) {
    cache.set(id, get(`/projects/${encodeURIComponent(project)}/labels`).then((list) => new Map(list.map((l) => [l.id, l]))));
    cache.get(id).catch(() => cache.delete(id));
  }
  return cache.get(id);
}

// After a new key, or a write seen through the live feed, cached answers may be stale.
export function forget() { cache.clear(); }

// The gallery's first data, written into the page by the server for a public dataset
// (GalleryBoot.swift): the answers of /datasets?name=, /labels, /snapshots and the first page of
// /items at the moment the page was served. Taken once: a later visit asks again.
let boot = (() => {
  const node = document.getElementById("sluice-boot");
  if (!node) return null;
  node.remove();
  try { return JSON.parse(node.textContent); } catch { return null; }
})();

export function takeBoot(project, dataset) {
  const found = boot && boot.project === project && boot.dataset && boot.dataset.name === dataset ? boot : null;
  boot = null;
  return found;
}
