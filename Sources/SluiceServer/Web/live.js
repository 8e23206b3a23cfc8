// Following a dataset's change feed with long polls. The loop stops when asked and while
// the page is hidden (no connection held open for a tab nobody looks at).

import { get, isAbort } from "./api.js";

const sleep = (ms, signal) => new Promise((resolve) => {
  const timer = setTimeout(resolve, ms);
  signal.addEventListener("abort", () => { clearTimeout(timer); resolve(); }, { once: true });
});

// Calls onChanges([{kind, start, end}]) for every batch; returns stop().
export function follow(datasetId, onChanges, onState = () => {}) {
  let controller = null;
  let cursor = null;
  let stopped = false;

  async function loop(signal) {
    let failures = 0;
    while (!signal.aborted) {
      try {
        // The first read (no cursor) answers at once with the feed's end: from then on
        // nothing is missed, even between two polls.
        const page = await get(`/datasets/${datasetId}/changes`,
          cursor === null ? { wait: 0 } : { since: cursor, wait: 25 }, { signal });
        const first = cursor === null;
        cursor = page.cursor;
        failures = 0;
        onState("on");
        if (!first && page.changes.length) await onChanges(page.changes);
      } catch (error) {
        if (signal.aborted || isAbort(error)) return;
        failures += 1;
        onState("retrying");
        await sleep(Math.min(30000, 1000 * 2 ** failures), signal);
      }
    }
  }

  function start() {
    if (stopped || controller || document.hidden) return;
    controller = new AbortController();
    loop(controller.signal).catch(() => {});
  }
  function pause() {
    if (controller) controller.abort();
    controller = null;
    onState(stopped ? "off" : "paused");
  }
  const visibility = () => (document.hidden ? pause() : start());
  document.addEventListener("visibilitychange", visibility);
  start();
  return () => {
    stopped = true;
    document.removeEventListener("visibilitychange", visibility);
    pause();
  };
}
