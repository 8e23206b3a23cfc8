"""End-to-end benchmark of issue 17: the web page's gallery on a generated 1M-file dataset, in
Debian's Chromium driven by Playwright, against the server's release build.

    python3 bench/web.py --files 1000000 --instances-per-file 7

Measured from the navigation (the document's `performance.now()`, whose origin is the start
of the navigation) until every tile in view holds its decoded thumbnail and its annotations:
the first view of the gallery, and a jump to position 900,000 typed into "Go to position".
Each round runs twice, with the server's thumbnail cache emptied first ("cold": every
thumbnail is made by libvips on the request) and kept ("warm": made once, read from disk);
every run uses a fresh browser context, so nothing comes from the browser's cache, and starts
once the server has gone quiet (no thumbnails of the previous run still being made).

Beside the gallery, each round loads a floor: a bare page of nothing but the same first view's
thumbnails (`<img>` tags to the same server, cold and warm alike), so the table shows what
drawing those images costs on this machine at all, and the gallery's part above it.

The images are the real photos of Tests/Fixtures (COCO, CrowdPose, OCHuman: 70–170 KB JPEGs,
the size thumbnails are made from in practice), six variants of each (a JPEG comment makes
their bytes differ), assigned round-robin to the generated annotations: a million distinct
photos would be ~100 GB, and each of the 54 distinct media on a view is thumbnailed on its own. The annotations are `sluice generate`'s, shared with bench/foundation.py
in --work; the photos are hard links, so the prepared image folder costs directory entries
only. Needs the Python packages of tests/python/requirements.txt (Playwright) and
/usr/bin/chromium (scripts/install-deps.sh chromium).
"""

from __future__ import annotations

import argparse
import functools
import http.server
import json
import os
import shutil
import statistics
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from foundation import ROOT, add_dataset_arguments, cpu_seconds, dataset_paths, run, start_server, step  # noqa: E402

CHROMIUM = "/usr/bin/chromium"
# ext4 allows 65,000 links to one inode; and a view of the gallery (up to ~50 tiles) should
# show distinct media, each with its own thumbnail to make when the cache is cold.
LINKS_PER_INODE = 50_000
VARIANTS = 6

# True (with the time) once every tile in view holds its decoded thumbnail and overlay;
# `target` (a position or null) must be among them.
VIEW_DRAWN = """target => {
  const grid = document.getElementById('grid');
  if (!grid) return false;
  const box = grid.getBoundingClientRect();
  const inView = [...grid.querySelectorAll('.tile')].filter((t) => {
    const r = t.getBoundingClientRect();
    return r.bottom > box.top && r.top < box.bottom;
  });
  if (!inView.length) return false;
  if (target !== null && !inView.some((t) => t.dataset.position === String(target))) return false;
  const drawn = inView.every((t) => {
    const img = t.querySelector('img');
    return !t.classList.contains('pending') && t.querySelector('svg') && img && img.complete && img.naturalWidth > 0;
  });
  return drawn ? { at: performance.now(), tiles: inView.length } : false;
}"""

FIRST_IMAGE = """() => {
  const img = [...document.querySelectorAll('#grid .tile img')].find((i) => i.complete && i.naturalWidth > 0);
  return img ? performance.now() : false;
}"""

JUMP = """position => {
  document.getElementById('goto').value = String(position);
  const started = performance.now();
  document.querySelector('form.goto').requestSubmit();
  return started;
}"""


def photos() -> list[Path]:
    """The real photos of the fixtures (the tiny synthetic images of Datumaro's samples excluded)."""
    found = sorted(p for p in (ROOT / "Tests" / "Fixtures").rglob("*.jpg") if p.stat().st_size >= 20_000)
    if not found:
        raise SystemExit("no photos under Tests/Fixtures")
    return found


def prepare(annotations: Path, files: int, work: Path) -> tuple[Path, Path]:
    """The generated annotations with `.jpg` names, and an image folder of hard links to the photos."""
    folder = work / "web"
    done = folder / ".prepared"
    renamed, images = folder / "annotations.json", folder / "images"
    if done.exists():
        return renamed, images
    shutil.rmtree(folder, ignore_errors=True)
    images.mkdir(parents=True)
    with annotations.open("rb") as source, renamed.open("wb") as target:
        carry = b""  # the tail of a block, where a name split by the block's edge may start
        for block in iter(lambda: source.read(1 << 24), b""):
            text = (carry + block).replace(b'.png"', b'.jpg"')
            carry, text = text[-4:], text[:-4]
            target.write(text)
        target.write(carry)
    pool = photos()
    variants = max(VARIANTS, -(-files // (len(pool) * LINKS_PER_INODE)))
    inodes = []
    (folder / "pool").mkdir()
    for n, photo in enumerate(pool):
        jpeg = photo.read_bytes()
        for v in range(variants):
            # A comment segment after the start-of-image marker: the same picture, other bytes,
            # so each variant is its own stored media with its own thumbnail to make.
            comment = f"sluice bench variant {v}".encode()
            variant = jpeg[:2] + b"\xff\xfe" + (len(comment) + 2).to_bytes(2, "big") + comment + jpeg[2:]
            path = folder / "pool" / f"{n:02d}-{v:02d}.jpg"
            path.write_bytes(variant)
            inodes.append(path)
    started = time.perf_counter()
    for i in range(files):
        os.link(inodes[i % len(inodes)], images / f"{i + 1:08d}.jpg")
        if (i + 1) % 50_000 == 0 or i + 1 == files:
            elapsed = time.perf_counter() - started
            rate = (i + 1) / elapsed
            print(f"\r    linking photos · {i + 1:,}/{files:,} · {rate:,.0f}/s · ETA {(files - i - 1) / rate:.0f} s",
                  end="", file=sys.stderr, flush=True)
    print(file=sys.stderr)
    done.touch()
    return renamed, images


def import_web(sluice: str, annotations: Path, images: Path, files: int) -> Path:
    """The store of the web dataset (project `web`, dataset `D`), imported once and kept."""
    store = annotations.parent / "store"
    done = store / ".imported"
    if not done.exists():
        shutil.rmtree(store, ignore_errors=True)
        run([sluice, "import", "coco", str(annotations), "--images", str(images), "--project", "web",
             "--dataset", "D", "--data", str(store)])
        done.touch()
    return store


ALL_IMAGES = """n => {
  const images = [...document.images];
  return images.length === n && images.every((i) => i.complete && i.naturalWidth > 0) ? performance.now() : false;
}"""


def settle(pid: int, limit: float = 20.0) -> None:
    """Waits until the server is quiet: a closed page leaves the thumbnails it asked for being
    made (a dropped connection does not stop them), which the next run would share the cores with."""
    deadline = time.monotonic() + limit
    last = cpu_seconds([pid])
    while time.monotonic() < deadline:
        time.sleep(0.25)
        now = cpu_seconds([pid])
        if now - last < 0.01:
            return
        last = now


def floor_page(host: str, in_view: int) -> str:
    """A bare page of the first view's thumbnails, as the gallery asks for them."""
    with urllib.request.urlopen(f"{host}/api/v1/projects/web/datasets?name=D") as reply:
        dataset = json.load(reply)[0]
    with urllib.request.urlopen(f"{host}/api/v1/datasets/{dataset['id']}/items?start=0&end={in_view}") as reply:
        files = [item["file"]["id"] for item in json.load(reply)["items"]]
    tags = "".join(f'<img src="{host}/api/v1/files/{n}/thumbnail?size=256" width="180" height="180" alt="">' for n in files)
    return f"<!doctype html><html><head><title>floor</title></head><body>{tags}</body></html>"


def serve_floor(html: str) -> tuple[http.server.ThreadingHTTPServer, str]:
    """The floor page from a server of its own (the gallery's server only serves its own page)."""
    class Floor(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 (the standard library's name)
            body = html.encode() if self.path == "/" else b""
            self.send_response(200 if body else 404)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Floor)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, f"http://127.0.0.1:{server.server_address[1]}/"


def measure_floor(browser, url: str, store: Path, images: int, cold: bool) -> float:
    """One load of the floor page: ms from navigation until every image is decoded."""
    if cold:
        shutil.rmtree(store / "media" / "thumbnails", ignore_errors=True)
    context = browser.new_context(viewport={"width": 1280, "height": 800})
    page = context.new_page()
    try:
        page.goto(url, wait_until="commit")
        return page.wait_for_function(ALL_IMAGES, arg=images, polling="raf", timeout=60_000).json_value()
    finally:
        context.close()


def measure(browser, host: str, store: Path, jump_to: int, cold: bool) -> dict[str, float]:
    """One run: the gallery's first view, then the jump; times in ms from their start."""
    thumbnails = store / "media" / "thumbnails"
    if cold:
        shutil.rmtree(thumbnails, ignore_errors=True)
    context = browser.new_context(base_url=host, viewport={"width": 1280, "height": 800})
    page = context.new_page()
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(str(e)))
    item_pages: list[str] = []
    page.on("request", lambda r: item_pages.append(r.url) if "/items?" in r.url else None)
    try:
        page.goto("/p/web/d/D", wait_until="commit")
        first = page.wait_for_function(FIRST_IMAGE, polling="raf", timeout=60_000).json_value()
        view = page.wait_for_function(VIEW_DRAWN, arg=None, polling="raf", timeout=60_000).json_value()
        if cold:
            shutil.rmtree(thumbnails, ignore_errors=True)
        before = len(item_pages)
        started = page.evaluate(JUMP, jump_to)
        jumped = page.wait_for_function(VIEW_DRAWN, arg=jump_to, polling="raf", timeout=60_000).json_value()
        tiles = page.locator(".tile").count()
        heap = page.evaluate("() => performance.memory ? performance.memory.usedJSHeapSize : 0")
    finally:
        context.close()
    if errors:
        raise SystemExit(f"console errors: {errors[:3]}")
    return {"first": first, "view": view["at"], "in_view": view["tiles"], "jump": jumped["at"] - started,
            "tiles": tiles, "pages": len(item_pages) - before, "heap": heap / 1e6}


def table(runs: list[dict[str, float]], rounds: int, jump_to: int) -> str:
    def cell(key: str, cold: bool) -> str:
        values = [r[key] for r in runs if r["cold"] == cold]
        return f"{statistics.median(values):,.0f} (max {max(values):,.0f})"

    rows = [
        ("first image drawn after navigation, ms", "first", "—"),
        ("whole view drawn after navigation, ms", "view", "< 1,000"),
        ("floor: a bare page of the same thumbnails, drawn, ms", "floor", "—"),
        (f"jump to position {jump_to:,}, view drawn, ms", "jump", "< 1,000"),
    ]
    lines = [f"| {rounds} rounds, median (max) | cold thumbnails | warm (made once) | bar | median met (cold/warm) |",
             "|---|---:|---:|---:|:-:|"]
    for title, key, bar in rows:
        met = "—" if bar == "—" else "/".join(
            "yes" if statistics.median(r[key] for r in runs if r["cold"] == cold) < 1000 else "no" for cold in (True, False))
        lines.append(f"| {title} | {cell(key, True)} | {cell(key, False)} | {bar} | {met} |")
    last = runs[-1]
    lines.append(f"\nTiles in view {last['in_view']:.0f}, in the DOM after the jump {last['tiles']:.0f}; "
                 f"item pages fetched for the jump: {last['pages']:.0f} (≤ 100 positions each); "
                 f"JS heap {last['heap']:.1f} MB.")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    add_dataset_arguments(parser)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--jump-to", type=int, default=900_000, help="the position typed into 'Go to position'")
    args = parser.parse_args()
    if args.files <= args.jump_to:
        raise SystemExit(f"--files must exceed --jump-to ({args.jump_to:,})")
    if not Path(CHROMIUM).exists():
        raise SystemExit(f"{CHROMIUM} not found: bash scripts/install-deps.sh chromium")
    from playwright.sync_api import sync_playwright

    started = time.perf_counter()
    step(1, 5, f"generate {args.files:,} files × {args.instances_per_file} instances", started)
    annotations, _ = dataset_paths(args)
    step(2, 5, "name the images .jpg and link the fixtures' photos", started)
    web_annotations, images = prepare(annotations, args.files, Path(args.work))
    step(3, 5, "sluice import coco --images (once; kept in --work)", started)
    store = import_web(args.sluice, web_annotations, images, args.files)
    step(4, 5, "sluice serve", started)
    server, host = start_server(args.sluice, store)
    floor_server = None
    runs = []
    try:
        step(5, 5, f"{args.rounds} rounds in Chromium, cold and warm thumbnails", started)
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True)
            # The server's and Chromium's first start; it also counts the tiles of the first view.
            in_view = int(measure(browser, host, store, args.jump_to, cold=False)["in_view"])
            floor_server, floor_url = serve_floor(floor_page(host, in_view))
            for n in range(args.rounds):
                for cold in (True, False):
                    settle(server.pid)
                    floor = measure_floor(browser, floor_url, store, in_view, cold)
                    settle(server.pid)
                    result = measure(browser, host, store, args.jump_to, cold) | {"cold": cold, "floor": floor}
                    runs.append(result)
                    print(f"    round {n + 1} {'cold' if cold else 'warm'}: first image {result['first']:.0f} ms, "
                          f"view {result['view']:.0f} ms (floor {floor:.0f}), jump {result['jump']:.0f} ms",
                          file=sys.stderr, flush=True)
            browser.close()
    finally:
        if floor_server:
            floor_server.shutdown()
        server.terminate()
        server.wait()
    chromium = subprocess.run([CHROMIUM, "--version"], capture_output=True, text=True).stdout.strip()
    print(f"\nGallery of {args.files:,} files × {args.instances_per_file} instances, {chromium}, "
          f"viewport 1280×800, {os.cpu_count()} cores shared by server and browser\n")
    print(table(runs, args.rounds, args.jump_to))


if __name__ == "__main__":
    main()
