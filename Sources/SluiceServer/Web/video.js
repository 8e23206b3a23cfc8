// Video files: the video plays with the instances of the frame on screen drawn over it, and
// steps frame by frame. A frame's number comes from the time of the frame presented
// (requestVideoFrameCallback) and the container's frame rate.

import * as api from "./api.js";
import { h } from "./dom.js";
import { overlay, highlight } from "./draw.js";
import { instanceList, linkHighlight } from "./instances.js";

// Instance indexes by frame; instances without a frame (tags of the whole video) are on all.
export function framesOf(instances) {
  const frames = new Map(), always = [];
  instances.forEach((instance, index) => {
    if (instance.frame === undefined || instance.frame === null) { always.push(index); return; }
    if (!frames.has(instance.frame)) frames.set(instance.frame, []);
    frames.get(instance.frame).push(index);
  });
  return { frames, always, annotated: [...frames.keys()].sort((a, b) => a - b) };
}

// The instances drawn on a video's gallery tile: those of its first annotated frame.
export function posterFrame(instances) {
  const { frames, always, annotated } = framesOf(instances);
  const frame = annotated.length ? annotated[0] : 0;
  return { frame, instances: [...(frames.get(frame) || []), ...always].map((i) => instances[i]) };
}

const seconds = new Intl.NumberFormat("en", { minimumFractionDigits: 2, maximumFractionDigits: 2 });

// Returns { stage, aside, onKey(event) → handled, cleanup }. `start` is the frame to open at
// (else the first annotated one); `moved(frame)` is told each frame shown while paused.
export function videoView(file, instances, labels, { start, moved, caption }) {
  const media = file.media || {};
  const rate = media.frame_rate > 0 ? media.frame_rate : null;
  const count = media.frame_count > 0 ? media.frame_count : null;
  // Not Math.max(...list): a long video's instances would overflow the argument limit.
  const last = count ? count - 1 : instances.reduce((most, i) => Math.max(most, i.frame || 0), 0);
  const index = framesOf(instances);
  const clamp = (n) => Math.min(last, Math.max(0, Math.round(n)));
  const frameAt = (time) => clamp(Math.floor(time * rate + 1e-4));

  const video = h("video", { class: "full", preload: "auto", muted: true, playsinline: true, tabindex: "-1",
    "aria-label": `${file.name}: video, ${count ?? "?"} frames` });
  video.muted = true;
  const frameBox = h("div", { class: "frame" }, video);
  const play = h("button", { type: "button", class: "play", "aria-keyshortcuts": "k" }, "Play");
  const scrub = h("input", { type: "range", id: "frame-scrub", min: "0", max: String(last), step: "1", value: "0", "aria-label": "Frame" });
  const frameInput = h("input", { type: "number", id: "frame", min: "0", max: String(last), step: "1", inputmode: "numeric" });
  const readout = h("span", { class: "frame-readout", "aria-live": "polite" });
  const button = (text, title, keys, onclick) => h("button", { type: "button", title, "aria-keyshortcuts": keys, onclick }, text);
  const controls = h("div", { class: "frame-controls", role: "group", "aria-label": "Frames" },
    play,
    button("◀◀", "Previous annotated frame (Shift+,)", "Shift+Comma", () => seek(neighbour(-1))),
    button("◀", "Previous frame (,)", "Comma", () => seek(current - 1)),
    h("label", { for: "frame" }, "Frame"), frameInput,
    button("▶", "Next frame (.)", "Period", () => seek(current + 1)),
    button("▶▶", "Next annotated frame (Shift+.)", "Shift+Period", () => seek(neighbour(1))),
    scrub, readout);
  const stage = h("figure", { class: "stage video" }, frameBox, controls, h("figcaption", {}, caption));
  const title = h("h2", { id: "inst-title" });
  const aside = h("section", { class: "instance-list", "aria-labelledby": "inst-title" }, title);

  let current = -1, svg = null, body = null, shownURL = null, playing = false, timer = 0;
  const listed = (n) => [...(index.frames.get(n) || []), ...index.always].map((i) => instances[i]);

  function show(n) {
    if (n === current) return;
    current = n;
    const shown = listed(n);
    const next = overlay(media.width, media.height, shown, labels, { names: true });
    if (svg) svg.replaceWith(next); else frameBox.append(next);
    svg = next;
    const list = instanceList(shown, labels);
    const fresh = shown.length ? list : h("p", { class: "muted" }, "None on this frame.");
    if (body) body.replaceWith(fresh); else aside.append(fresh);
    body = fresh;
    if (shown.length) linkHighlight(list, { element: svg, mark: (i) => highlight(svg, i) });
    title.textContent = `Frame ${n}: ${shown.length} instance${shown.length === 1 ? "" : "s"}`;
    readout.textContent = `frame ${n} of ${count ?? "?"}${rate ? ` · ${seconds.format(n / rate)} s` : ""}`;
    frameBox.dataset.frame = String(n);
    scrub.value = String(n);
    if (document.activeElement !== frameInput) frameInput.value = String(n);
    if (!playing && moved) {
      clearTimeout(timer);
      timer = setTimeout(() => moved(n), 150);
    }
  }

  // The middle of the frame's time: a seek to its start could present the frame before.
  function seek(n) {
    pause();
    const frame = clamp(n);
    show(frame);
    if (rate && video.readyState >= 1) video.currentTime = (frame + 0.5) / rate;
  }

  function neighbour(direction) {
    const list = index.annotated;
    if (direction > 0) return list.find((f) => f > current) ?? current;
    for (let i = list.length - 1; i >= 0; i--) if (list[i] < current) return list[i];
    return current;
  }

  function follow(now, meta) {
    if (!playing) return;
    show(frameAt(meta.mediaTime));
    video.requestVideoFrameCallback(follow);
  }

  function pause() {
    if (!playing) return;
    playing = false;
    video.pause();
  }

  play.addEventListener("click", () => {
    if (playing) { pause(); return; }
    playing = true;
    if (current >= last) video.currentTime = 0.5 / rate;
    video.play().catch(() => { playing = false; play.textContent = "Play"; });
    video.requestVideoFrameCallback(follow);
  });
  video.addEventListener("play", () => { play.textContent = "Pause"; });
  // Paused, the video is put on the middle of the frame it stopped in, so the picture, the
  // shapes and the number agree whatever time the pause fell on.
  video.addEventListener("pause", () => {
    playing = false;
    play.textContent = "Play";
    if (!rate || video.ended) return;
    const frame = frameAt(video.currentTime);
    show(frame);
    video.currentTime = (frame + 0.5) / rate;
  });
  video.addEventListener("ended", () => { playing = false; play.textContent = "Play"; show(last); });
  scrub.addEventListener("input", () => seek(Number(scrub.value)));
  frameInput.addEventListener("change", () => { if (frameInput.value !== "") seek(Number(frameInput.value)); });

  const opening = clamp(start ?? (index.annotated.length ? index.annotated[0] : 0));
  video.addEventListener("loadedmetadata", () => { if (rate) video.currentTime = (current + 0.5) / rate; }, { once: true });
  show(opening);

  if (!rate) {
    controls.replaceChildren(h("p", { class: "muted" }, "The video's frame rate is not known: frames cannot be shown."));
  }

  const controller = new AbortController();
  if (!media.sha256) {
    video.replaceWith(h("p", { class: "muted" }, "This file has no media."));
  } else if (!api.key.get()) {
    // The browser streams it with range requests; with a key only fetch can carry it.
    video.src = api.url(`/files/${file.id}/media`);
  } else {
    api.loadMedia(video, file.id, controller.signal, (src) => { shownURL = src; }, "video");
  }
  video.addEventListener("error", () => {
    if (video.error) frameBox.prepend(h("p", { class: "error" }, `The browser cannot play this video: ${video.error.message || `code ${video.error.code}`}`));
  });

  // `,` and `.` step a frame (Shift: to the annotated frame before or after), `k` plays.
  const onKey = (event) => {
    if (!rate) return false;
    if (event.key === "," || event.key === "<") { seek(event.shiftKey || event.key === "<" ? neighbour(-1) : current - 1); return true; }
    if (event.key === "." || event.key === ">") { seek(event.shiftKey || event.key === ">" ? neighbour(1) : current + 1); return true; }
    if (event.key === "k") { play.click(); return true; }
    return false;
  };
  const cleanup = () => {
    clearTimeout(timer);
    controller.abort();
    video.pause();
    video.removeAttribute("src");
    video.load();
    if (shownURL) URL.revokeObjectURL(shownURL);
  };
  return { stage, aside, onKey, cleanup };
}
