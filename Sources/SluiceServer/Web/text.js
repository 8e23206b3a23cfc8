// Text files: the text with its span instances marked in it, a colour per label as everywhere.
// Spans count Unicode scalars (what Sluice stores and Python's str indexes); JS strings
// count UTF-16 units, so offsets are mapped in one pass over the text.

import * as api from "./api.js";
import { h } from "./dom.js";
import { colorOf } from "./draw.js";

// The item view reads at most this much of a text (a range request beyond it), the gallery
// tile the first part of it.
export const ITEM_BYTES = 2 * 1024 * 1024;
export const TILE_BYTES = 600;

// The first `bytes` of a text file's media, decoded; `cut` when the file is longer. A UTF-8
// sequence cut at the end decodes as U+FFFD, which is dropped.
export async function readText(file, bytes, signal) {
  const size = (file.media && file.media.byte_size) || 0;
  const cut = size > bytes;
  const response = await api.raw(`/files/${file.id}/media`, {}, { signal, headers: cut ? { Range: `bytes=0-${bytes - 1}` } : {} });
  let text = new TextDecoder("utf-8").decode(await response.arrayBuffer());
  if (cut) text = text.replace(/\uFFFD+$/, "");
  return { text, cut };
}

// Scalar offset → UTF-16 index, for the offsets asked; offsets past the text map to its end.
function unitsOf(text, offsets) {
  const wanted = [...new Set(offsets)].sort((a, b) => a - b);
  const units = new Map();
  let scalar = 0, unit = 0, w = 0;
  while (w < wanted.length) {
    if (wanted[w] <= scalar) { units.set(wanted[w++], unit); continue; }
    if (unit >= text.length) break;
    unit += text.codePointAt(unit) > 0xffff ? 2 : 1;
    scalar++;
  }
  for (; w < wanted.length; w++) units.set(wanted[w], text.length);
  return units;
}

export function spanOf(instance) {
  const span = instance.geometry && instance.geometry.span;
  return Array.isArray(span) && span.length === 2 ? span : null;
}

// The words of each span instance (index → string), for the instance list.
export function spanWords(text, instances) {
  const spans = instances.map(spanOf);
  const units = unitsOf(text, spans.filter(Boolean).flat());
  return spans.map((span) => span && text.slice(units.get(span[0]), units.get(span[1])));
}

// The text as an element: each stretch covered by spans is a <mark> naming them in
// `data-spans` (indexes into `instances`), coloured by the first; with `tags`, each span's
// label follows its last stretch. Returns { element, mark(index | null) }.
export function markedText(text, instances, labels, { tags = true, className = "text-view" } = {}) {
  const spans = [];
  instances.forEach((instance, index) => {
    const span = spanOf(instance);
    if (span && span[1] > span[0]) spans.push({ index, start: span[0], end: span[1], instance });
  });
  const points = new Set([0]);
  for (const s of spans) { points.add(s.start); points.add(s.end); }
  const units = unitsOf(text, [...points]);
  const boundaries = [...points].sort((a, b) => a - b);
  const startsAt = new Map(), endsAt = new Map();
  for (const s of spans) {
    if (!startsAt.has(s.start)) startsAt.set(s.start, []);
    startsAt.get(s.start).push(s);
    if (!endsAt.has(s.end)) endsAt.set(s.end, []);
    endsAt.get(s.end).push(s);
  }
  const element = h("div", { class: className });
  const active = new Set();
  const take = (from, to) => text.slice(units.get(from), to === undefined ? undefined : units.get(to));
  boundaries.forEach((point, i) => {
    for (const s of endsAt.get(point) || []) active.delete(s);
    for (const s of startsAt.get(point) || []) active.add(s);
    const next = boundaries[i + 1];
    const words = take(point, next);
    if (!words) return;
    if (!active.size) { element.append(words); return; }
    const covering = [...active].sort((a, b) => a.index - b.index);
    const mark = h("mark", { class: covering.length > 1 ? "span multi" : "span", "data-spans": covering.map((s) => s.index).join(" "),
      title: covering.map((s) => s.instance.label || "(no label)").join(", ") }, words);
    mark.style.setProperty("--c", colorOf(covering[0].instance, labels));
    element.append(mark);
    if (tags && next !== undefined) {
      for (const s of covering) {
        if (s.end !== next) continue;
        const tag = h("span", { class: "span-label", "data-index": s.index, "aria-hidden": "true" }, s.instance.label || "?");
        tag.style.setProperty("--c", colorOf(s.instance, labels));
        element.append(tag);
      }
    }
  });
  const mark = (index) => {
    element.classList.toggle("has-hl", index !== null);
    for (const m of element.querySelectorAll("mark")) m.classList.toggle("hl", index !== null && m.dataset.spans.split(" ").includes(String(index)));
  };
  return { element, mark };
}
