// Slices (a query over a dataset) and the display of a refused query.

import { post } from "./api.js";
import { h, queryName } from "./dom.js";

// The token of a (dataset, query, version) never changes, so stepping through items of a
// slice asks for it once; the gallery asks again for a fresh count.
const tokens = new Map();
export function openSlice(datasetId, query, version, { cached = false } = {}) {
  const id = `${datasetId}\n${version}\n${query}`;
  if (cached && tokens.has(id)) return tokens.get(id);
  const pending = post(`/datasets/${datasetId}/slices`, version ? { query, version } : { query });
  tokens.set(id, pending);
  pending.catch(() => tokens.delete(id));
  return pending;
}

// The query with the token at a 1-based column replaced: a quoted name or a word.
export function replaceAt(query, column, name) {
  const at = Math.max(0, column - 1);
  const rest = query.slice(at);
  const token = rest.match(/^"(?:[^"\\]|\\.)*"|^'(?:[^'\\]|\\.)*'|^[A-Za-z0-9_]+/);
  if (!token) return `${query.slice(0, at)}${name}${at < query.length ? " " : ""}${rest}`.trim();
  return query.slice(0, at) + name + rest.slice(token[0].length);
}

// The server's message, the query with a caret under the column, and its suggestions as
// buttons that fix the query and apply it.
export function queryError(error, query, apply) {
  const detail = error.detail || {};
  const column = Number(detail.column) || 1;
  const caret = `${" ".repeat(column - 1)}^`;
  const suggestions = Array.isArray(detail.suggestions) ? detail.suggestions : [];
  const nodes = [
    h("p", { class: "message", role: "alert" }, `Column ${column}: ${error.message}`),
    h("pre", { class: "caret", "aria-label": `The query, marked at column ${column}` },
      h("code", {}, query), "\n", h("code", { class: "mark" }, caret)),
  ];
  if (suggestions.length) {
    // A name that needs quotes (a space, a keyword) is offered quoted, as the parser reads it.
    const isEntity = /^(labels?|file|attribute|dataset|directory)$/.test(suggestions[0]);
    nodes.push(h("p", { class: "suggestions" }, "Did you mean ",
      suggestions.map((s, i) => [i ? " or " : "", h("button", {
        type: "button", class: "suggestion", "data-suggestion": s,
        onclick: () => apply(replaceAt(query, column, isEntity ? s : queryName(s))),
      }, s)]), "?"));
  }
  return nodes;
}
