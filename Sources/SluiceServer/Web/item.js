// `/p/{project}/d/{dataset}/items/{position}[?query=&version=]`: one item at full size with
// its instances. With a query, positions are the slice's.

import * as api from "./api.js";
import { pagePath } from "./app.js";
import { h } from "./dom.js";
import { colorOf, highlight, overlay } from "./draw.js";
import { openSlice } from "./slice.js";

const number = new Intl.NumberFormat("en");

function describe(value) {
  if (value === null || value === undefined) return "—";
  if (Array.isArray(value)) return value.join(", ");
  if (typeof value === "object") return JSON.stringify(value);
  return String(value);
}

function instanceRow(instance, index, labels) {
  const swatch = h("span", { class: "swatch", "aria-hidden": "true" });
  swatch.style.backgroundColor = colorOf(instance, labels);
  const facts = [["kind", instance.kind]];
  if (instance.bbox) facts.push(["box", instance.bbox.map((v) => Math.round(v)).join(", ")]);
  if (instance.score !== undefined) facts.push(["score", instance.score]);
  if (instance.iscrowd) facts.push(["crowd", "yes"]);
  if (instance.track !== undefined) facts.push(["track", instance.track]);
  for (const [name, value] of Object.entries(instance.attributes || {})) facts.push([name, describe(value)]);
  return h("li", { class: "instance", tabindex: "0", "data-index": index, "data-instance": instance.id },
    h("span", { class: "title" }, swatch, h("strong", {}, instance.label || "(no label)"), ` #${instance.id}`),
    h("dl", {}, facts.map(([k, v]) => [h("dt", {}, k), h("dd", {}, String(v))])));
}

export async function render(main, [project, datasetName, positionText], search, ctx) {
  const position = Number(positionText);
  const query = (search.get("query") || "").trim();
  const version = search.get("version") || "";
  const here = (p) => pagePath(project, datasetName, `/items/${p}`, { query, version });
  const gallery = pagePath(project, datasetName, "", { query, version });
  ctx.setCrumbs([["Projects", "/"], [project, "/"], [datasetName, gallery], [`#${position}`]]);

  // Keys work from the first moment, before the item has loaded (the count bounds them once known).
  let count = Infinity;
  const back = () => ctx.navigate(gallery, { state: { at: position } });
  const go = (p) => { if (p >= 0 && p < count) ctx.navigate(here(p)); };
  const onKey = (event) => {
    if (!ctx.current() || event.altKey || event.ctrlKey || event.metaKey || event.target.closest("input, select, textarea")) return;
    if (event.key === "ArrowLeft") { event.preventDefault(); go(position - 1); }
    else if (event.key === "ArrowRight") { event.preventDefault(); go(position + 1); }
    else if (event.key === "Escape") { event.preventDefault(); back(); }
  };
  document.addEventListener("keydown", onKey);
  let mediaURL = null;
  const controller = new AbortController();
  const cleanup = () => {
    document.removeEventListener("keydown", onKey);
    controller.abort();
    if (mediaURL) URL.revokeObjectURL(mediaURL);
  };
  try {
    return await show();
  } catch (error) {
    cleanup();
    throw error;
  }

  async function show() {
    const [dataset, labels] = await Promise.all([api.dataset(project, datasetName), api.labels(project)]);
    let base;
    if (query) {
      const slice = await openSlice(dataset.id, query, version, { cached: true });
      base = `/slices/${slice.id}`;
      count = slice.count;
    } else {
      base = `/datasets/${dataset.id}`;
      count = (await api.get(`${base}/count`, { version })).count;
    }

    const stepLink = (p, text, rel) => p >= 0 && p < count
      ? h("a", { href: here(p), class: "button", rel, "aria-keyshortcuts": rel === "prev" ? "ArrowLeft" : "ArrowRight" }, text)
      : h("span", { class: "button disabled", "aria-disabled": "true" }, text);
    const backLink = h("a", { href: gallery, class: "button", "aria-keyshortcuts": "Escape" }, "Gallery (Esc)");
    backLink.addEventListener("click", (event) => { event.preventDefault(); back(); });
    const steps = h("nav", { class: "steps", "aria-label": "Items" },
      stepLink(position - 1, "← Previous", "prev"),
      h("span", { class: "where" }, `position ${number.format(position)} of ${number.format(count)}${query ? " in the slice" : ""}${version ? ` at ${version}` : ""}`),
      stepLink(position + 1, "Next →", "next"), backLink);


    let item;
    try {
      item = await api.get(`${base}/items/${position}`, { version: query ? undefined : version });
    } catch (error) {
      if (error.status === 410 || error.code === "position_out_of_range" || error.status === 404) {
        main.replaceChildren(h("h1", {}, `Position ${position}`), steps,
          h("p", { class: "error", role: "alert" }, error.status === 410 ? "The file at this position was removed." : error.message));
        return cleanup;
      }
      throw error;
    }

    const { file, instances } = item;
    const media = file.media || {};
    document.title = `${file.name} — ${datasetName} — Sluice`;
    const img = h("img", { alt: `${file.name}: ${instances.length} annotation instances`, class: "full" });
    const svg = overlay(media.width, media.height, instances, labels, { names: true });
    const stage = h("figure", { class: "stage" }, h("div", { class: "frame" }, img, svg),
      h("figcaption", {}, [file.type, media.width && `${media.width}×${media.height}`, media.mime_type,
        media.byte_size && `${number.format(Math.round(media.byte_size / 1024))} KB`, `status ${file.status}`].filter(Boolean).join(" · ")));
    const list = h("ol", { class: "instances" }, instances.map((instance, i) => instanceRow(instance, i, labels)));
    const aside = h("section", { class: "instance-list", "aria-labelledby": "inst-title" },
      h("h2", { id: "inst-title" }, `Instances (${instances.length})`), instances.length ? list : h("p", { class: "muted" }, "None."));
    const meta = h("details", { class: "metadata" }, h("summary", {}, "File metadata"),
      h("pre", {}, JSON.stringify({ id: file.id, name: file.name, revision: file.revision, metadata: file.metadata }, null, 2)));
    main.replaceChildren(h("h1", {}, file.name, " ", h("small", { class: "muted" }, `#${position}`)), steps,
      h("div", { class: "item-layout" }, stage, aside), meta);

    // List and shapes highlight each other: hover or keyboard focus on a row, hover on a shape.
    const mark = (index) => {
      highlight(svg, index);
      for (const li of list.children) li.classList.toggle("hl", String(index) === li.dataset.index);
    };
    for (const li of list.children) {
      const index = Number(li.dataset.index);
      li.addEventListener("mouseenter", () => mark(index));
      li.addEventListener("focus", () => mark(index));
      li.addEventListener("mouseleave", () => mark(null));
      li.addEventListener("blur", () => mark(null));
    }
    svg.addEventListener("pointerover", (event) => {
      const g = event.target.closest(".inst");
      if (!g) return;
      mark(Number(g.dataset.index));
      const li = list.children[Number(g.dataset.index)];
      if (li) li.scrollIntoView({ block: "nearest" });
    });
    svg.addEventListener("pointerleave", () => mark(null));

    if (media.sha256 && ((media.mime_type || "").startsWith("image/") || file.type === "image" || file.type === "frame")) {
      api.objectURL(`/files/${file.id}/media`, {}, controller.signal).then((src) => {
        if (controller.signal.aborted) { URL.revokeObjectURL(src); return; }
        mediaURL = src;
        img.src = src;
      }, (error) => {
        if (!api.isAbort(error)) img.replaceWith(h("p", { class: "error" }, `No image: ${error.message}`));
      });
    } else {
      img.replaceWith(h("p", { class: "muted" }, media.sha256 ? `A ${file.type} file; no image to show.` : "This file has no media."));
    }
    return cleanup;
  }
}
