// The instance list of the item view, and the link between its rows and what the media view
// draws for them (shapes on an image or a frame, marks in a text): hovering or focusing one
// highlights the other.

import { h } from "./dom.js";
import { colorOf } from "./draw.js";

function describe(value) {
  if (value === null || value === undefined) return "—";
  if (Array.isArray(value)) return value.join(", ");
  if (typeof value === "object") return JSON.stringify(value);
  return String(value);
}

// `extra(instance)` adds facts of the media kind (a span's words, say).
function instanceRow(instance, index, labels, extra) {
  const swatch = h("span", { class: "swatch", "aria-hidden": "true" });
  swatch.style.backgroundColor = colorOf(instance, labels);
  const facts = [["kind", instance.kind]];
  if (instance.bbox) facts.push(["box", instance.bbox.map((v) => Math.round(v)).join(", ")]);
  if (instance.score !== undefined) facts.push(["score", instance.score]);
  if (instance.iscrowd) facts.push(["crowd", "yes"]);
  if (instance.frame !== undefined) facts.push(["frame", instance.frame]);
  if (instance.track !== undefined) facts.push(["track", instance.track]);
  if (extra) facts.push(...extra(instance, index));
  for (const [name, value] of Object.entries(instance.attributes || {})) facts.push([name, describe(value)]);
  return h("li", { class: "instance", tabindex: "0", "data-index": index, "data-instance": instance.id },
    h("span", { class: "title" }, swatch, h("strong", {}, instance.label || "(no label)"), ` #${instance.id}`),
    h("dl", {}, facts.map(([k, v]) => [h("dt", {}, k), h("dd", {}, String(v))])));
}

export function instanceList(instances, labels, extra) {
  return h("ol", { class: "instances" }, instances.map((instance, i) => instanceRow(instance, i, labels, extra)));
}

// Rows and drawn parts highlight each other. `view.mark(index | null)` highlights the drawn
// part of row `index`; `view.element` is where the drawn parts are, each carrying
// `data-index` (or `data-spans`, a space-separated list, where one mark covers several).
export function linkHighlight(list, view) {
  const mark = (index) => {
    view.mark(index);
    for (const li of list.children) li.classList.toggle("hl", String(index) === li.dataset.index);
  };
  for (const li of list.children) {
    const index = Number(li.dataset.index);
    li.addEventListener("mouseenter", () => mark(index));
    li.addEventListener("focus", () => mark(index));
    li.addEventListener("mouseleave", () => mark(null));
    li.addEventListener("blur", () => mark(null));
  }
  view.element.addEventListener("pointerover", (event) => {
    const part = event.target.closest("[data-index], [data-spans]");
    if (!part || !view.element.contains(part)) return;
    const index = Number(part.dataset.index ?? part.dataset.spans.split(" ")[0]);
    mark(index);
    const li = list.children[index];
    if (li) li.scrollIntoView({ block: "nearest" });
  });
  view.element.addEventListener("pointerleave", () => mark(null));
}
