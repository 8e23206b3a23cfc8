// Instances and files per label of a dataset or slice; each bar opens the slice of files
// carrying that label (within the current query, when there is one).

import { get } from "./api.js";
import { h, queryName } from "./dom.js";

const number = new Intl.NumberFormat("en");

// `source`: {datasetId} or {sliceId}; `href(query)` builds the link of a bar.
export async function histogram(container, { datasetId, sliceId, version, query }, href) {
  const path = sliceId ? `/slices/${sliceId}/labels` : `/datasets/${datasetId}/labels`;
  const { labels } = await get(path, { version: sliceId ? undefined : version });
  const rows = [...labels].sort((a, b) => b.instances - a.instances || a.name.localeCompare(b.name));
  const maxInstances = Math.max(1, ...rows.map((l) => l.instances));
  const maxFiles = Math.max(1, ...rows.map((l) => l.files));
  const list = h("ul", { class: "bars" }, rows.map((label) => {
    const condition = `labels.${queryName(label.name)} > 0`;
    const target = query ? `(${query}) and ${condition}` : condition;
    const bar = (value, max, kind) => {
      const fill = h("span", { class: `fill ${kind}` });
      fill.style.width = `${(100 * value) / max}%`;
      if (kind === "instances") fill.style.backgroundColor = label.color;
      return h("span", { class: "bar" }, fill);
    };
    return h("li", {}, h("a", {
      href: href(target), class: label.instances ? "bar-link" : "bar-link empty", "data-label": label.name,
      "aria-label": `${label.name}: ${label.instances} instances in ${label.files} files; open the slice ${condition}`,
    },
    h("span", { class: "name" }, label.name),
    bar(label.instances, maxInstances, "instances"),
    bar(label.files, maxFiles, "files"),
    h("span", { class: "nums" }, `${number.format(label.instances)} inst · ${number.format(label.files)} files`)));
  }));
  container.replaceChildren(h("h2", { id: "hist-title" }, "Labels"),
    rows.length ? list : h("p", { class: "muted" }, "No labels."));
}
