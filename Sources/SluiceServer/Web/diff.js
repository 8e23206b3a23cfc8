// `/p/{project}/d/{dataset}/diff?from=A&to=B`: the diff between two versions as a list of
// positions, read from the NDJSON stream as it arrives (a huge diff never sits in memory:
// only the first SHOWN positions are listed, the rest only counted).

import * as api from "./api.js";
import { pagePath } from "./app.js";
import { h } from "./dom.js";

const SHOWN = 2000;
const KINDS = {
  file_added: "file added", file_removed: "file removed", file_changed: "file changed",
  instance_added: "instance added", instance_removed: "instance removed",
};
const number = new Intl.NumberFormat("en");

export async function render(main, [project, datasetName], search, ctx) {
  const from = search.get("from") || "0";
  const to = search.get("to") || "";
  const gallery = pagePath(project, datasetName);
  ctx.setCrumbs([["Projects", "/"], [project, "/"], [datasetName, gallery], ["diff"]]);
  document.title = `Diff ${from} → ${to || "live"} — ${datasetName} — Sluice`;
  const dataset = await api.dataset(project, datasetName);
  const snapshots = await api.get(`/datasets/${dataset.id}/snapshots`);

  const picker = (id, label, value, liveText) => {
    const list = h("datalist", { id: `${id}-list` },
      h("option", { value: "0" }, "empty (version 0)"),
      snapshots.map((s) => h("option", { value: s.name }, `snapshot, version ${s.version}`)));
    return h("span", { class: "field" }, h("label", { for: id }, label),
      h("input", { id, name: id, value, list: `${id}-list`, placeholder: liveText, size: "12" }), list);
  };
  const form = h("form", { class: "diff-form" }, picker("from", "From", from, "0"), picker("to", "To", to, "live"),
    h("button", { type: "submit" }, "Compare"));
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const data = new FormData(form);
    ctx.navigate(pagePath(project, datasetName, "/diff", { from: data.get("from"), to: data.get("to") }));
  });
  const summary = h("p", { class: "diff-summary", "aria-live": "polite" }, "Reading the diff…");
  const list = h("ol", { class: "diff" });
  main.replaceChildren(h("h1", {}, `Diff of ${datasetName}: ${from} → ${to || "live"}`), form, summary, list);

  const totals = Object.fromEntries(Object.keys(KINDS).map((k) => [k, 0]));
  let positions = 0, group = null;
  // One row per position: its file change, then its instances added and removed.
  function row(entry) {
    const removedFile = entry.kind === "file_removed";
    const href = pagePath(project, datasetName, `/items/${entry.position}`,
      { version: removedFile ? from : to || "" });
    const li = h("li", { "data-position": entry.position, "data-file": entry.file_id },
      h("a", { href }, `#${entry.position}`), ` file ${entry.file_id}: `, h("span", { class: "what" }));
    return { position: entry.position, li, what: li.querySelector(".what"), file: null, added: [], removed: [] };
  }
  function paint(g) {
    const parts = [];
    if (g.file) parts.push(h("span", { class: `tag ${g.file}` }, KINDS[g.file]));
    if (g.added.length) parts.push(h("span", { class: "tag instance_added" }, `+${g.added.length} instance${g.added.length > 1 ? "s" : ""}`), ` (${g.added.join(", ")})`);
    if (g.removed.length) parts.push(h("span", { class: "tag instance_removed" }, `−${g.removed.length} instance${g.removed.length > 1 ? "s" : ""}`), ` (${g.removed.join(", ")})`);
    g.what.replaceChildren(...parts.flatMap((p, i) => (i ? [" ", p] : [p])));
  }
  const showSummary = (done) => {
    const text = Object.entries(totals).filter(([, n]) => n).map(([k, n]) => `${number.format(n)} ${KINDS[k]}`).join(" · ");
    summary.textContent = `${done ? "" : "Reading… "}${text || "No differences."}${positions > SHOWN ? ` (first ${number.format(SHOWN)} positions listed)` : ""}`;
  };

  const controller = new AbortController();
  const response = await api.raw(`/datasets/${dataset.id}/diff`, { from, to }, { signal: controller.signal });
  (async () => {
    const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
    let buffer = "";
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      buffer += value;
      const lines = buffer.split("\n");
      buffer = lines.pop();
      for (const line of lines) {
        if (!line.trim()) continue;
        const entry = JSON.parse(line);
        totals[entry.kind] = (totals[entry.kind] || 0) + 1;
        if (!group || group.position !== entry.position) {
          positions += 1;
          group = positions <= SHOWN ? row(entry) : { position: entry.position, added: [], removed: [] };
          if (group.li) list.append(group.li);
        }
        if (entry.kind.startsWith("file_")) group.file = entry.kind;
        else (entry.kind === "instance_added" ? group.added : group.removed).push(entry.instance_id);
        if (group.li) paint(group);
      }
      showSummary(false);
    }
    showSummary(true);
    summary.dataset.done = "true";
  })().catch((error) => {
    if (!api.isAbort(error) && !controller.signal.aborted) summary.textContent = `The diff stopped: ${error.message}`;
  });
  return () => controller.abort();
}
