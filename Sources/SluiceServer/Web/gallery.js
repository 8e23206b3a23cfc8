// `/p/{project}/d/{dataset}[?query=&version=]`: a virtual grid of thumbnails. Only the rows
// in view (plus a margin) exist in the DOM, and only the pages of positions they show are
// fetched, so a million-file dataset opens as fast as a small one.

import * as api from "./api.js";
import { pagePath } from "./app.js";
import { afterFirstView, h } from "./dom.js";
import { overlay } from "./draw.js";
import { histogram } from "./histogram.js";
import { follow } from "./live.js";
import { openSlice, queryError } from "./slice.js";
import { markedText, readText, TILE_BYTES } from "./text.js";
import { posterFrame } from "./video.js";

const PAGE = 100;          // positions per items request
const MARGIN_ROWS = 2;     // rows built above and below the view
const MAX_PAGES = 40;      // pages kept in memory
const MIN_TILE = 180;      // px; the column count follows from it
const CAPTION = 40;        // px under each thumbnail
// Browsers cap an element's height (~33M px in Chromium); past this the scroll offset is
// scaled to the virtual height instead.
const MAX_SPACER = 8_000_000;
const number = new Intl.NumberFormat("en");

export async function render(main, [project, datasetName], search, ctx) {
  const query = (search.get("query") || "").trim();
  const version = search.get("version") || "";
  const link = (extra) => pagePath(project, datasetName, "", { query, version, ...extra });
  ctx.setCrumbs([["Projects", "/"], [project, "/"], [datasetName, link({ query: "", version: "" })]]);
  document.title = `${datasetName} — Sluice`;

  const plain = !query && !version;
  // A public dataset's page comes with its first data; otherwise it is asked for.
  const boot = plain ? api.takeBoot(project, datasetName) : null;
  const [dataset, labels] = boot ? [boot.dataset, new Map(boot.labels.map((l) => [l.id, l]))]
    : await Promise.all([api.dataset(project, datasetName), api.labels(project)]);
  // The first page of a plain gallery is asked for beside the snapshots: the dataset's count
  // is already known, and each request in line would add a round trip before the first image.
  const firstPage = boot ? Promise.resolve(boot.items)
    : plain ? api.get(`/datasets/${dataset.id}/items`, { start: 0, end: PAGE }) : null;
  firstPage?.catch(() => {});  // handled where the page is used
  const snapshots = boot ? boot.snapshots : await api.get(`/datasets/${dataset.id}/snapshots`);

  // The toolbar: query, version, live switch, position box.
  const queryInput = h("input", { id: "query", name: "query", type: "search", value: query, spellcheck: "false",
    autocomplete: "off", placeholder: "labels.person > 2 and file.width >= 640", "aria-describedby": "query-error" });
  const errorBox = h("div", { id: "query-error", class: "query-error", hidden: true });
  const queryForm = h("form", { class: "query-form", role: "search" },
    h("label", { for: "query" }, "Query"), queryInput, h("button", { type: "submit" }, "Apply"),
    query ? h("a", { href: link({ query: "" }), class: "button" }, "Clear") : "");
  const countLine = h("p", { class: "count", id: "count", "aria-live": "polite" }, "Counting…");
  const versionSelect = h("select", { id: "version", name: "version" },
    h("option", { value: "" }, `live (v${dataset.version})`),
    snapshots.map((s) => h("option", { value: s.name, selected: s.name === version || String(s.version) === version },
      `${s.name} (v${s.version}, ${number.format(s.count)} files)`)));
  if (version && !snapshots.some((s) => s.name === version || String(s.version) === version)) {
    versionSelect.append(h("option", { value: version, selected: true }, `version ${version}`));
  }
  const diffLink = h("a", { href: pagePath(project, datasetName, "/diff", { from: version || (snapshots.at(-1) || {}).name || "0" }), class: "small" }, "diff…");
  const liveBox = h("input", { id: "live", type: "checkbox", role: "switch", disabled: Boolean(version) });
  const liveState = h("span", { class: "live-state muted", id: "live-state" }, version ? "(a version never changes)" : "");
  const gotoInput = h("input", { id: "goto", name: "position", type: "number", min: "0", step: "1", inputmode: "numeric" });
  const gotoForm = h("form", { class: "goto" }, h("label", { for: "goto" }, "Go to position"), gotoInput, h("button", { type: "submit" }, "Go"));
  const toolbar = h("div", { class: "toolbar" }, queryForm, errorBox,
    h("div", { class: "row" }, countLine,
      h("span", { class: "field" }, h("label", { for: "version" }, "Version"), versionSelect, diffLink),
      h("span", { class: "field switch" }, liveBox, h("label", { for: "live" }, "Live"), liveState),
      gotoForm));
  const hist = h("aside", { class: "histogram", "aria-labelledby": "hist-title" }, h("h2", { id: "hist-title" }, "Labels"));
  const spacer = h("div", { class: "spacer" });
  const scroller = h("div", { class: "scroller", id: "grid", "aria-label": "Files" }, spacer);
  main.replaceChildren(h("h1", {}, datasetName, " ", h("small", { class: "muted" }, project)), toolbar,
    h("div", { class: "layout" }, h("section", { class: "grid-wrap", "aria-label": "Gallery" }, scroller), hist));

  // Where items come from: the dataset or the slice the query makes.
  let source = { count: 0, itemsPath: "", params: {} };
  async function resolveSource() {
    if (query) {
      const slice = await openSlice(dataset.id, query, version);
      source = { count: slice.count, itemsPath: `/slices/${slice.id}/items`, params: {}, sliceId: slice.id };
      countLine.textContent = `${number.format(slice.count)} of ${number.format(dataset.count)} files match`;
    } else {
      const { count } = plain ? dataset : await api.get(`/datasets/${dataset.id}/count`, { version });
      source = { count, itemsPath: `/datasets/${dataset.id}/items`, params: { version } };
      countLine.textContent = `${number.format(count)} files`;
    }
    countLine.dataset.count = source.count;
  }
  try {
    await resolveSource();
  } catch (error) {
    if (error.code !== "bad_query") throw error;
    countLine.textContent = "No slice: the query has an error.";
    errorBox.hidden = false;
    errorBox.replaceChildren(...queryError(error, query, (fixed) => ctx.navigate(link({ query: fixed }))));
  }
  const refreshHistogram = () => histogram(hist, { datasetId: dataset.id, sliceId: source.sliceId, version, query },
    (q) => link({ query: q })).catch((error) => { hist.textContent = `Labels unavailable: ${error.message}`; });
  // The histogram waits for the first page of items and the first view: on a large dataset its
  // first count at a new version takes the server seconds, which the first thumbnails should
  // not wait behind.
  let histTimer = 0;
  if (!errorBox.childElementCount) {
    (firstPage || Promise.resolve()).catch(() => {}).then(() => afterFirstView(() => { if (alive) refreshHistogram(); }));
  }

  // Page cache: page index → items, or a pending promise.
  const pages = new Map();
  const tiles = new Map();   // position → {node, abort}
  let cols = 1, tileW = MIN_TILE, rowH = MIN_TILE + CAPTION, scale = 1, alive = true;
  // The virtual span in view at the last update. Kept, not read from the scroller where it is
  // needed: a read after a DOM write makes the browser lay the page out again, once per tile.
  const shown = { top: 0, bottom: 0 };

  function layout() {
    const width = scroller.clientWidth || 800;
    cols = Math.max(1, Math.floor(width / MIN_TILE));
    tileW = Math.floor(width / cols);
    rowH = tileW + CAPTION;
    const real = Math.ceil(source.count / cols) * rowH;
    const height = Math.min(real, MAX_SPACER);
    const view = scroller.clientHeight;
    scale = real > height && height > view ? (real - view) / (height - view) : 1;
    spacer.style.height = `${height}px`;
  }

  const virtualTop = () => scroller.scrollTop * scale;

  function thumbSize() {
    const px = tileW * (window.devicePixelRatio || 1);
    return px <= 128 ? 128 : px <= 256 ? 256 : 512;
  }

  function fill(position, entry, item) {
    const { node } = entry;
    node.replaceChildren();
    node.classList.remove("pending");
    const caption = h("span", { class: "caption" }, h("span", { class: "pos" }, `#${position}`), " ",
      h("span", { class: "fname" }, item.file.name));
    if (item.removed) {
      node.classList.add("removed");
      node.append(h("span", { class: "frame" }, h("span", { class: "note" }, "removed")), caption);
      return;
    }
    const media = item.file.media || {};
    node.setAttribute("aria-label", `Position ${position}: ${item.file.name}, ${item.instances.length} instances`);
    if (item.file.type === "text" && media.sha256) {
      fillText(position, entry, item, caption);
      return;
    }
    // A video's tile is its first annotated frame, with that frame's instances.
    const video = item.file.type === "video" && media.sha256;
    const poster = video ? posterFrame(item.instances) : { frame: null, instances: item.instances };
    const img = h("img", { alt: `${item.file.name}, ${item.instances.length} instances`, decoding: "async" });
    const frame = h("span", { class: "frame" }, img,
      overlay(media.width, media.height, poster.instances, labels, { names: false }));
    if (video) frame.append(h("span", { class: "badge" }, `▶ frame ${poster.frame}`));
    node.append(frame, caption);
    // Only images and videos have thumbnails: asking for others would be a logged 404 or 415 per tile.
    const isImage = media.sha256 && (item.file.type === "image" || item.file.type === "frame" || video);
    if (!isImage) {
      frame.classList.add("no-image");
      frame.prepend(h("span", { class: "note" }, media.sha256 ? item.file.type : "no media"));
      return;
    }
    const thumbnail = [`/files/${item.file.id}/thumbnail`, { size: thumbSize(), frame: poster.frame }];
    img.addEventListener("error", () => {
      frame.classList.add("no-image");
      img.alt = `${item.file.name} (${item.file.type}, no thumbnail)`;
    }, { once: true });
    // Without a key the browser loads the image itself (its own loader and cache, no copy
    // through a blob); a key can only ride on fetch.
    if (!api.key.get()) {
      // Tiles in view first: the margin rows' thumbnails would otherwise share the server's
      // thumbnailer (and the browser's six connections) with them on a cold cache.
      const row = Math.floor(position / cols);
      img.fetchPriority = row * rowH < shown.bottom && (row + 1) * rowH > shown.top ? "high" : "low";
      img.src = api.url(...thumbnail);
      return;
    }
    entry.abort = new AbortController();
    api.objectURL(...thumbnail, entry.abort.signal).then((src) => {
      if (!tiles.has(position) || tiles.get(position) !== entry) { URL.revokeObjectURL(src); return; }
      entry.url = src;
      img.src = src;
    }, (error) => {
      if (api.isAbort(error)) return;
      frame.classList.add("no-image");
      img.alt = `${item.file.name} (${item.file.type}, no thumbnail)`;
    });
  }

  // A text's tile is its beginning with the spans in it marked.
  function fillText(position, entry, item, caption) {
    const frame = h("span", { class: "frame text-tile" }, h("span", { class: "note" }, "text"));
    entry.node.append(frame, caption);
    entry.abort = new AbortController();
    readText(item.file, TILE_BYTES, entry.abort.signal).then(({ text, cut }) => {
      if (!tiles.has(position) || tiles.get(position) !== entry) return;
      const marked = markedText(text + (cut ? "…" : ""), item.instances, labels, { tags: false, className: "snippet" });
      frame.replaceChildren(marked.element);
    }, (error) => {
      if (!api.isAbort(error)) frame.replaceChildren(h("span", { class: "note" }, "text (unreadable)"));
    });
  }

  function drop(position) {
    const entry = tiles.get(position);
    if (!entry) return;
    if (entry.abort) entry.abort.abort();
    if (entry.url) URL.revokeObjectURL(entry.url);
    // A tile scrolled away stops its image download too.
    const img = entry.node.querySelector("img");
    if (img && !entry.url) img.removeAttribute("src");
    entry.node.remove();
    tiles.delete(position);
  }

  function loadPage(index, asked = null) {
    if (pages.has(index)) return;
    const start = index * PAGE, end = Math.min(source.count, start + PAGE);
    const pending = (asked || api.get(source.itemsPath, { ...source.params, start, end })).then((page) => {
      if (!alive || pages.get(index) !== pending) return;
      pages.set(index, page.items);
      page.items.forEach((item, i) => {
        const position = start + i;
        const entry = tiles.get(position);
        if (entry && entry.node.classList.contains("pending")) fill(position, entry, item);
      });
      // Bounded memory: the pages farthest from the view go first.
      if (pages.size > MAX_PAGES) {
        const here = Math.floor(virtualTop() / rowH) * cols / PAGE;
        const far = [...pages.keys()].sort((a, b) => Math.abs(b - here) - Math.abs(a - here));
        for (const k of far.slice(0, pages.size - MAX_PAGES)) pages.delete(k);
      }
    }, (error) => {
      pages.delete(index);
      if (alive) ctx.say(`Could not load positions ${start}–${end - 1}: ${error.message}`);
    });
    pages.set(index, pending);
  }

  let fetchTimer = 0;
  function update({ fetchNow = false } = {}) {
    if (!alive) return;
    const scrollTop = scroller.scrollTop;
    const top = scrollTop * scale;
    const view = scroller.clientHeight;
    shown.top = top;
    shown.bottom = top + view;
    const firstRow = Math.max(0, Math.floor(top / rowH) - MARGIN_ROWS);
    const lastRow = Math.floor((top + view) / rowH) + MARGIN_ROWS;
    const first = firstRow * cols, last = Math.min(source.count, (lastRow + 1) * cols);
    for (const position of [...tiles.keys()]) if (position < first || position >= last) drop(position);
    let before = null;
    for (let position = last - 1; position >= first; position--) {
      let entry = tiles.get(position);
      if (!entry) {
        const node = h("a", { class: "tile pending",
          href: pagePath(project, datasetName, `/items/${position}`, { query, version }), "data-position": position },
        h("span", { class: "frame" }), h("span", { class: "caption" }, `#${position}`));
        entry = { node };
        tiles.set(position, entry);
        // DOM order is position order, so Tab walks the tiles in reading order.
        spacer.insertBefore(node, before);
        const items = pages.get(Math.floor(position / PAGE));
        if (Array.isArray(items) && items[position % PAGE]) fill(position, entry, items[position % PAGE]);
      }
      before = entry.node;
      const row = Math.floor(position / cols), col = position % cols;
      // Tiles sit in the spacer's coordinates: with scale 1 that is row × rowH exactly.
      const y = scrollTop + row * rowH - top;
      entry.node.style.transform = `translate(${col * tileW}px, ${y}px)`;
      entry.node.style.width = `${tileW}px`;
      entry.node.style.height = `${rowH}px`;
    }
    // Fetch after scrolling settles: a fling across a million rows asks for nothing on the way.
    clearTimeout(fetchTimer);
    const fetchVisible = () => {
      if (!alive || last <= first) return;
      for (let p = Math.floor(first / PAGE); p <= Math.floor((last - 1) / PAGE); p++) loadPage(p);
    };
    if (fetchNow) fetchVisible(); else fetchTimer = setTimeout(fetchVisible, 90);
  }

  let frame = 0;
  const onScroll = () => {
    if (!frame) frame = requestAnimationFrame(() => { frame = 0; update(); });
  };
  scroller.addEventListener("scroll", onScroll, { passive: true });
  const resize = new ResizeObserver(() => { layout(); update({ fetchNow: true }); });
  resize.observe(scroller);

  function jump(position) {
    const target = Math.max(0, Math.min(source.count - 1, position));
    const row = Math.floor(target / cols);
    scroller.scrollTop = (row * rowH) / scale;
    update({ fetchNow: true });
    const entry = tiles.get(target);
    if (entry) entry.node.focus({ preventScroll: true });
  }

  // Arrow keys move between tiles by one (left/right) or a row (up/down).
  scroller.addEventListener("keydown", (event) => {
    const tile = event.target.closest(".tile");
    const steps = { ArrowLeft: -1, ArrowRight: 1, ArrowUp: -cols, ArrowDown: cols };
    if (!tile || !(event.key in steps)) return;
    const target = Number(tile.dataset.position) + steps[event.key];
    if (target < 0 || target >= source.count) return;
    event.preventDefault();
    const entry = tiles.get(target);
    if (entry) entry.node.focus(); else jump(target);
  });

  gotoForm.addEventListener("submit", (event) => {
    event.preventDefault();
    const n = Number(gotoInput.value);
    if (Number.isInteger(n) && n >= 0) jump(n);
  });
  queryForm.addEventListener("submit", (event) => {
    event.preventDefault();
    ctx.navigate(link({ query: queryInput.value.trim() }));
  });
  versionSelect.addEventListener("change", () => ctx.navigate(link({ version: versionSelect.value })));

  // Live: refresh what the changes touched; a slice is asked again (its positions move).
  let stopLive = null;
  async function applyChanges(changes) {
    if (query) {
      await resolveSource();
      pages.clear();
      for (const position of [...tiles.keys()]) drop(position);
    } else {
      const { count } = await api.get(`/datasets/${dataset.id}/count`);
      source.count = count;
      countLine.textContent = `${number.format(count)} files`;
      countLine.dataset.count = count;
      for (const change of changes) {
        if (change.kind === "added") continue;   // new positions: no page held them yet
        for (let p = Math.floor(change.start / PAGE); p * PAGE < change.end; p++) pages.delete(p);
        for (const position of [...tiles.keys()]) if (position >= change.start && position < change.end) drop(position);
      }
      // The last page may have been short before the append.
      pages.delete(Math.floor(Math.max(0, Math.min(...changes.map((c) => c.start))) / PAGE));
    }
    layout();
    update({ fetchNow: true });
    clearTimeout(histTimer);
    histTimer = setTimeout(refreshHistogram, 500);
  }
  liveBox.addEventListener("change", () => {
    if (liveBox.checked && !stopLive) {
      stopLive = follow(dataset.id, (changes) => applyChanges(changes).catch((e) => ctx.say(`Live refresh failed: ${e.message}`)),
        (state) => { liveState.textContent = state === "on" ? "following changes" : state; });
    } else if (!liveBox.checked && stopLive) {
      stopLive();
      stopLive = null;
      liveState.textContent = "";
    }
  });

  if (firstPage && source.count > 0) loadPage(0, firstPage);
  layout();
  const start = history.state && Number.isInteger(history.state.at) ? history.state.at : null;
  if (start !== null && start < source.count) jump(start); else update({ fetchNow: true });

  return () => {
    alive = false;
    if (stopLive) stopLive();
    clearTimeout(fetchTimer);
    clearTimeout(histTimer);
    cancelAnimationFrame(frame);
    resize.disconnect();
    for (const position of [...tiles.keys()]) drop(position);
  };
}
