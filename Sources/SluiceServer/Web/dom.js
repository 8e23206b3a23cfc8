// h("a", {href}, "text", child, [more]) — element building without innerHTML, so no
// server-provided string is ever parsed as markup.

export function h(tag, attributes = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) {
    if (value === false || value === null || value === undefined) continue;
    if (name.startsWith("on")) node.addEventListener(name.slice(2), value);
    else node.setAttribute(name, value === true ? "" : value);
  }
  append(node, children);
  return node;
}

function append(node, children) {
  for (const child of children) {
    if (child === null || child === undefined || child === false || child === "") continue;
    if (Array.isArray(child)) append(node, child);
    else node.append(child);
  }
}

// A label name as the query language reads it: bare when it is a plain word, else quoted.
const KEYWORDS = new Set(["and", "or", "not", "in", "contains", "true", "false", "any"]);
export function queryName(name) {
  if (/^[A-Za-z][A-Za-z0-9]*$/.test(name) && !KEYWORDS.has(name.toLowerCase())) return name;
  return `"${name.replace(/\\/g, "\\\\").replace(/"/g, '\\"')}"`;
}

// Work the first view should not share two cores with (the histogram, the other pages'
// scripts) waits for the document's load event: it fires once the images being fetched, the
// first view's thumbnails among them, are in. Later (pages opened within the app) it runs now.
export function afterFirstView(run) {
  if (document.readyState === "complete") setTimeout(run, 0);
  else window.addEventListener("load", () => setTimeout(run, 0), { once: true });
}
