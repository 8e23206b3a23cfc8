// Shape drawing shared by the gallery tiles and the item view. The SVG's viewBox is the
// file's own pixel space, so geometry is drawn as stored and the browser scales it to
// whatever box the image occupies (both use "contain" fitting, so they stay aligned).

const SVG = "http://www.w3.org/2000/svg";

function el(name, attributes = {}, parent) {
  const node = document.createElementNS(SVG, name);
  for (const [k, v] of Object.entries(attributes)) node.setAttribute(k, v);
  if (parent) parent.append(node);
  return node;
}

// A colour for an instance whose label is unknown (a deleted label at an old version):
// derived from the name so it is the same on every page.
export function colorOf(instance, labels) {
  const label = labels && labels.get(instance.label_id);
  if (label && label.color) return label.color;
  let h = 0;
  for (const c of String(instance.label || "")) h = (h * 31 + c.codePointAt(0)) % 360;
  return `hsl(${h} 70% 50%)`;
}

// COCO's compressed RLE string (pycocotools rleFrString): 5-bit groups with a
// continuation bit, each count after the second a delta from the one two before.
// Arithmetic instead of shifts: JS shifts are 32-bit and wrap their amount.
export function decodeRLE(text) {
  const counts = [];
  let p = 0;
  while (p < text.length) {
    let x = 0, k = 0, more = true;
    while (more) {
      const c = text.charCodeAt(p++) - 48;
      x += (c & 0x1f) * 2 ** (5 * k);
      more = (c & 0x20) !== 0;
      k++;
      if (!more && (c & 0x10)) x -= 2 ** (5 * k);
    }
    if (counts.length > 2) x += counts[counts.length - 2];
    counts.push(x);
  }
  return counts;
}

// Runs are column-major (Fortran order) and start with zeros; every run of ones becomes
// one-pixel-wide column rectangles of a single path.
export function maskPath(mask) {
  const [h] = mask.size || [0, 0];
  const counts = typeof mask.counts === "string" ? decodeRLE(mask.counts) : mask.counts || [];
  if (!h) return "";
  const parts = [];
  let index = 0;
  for (let i = 0; i < counts.length; i++) {
    let start = index, left = counts[i];
    index += counts[i];
    if (i % 2 === 0) continue;
    while (left > 0) {
      const x = Math.floor(start / h), y = start % h, n = Math.min(left, h - y);
      parts.push(`M${x} ${y}h1v${n}h-1z`);
      start += n;
      left -= n;
    }
  }
  return parts.join("");
}

const pts = (list) => list.map(([x, y]) => `${x},${y}`).join(" ");

function drawInstance(g, instance, label, size) {
  const geometry = instance.geometry || {};
  const [x0, y0, x1, y1] = instance.bbox || [];
  if (instance.bbox && instance.kind !== "global") {
    el("rect", { class: instance.kind === "box" ? "box" : "box faint", x: x0, y: y0, width: x1 - x0, height: y1 - y0 }, g);
  }
  if (geometry.mask) el("path", { class: "area", d: maskPath(geometry.mask) }, g);
  if (geometry.polygon && !geometry.mask) {
    const d = geometry.polygon.map((ring) => {
      let s = "";
      for (let i = 0; i + 1 < ring.length; i += 2) s += `${i ? "L" : "M"}${ring[i]} ${ring[i + 1]}`;
      return s + "Z";
    }).join("");
    el("path", { class: "area", d }, g);
  }
  if (geometry.line) el("polyline", { class: "line", points: pts(geometry.line) }, g);
  const r = size / 160;
  for (const [x, y] of geometry.points || []) el("circle", { class: "point", cx: x, cy: y, r: r * 1.5 }, g);
  if (geometry.ellipse) {
    const { cx, cy, rx, ry, angle } = geometry.ellipse;
    el("ellipse", { class: "area", cx, cy, rx, ry, transform: `rotate(${angle || 0} ${cx} ${cy})` }, g);
  }
  if (geometry.cuboid) {
    const { front = [], back = [] } = geometry.cuboid;
    el("polygon", { class: "line", points: pts(back) }, g);
    el("polygon", { class: "area", points: pts(front) }, g);
    front.forEach((p, i) => back[i] && el("line", { class: "line", x1: p[0], y1: p[1], x2: back[i][0], y2: back[i][1] }, g));
  }
  if (geometry.keypoints) {
    const kp = geometry.keypoints;
    // COCO skeletons name keypoints from 1; a point with visibility 0 is not labelled.
    for (const [a, b] of (label && label.skeleton) || []) {
      const p = kp[a - 1], q = kp[b - 1];
      if (p && q && p[2] > 0 && q[2] > 0) el("line", { class: "bone", x1: p[0], y1: p[1], x2: q[0], y2: q[1] }, g);
    }
    for (const [x, y, v] of kp) if (v > 0) el("circle", { class: v === 1 ? "joint hidden" : "joint", cx: x, cy: y, r }, g);
  }
}

// An <svg> overlay for one file. `names` writes each label's name at its box.
export function overlay(width, height, instances, labels, { names = false } = {}) {
  const w = width || 1, h = height || 1;
  const svg = el("svg", { class: "overlay", viewBox: `0 0 ${w} ${h}`, preserveAspectRatio: "xMidYMid meet", "aria-hidden": "true" });
  const size = Math.max(w, h);
  instances.forEach((instance, index) => {
    const label = labels && labels.get(instance.label_id);
    const g = el("g", { class: "inst", "data-index": index }, svg);
    g.style.color = colorOf(instance, labels);
    drawInstance(g, instance, label, size);
    if (names && instance.bbox && instance.label) {
      const text = el("text", { class: "name", x: instance.bbox[0] + size / 200, y: instance.bbox[1] + size / 30 }, g);
      text.style.fontSize = `${size / 32}px`;
      text.textContent = instance.label;
    }
  });
  return svg;
}

// Highlight one instance (or none: index null), dimming the others.
export function highlight(svg, index) {
  svg.classList.toggle("has-hl", index !== null);
  for (const g of svg.querySelectorAll(".inst")) g.classList.toggle("hl", String(index) === g.dataset.index);
}
