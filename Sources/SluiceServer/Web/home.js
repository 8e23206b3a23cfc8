// `/`: every project with its datasets, their counts, versions and snapshots.

import { get } from "./api.js";
import { pagePath } from "./app.js";
import { h } from "./dom.js";

const number = new Intl.NumberFormat("en");

async function datasetRows(project) {
  const datasets = await get(`/projects/${encodeURIComponent(project.id)}/datasets`);
  return Promise.all(datasets.map(async (d) => {
    const snapshots = await get(`/datasets/${d.id}/snapshots`);
    const snaps = snapshots.length ? h("ul", { class: "inline" }, snapshots.map((s) => h("li", {},
      h("a", { href: pagePath(project.id, d.name, "", { version: s.name }) }, s.name),
      ` (v${s.version}, ${number.format(s.count)} files) `,
      h("a", { href: pagePath(project.id, d.name, "/diff", { from: s.name }), class: "small" }, "diff to live"),
    ))) : h("span", { class: "muted" }, "none");
    return h("tr", { "data-dataset": d.name },
      h("th", { scope: "row" }, h("a", { href: pagePath(project.id, d.name) }, d.name)),
      h("td", { class: "num", "data-count": d.count }, number.format(d.count - (d.removed || 0))),
      h("td", { class: "num" }, String(d.version)),
      h("td", {}, snaps));
  }));
}

export async function render(main, _params, _search, { setCrumbs }) {
  setCrumbs([["Projects", "/"]]);
  document.title = "Sluice — projects";
  const projects = await get("/projects");
  const sections = await Promise.all(projects.map(async (project) => {
    let body;
    try {
      const rows = await datasetRows(project);
      body = rows.length ? h("table", { class: "datasets" },
        h("thead", {}, h("tr", {}, ["Dataset", "Files", "Version", "Snapshots"].map((t) => h("th", { scope: "col" }, t)))),
        h("tbody", {}, rows)) : h("p", { class: "muted" }, "No datasets yet.");
    } catch (error) {
      if (!error.needsKey) throw error;
      // A private project's datasets need its key; the rest of the list still shows.
      body = h("p", {}, "Private project. ", h("a", { href: `/p/${encodeURIComponent(project.id)}/d/Default` }, "Open its Default dataset"),
        " to enter a key.");
    }
    return h("section", { class: "project", "data-project": project.id },
      h("h2", {}, project.name || project.id, " ", h("small", { class: "muted" }, project.id),
        project.public === false ? h("span", { class: "badge" }, "private") : ""),
      body);
  }));
  main.replaceChildren(h("h1", {}, "Projects"),
    sections.length ? h("div", {}, sections) : h("p", {}, "No projects. Import one with sluice import coco."));
}
