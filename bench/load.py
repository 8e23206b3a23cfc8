"""Load test (issue 18): C concurrent clients against one release `sluice serve` on loopback for
S seconds, each looping a weighted mix of what training jobs, annotation tools and dashboards
do: one item by position, a page of 100, a slice's count, a stream of 200 items with their
media, a long poll of the change feed, and a read-modify-write save with the revision check.

The store holds the generated 1M-file / 7M-instance dataset (the reads), a 2,000-file dataset
with 20 KB images (the media streams) and 64 files the savers share. Prints per route the
count, errors, p50/p95/p99 latency; the rate held; and the server's RSS sampled every second
(after a warm-up of a tenth of the run), so a leak shows as growth.

    python3 bench/load.py                         # 64 clients, 300 s, the 1M-file store
    python3 bench/load.py --clients 64 --seconds 60 --files 100000

Uses the release build (`swift build -c release --product sluice --scratch-path .build-release`).
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import random
import re
import shutil
import statistics
import sys
import time
from pathlib import Path

import requests

sys.path.insert(0, str(Path(__file__).resolve().parent))
from foundation import add_dataset_arguments, dataset_paths, run, start_server, step  # noqa: E402

QUERIES = ["labels.label3 > 2", "labels.label7 >= 1 and labels.label9 >= 1", "file.width >= 640",
           "labels.any > 10", "labels.label1 = 0 and labels.label2 > 0"]
# route name → weight in the mix
MIX = {"item": 30, "page": 20, "slice count": 10, "stream with media": 8, "follow": 7, "save": 25}


def key_of(output: str) -> str:
    return re.search(r"^api_key: (\S+)$", output, re.M).group(1)


def prepare(args: argparse.Namespace) -> tuple[Path, str, str]:
    """The store (built once and kept: the import of the 1M-file file takes a minute) and the
    generated media dataset; returns (store, editor key, label name)."""
    annotations, _ = dataset_paths(args)
    work = Path(args.work)
    store = work / f"load-store-{args.files}"
    media = work / "load-media-gen"
    if not (media / "annotations.json").exists():
        run([args.sluice, "generate", "--files", "2000", "--instances-per-file", "3", "--labels", "5",
             "--image-bytes", "20000", "--out", str(media)])
    ready = store / "bench-ready"  # written once every import has finished
    if not ready.exists():
        shutil.rmtree(store, ignore_errors=True)
        run([args.sluice, "import", "coco", str(annotations), "--project", "load", "--dataset", "Big",
             "--data", str(store)])
        run([args.sluice, "import", "coco", str(media / "annotations.json"), "--images", str(media / "images"),
             "--project", "load", "--dataset", "Media", "--data", str(store)])
        run([args.sluice, "import", "coco", str(media / "annotations.json"), "--images", str(media / "images"),
             "--project", "load", "--dataset", "Saves", "--data", str(store)])
        ready.touch()
    out, _, _, _ = run([args.sluice, "keys", "create", "--project", "load", "--role", "editor", "--data", str(store)])
    return store, key_of(out), "label1"


def client(index: int, url: str, key: str, ids: dict, until: float, seed: int, queue: mp.Queue) -> None:
    rng = random.Random(seed + index)
    session = requests.Session()
    session.headers["Authorization"] = f"Bearer {key}"
    routes, weights = zip(*MIX.items())
    latencies: dict[str, list[float]] = {route: [] for route in routes}
    errors: dict[str, int] = {route: 0 for route in routes}
    cursor = None
    while time.monotonic() < until:
        route = rng.choices(routes, weights)[0]
        started = time.perf_counter()
        try:
            if route == "item":
                reply = session.get(f"{url}/api/v1/datasets/{ids['big']}/items/{rng.randrange(ids['big_count'])}")
            elif route == "page":
                start = rng.randrange(ids["big_count"] - 100)
                reply = session.get(f"{url}/api/v1/datasets/{ids['big']}/items", params={"start": start, "end": start + 100})
            elif route == "slice count":
                made = session.post(f"{url}/api/v1/datasets/{ids['big']}/slices", json={"query": rng.choice(QUERIES)})
                made.raise_for_status()
                reply = session.get(f"{url}/api/v1/slices/{made.json()['id']}/count")
            elif route == "stream with media":
                start = rng.randrange(ids["media_count"] - 200)
                reply = session.get(f"{url}/api/v1/datasets/{ids['media']}/stream",
                                    params={"format": "records", "start": start, "end": start + 200})
                _ = reply.content
            elif route == "follow":
                params = {"wait": 1, "limit": 1000}
                if cursor is not None:
                    params["since"] = cursor
                reply = session.get(f"{url}/api/v1/datasets/{ids['saves']}/changes", params=params)
                if reply.ok:
                    cursor = reply.json()["cursor"]
            else:
                file_id = rng.choice(ids["save_files"])
                while True:
                    current = session.get(f"{url}/api/v1/files/{file_id}/instances").json()
                    marker = rng.random() * 100
                    reply = session.put(
                        f"{url}/api/v1/files/{file_id}/instances",
                        json={"instances": [{"label": ids["label"], "kind": "box", "bbox": [marker, 1, marker + 5, 6]}]},
                        headers={"If-Match": f'"{current["file"]["revision"]}"'})
                    if reply.status_code != 412:
                        break
            if not reply.ok:
                errors[route] += 1
        except Exception:
            errors[route] += 1
        latencies[route].append(time.perf_counter() - started)
    queue.put((latencies, errors))


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    add_dataset_arguments(parser)
    parser.add_argument("--clients", type=int, default=64)
    parser.add_argument("--seconds", type=int, default=300)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    started = time.perf_counter()
    step(1, 2, f"store with {args.files:,} files (kept between runs)", started)
    store, key, label = prepare(args)
    server, url = start_server(args.sluice, store)
    try:
        session = requests.Session()
        session.headers["Authorization"] = f"Bearer {key}"
        datasets = {d["name"]: d for d in session.get(f"{url}/api/v1/projects/load/datasets").json()}
        saves = session.get(f"{url}/api/v1/datasets/{datasets['Saves']['id']}/items",
                            params={"start": 0, "end": 64}).json()["items"]
        ids = {"big": datasets["Big"]["id"], "big_count": datasets["Big"]["count"],
               "media": datasets["Media"]["id"], "media_count": datasets["Media"]["count"],
               "saves": datasets["Saves"]["id"], "save_files": [item["file"]["id"] for item in saves],
               "label": saves[0]["instances"][0]["label"] if saves[0]["instances"] else label}
        step(2, 2, f"{args.clients} clients for {args.seconds} s", started)
        until = time.monotonic() + args.seconds
        queue: mp.Queue = mp.Queue()
        workers = [mp.Process(target=client, args=(i, url, key, ids, until, args.seed, queue))
                   for i in range(args.clients)]
        for worker in workers:
            worker.start()
        samples: list[tuple[float, float]] = []
        load_started = time.monotonic()
        while time.monotonic() < until:
            samples.append((time.monotonic() - load_started, rss_mb(server.pid)))
            elapsed = time.monotonic() - load_started
            print(f"\r    {elapsed:,.0f}/{args.seconds} s · server RSS {samples[-1][1]:,.0f} MB · "
                  f"ETA {args.seconds - elapsed:,.0f} s", end="", file=sys.stderr, flush=True)
            time.sleep(1)
        print(file=sys.stderr)
        results = [queue.get(timeout=120) for _ in workers]
        for worker in workers:
            worker.join(timeout=60)
        wall = time.monotonic() - load_started
    finally:
        server.terminate()
        server.wait(timeout=60)

    print(f"\n{args.clients} clients, {wall:,.0f} s, release build, loopback, 2 cores shared by server and clients; "
          f"{ids['big_count']:,}-file dataset for reads\n")
    print("| route | requests | errors | p50 ms | p95 ms | p99 ms |")
    print("|---|---|---|---|---|---|")
    total = errors_total = 0
    for route in MIX:
        times = sorted(t for latencies, _ in results for t in latencies[route])
        errors = sum(e[route] for _, e in results)
        total += len(times)
        errors_total += errors
        if not times:
            continue
        pick = lambda q: 1000 * times[min(len(times) - 1, int(q * len(times)))]  # noqa: E731
        print(f"| {route} | {len(times):,} | {errors} | {1000 * statistics.median(times):.1f} | {pick(0.95):.1f} | "
              f"{pick(0.99):.1f} |")
    warm = [rss for t, rss in samples if t >= args.seconds / 10]
    print(f"\n{total / wall:,.0f} requests/s held, {errors_total} errors; server RSS after warm-up "
          f"{min(warm):,.0f}–{max(warm):,.0f} MB ({(max(warm) / min(warm) - 1):.0%} spread)")


if __name__ == "__main__":
    main()
