// `/p/{project}/d/{dataset}/items/{position}[?query=&version=]`: one item at full size with
// its instances. With a query, positions are the slice's.

import * as api from "./api.js";
import { pagePath } from "./app.js";
import { h } from "./dom.js";
import { highlight, overlay } from "./draw.js";
import { instanceList, linkHighlight } from "./instances.js";
import { openSlice } from "./slice.js";
import { ITEM_BYTES, markedText, readText, spanWords } from "./text.js";
import { videoView } from "./video.js";

const number = new Intl.NumberFormat("en");

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
  let mediaKeys = null;
  const onKey = (event) => {
    if (!ctx.current() || event.altKey || event.ctrlKey || event.metaKey || event.target.closest("input, select, textarea")) return;
    if (mediaKeys && mediaKeys(event)) { event.preventDefault(); return; }
    if (event.key === "ArrowLeft") { event.preventDefault(); go(position - 1); }
    else if (event.key === "ArrowRight") { event.preventDefault(); go(position + 1); }
    else if (event.key === "Escape") { event.preventDefault(); back(); }
  };
  document.addEventListener("keydown", onKey);
  let mediaURL = null, mediaCleanup = null;
  const controller = new AbortController();
  const cleanup = () => {
    document.removeEventListener("keydown", onKey);
    controller.abort();
    if (mediaURL) URL.revokeObjectURL(mediaURL);
    if (mediaCleanup) mediaCleanup();
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
    const caption = [file.type, media.width && `${media.width}×${media.height}`,
      media.frame_rate && `${number.format(Math.round(media.frame_rate * 100) / 100)} fps`,
      media.frame_count && `${number.format(media.frame_count)} frames`, media.mime_type,
      media.byte_size && (media.byte_size < 1024 ? `${media.byte_size} bytes` : `${number.format(Math.round(media.byte_size / 1024))} KB`),
      `status ${file.status}`].filter(Boolean).join(" · ");
    const meta = h("details", { class: "metadata" }, h("summary", {}, "File metadata"),
      h("pre", {}, JSON.stringify({ id: file.id, name: file.name, revision: file.revision, metadata: file.metadata }, null, 2)));
    const heading = h("h1", {}, file.name, " ", h("small", { class: "muted" }, `#${position}`));

    let stage, aside;
    if (file.type === "video") {
      // `?frame=` opens at that frame; the frame shown while paused is written back to it.
      const asked = search.get("frame");
      const view = videoView(file, instances, labels, {
        start: asked !== null && /^\d+$/.test(asked) ? Number(asked) : undefined, caption,
        moved: (frame) => {
          if (!ctx.current()) return;
          const url = new URL(location.href);
          url.searchParams.set("frame", String(frame));
          history.replaceState(history.state, "", url.pathname + url.search);
        },
      });
      ({ stage, aside } = view);
      mediaKeys = view.onKey;
      mediaCleanup = view.cleanup;
    } else if (file.type === "text" && media.sha256) {
      ({ stage, aside } = await textView(file, instances, labels, caption));
    } else {
      ({ stage, aside } = imageView(file, instances, labels, caption));
    }
    main.replaceChildren(heading, steps, h("div", { class: "item-layout" }, stage, aside), meta);
    return cleanup;
  }

  function listSection(title, list, count) {
    return h("section", { class: "instance-list", "aria-labelledby": "inst-title" },
      h("h2", { id: "inst-title" }, `${title} (${count})`), count ? list : h("p", { class: "muted" }, "None."));
  }

  function imageView(file, instances, labels, caption) {
    const media = file.media || {};
    const img = h("img", { alt: `${file.name}: ${instances.length} annotation instances`, class: "full" });
    const svg = overlay(media.width, media.height, instances, labels, { names: true });
    const stage = h("figure", { class: "stage" }, h("div", { class: "frame" }, img, svg), h("figcaption", {}, caption));
    const list = instanceList(instances, labels);
    linkHighlight(list, { element: svg, mark: (index) => highlight(svg, index) });
    if (media.sha256 && ((media.mime_type || "").startsWith("image/") || file.type === "image" || file.type === "frame")) {
      api.loadMedia(img, file.id, controller.signal, (src) => { mediaURL = src; }, "image");
    } else {
      img.replaceWith(h("p", { class: "muted" }, media.sha256 ? `A ${file.type} file; no image to show.` : "This file has no media."));
    }
    return { stage, aside: listSection("Instances", list, instances.length) };
  }

  // The text with its spans marked; the list gives each span's words beside its offsets.
  async function textView(file, instances, labels, caption) {
    const { text, cut } = await readText(file, ITEM_BYTES, controller.signal);
    const words = spanWords(text, instances);
    const marked = markedText(text, instances, labels);
    const stage = h("figure", { class: "stage text" }, marked.element,
      cut ? h("p", { class: "muted" }, `The first ${number.format(ITEM_BYTES / 1024 / 1024)} MB of the text are shown; spans past it are listed only.`) : null,
      h("figcaption", {}, caption));
    const list = instanceList(instances, labels, (instance, index) => {
      const span = instance.geometry && instance.geometry.span;
      if (!span) return [];
      const said = words[index];
      return [["span", `${span[0]}–${span[1]}`], ["text", `“${said}”`]];
    });
    linkHighlight(list, marked);
    return { stage, aside: listSection("Instances", list, instances.length) };
  }
}
