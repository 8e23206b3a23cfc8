"""End-to-end benchmark of issue 3: slice queries on the server against the static-file way
(load the COCO JSON in Python, filter with a comprehension; pycocotools `getImgIds` where it
applies), on the same data in the same run.

    python3 bench/slices.py --files 1000000 --instances-per-file 7

Reuses the generated data and store of bench/foundation.py in --work (generating and
importing them when missing; --import imports again). pycocotools is optional: pip install -r bench/requirements.txt.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import random
import sqlite3
import statistics
import sys
import time
import urllib.request
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from foundation import add_dataset_arguments, dataset_paths, import_coco, start_server, step  # noqa: E402


def request(host: str, path: str, body: dict | None = None) -> tuple[dict, float]:
    """One request; returns the JSON body and the wall time in ms."""
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(host + path, data=data, method="POST" if data else "GET",
                                 headers={"Content-Type": "application/json"})
    started = time.perf_counter()
    with urllib.request.urlopen(req) as response:
        payload = json.loads(response.read())
    return payload, (time.perf_counter() - started) * 1000


def label_frequencies(database: Path) -> list[tuple[str, int]]:
    """Labels by the number of files that have them, most frequent first."""
    with sqlite3.connect(f"file:{database}?mode=ro", uri=True) as db:
        rows = db.execute("""SELECT l.name, COUNT(*) FROM label_counts c JOIN labels l ON l.id = c.label_id
                             GROUP BY l.name ORDER BY COUNT(*) DESC, l.name""").fetchall()
    return [(name, count) for name, count in rows]


def static_way(annotations: Path, rare: str, a: str, b: str) -> dict[str, float]:
    """The whole file loaded, then each question answered with a comprehension."""
    started = time.perf_counter()
    with open(annotations, "rb") as f:
        document = json.load(f)
    names = {c["id"]: c["name"] for c in document["categories"]}
    counts: dict[int, Counter] = {}
    for annotation in document["annotations"]:
        counts.setdefault(annotation["image_id"], Counter())[names[annotation["category_id"]]] += 1
    loaded = time.perf_counter()
    empty: Counter = Counter()
    rare_ids = [i["id"] for i in document["images"] if counts.get(i["id"], empty)[rare] > 0]
    rare_done = time.perf_counter()
    broad_ids = [i["id"] for i in document["images"]
                 if counts.get(i["id"], empty)[a] > 2 and counts.get(i["id"], empty)[b] == 0 and i["width"] >= 640]
    broad_done = time.perf_counter()
    return {"load_s": loaded - started, "rare_ms": (rare_done - loaded) * 1000, "rare_count": len(rare_ids),
            "broad_ms": (broad_done - rare_done) * 1000, "broad_count": len(broad_ids)}


def pycocotools_way(annotations: Path, rare: str) -> dict[str, float] | None:
    try:
        from pycocotools.coco import COCO
    except ImportError:
        return None
    started = time.perf_counter()
    with contextlib.redirect_stdout(sys.stderr):  # its progress prints would land in the table
        coco = COCO(str(annotations))
    loaded = time.perf_counter()
    cat_ids = coco.getCatIds(catNms=[rare])
    image_ids = coco.getImgIds(catIds=cat_ids)
    done = time.perf_counter()
    return {"load_s": loaded - started, "rare_ms": (done - loaded) * 1000, "rare_count": len(image_ids)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    add_dataset_arguments(parser)
    parser.add_argument("--import", dest="do_import", action="store_true", help="generate and import first")
    parser.add_argument("--lookups", type=int, default=2000, help="positional look-ups inside the slice")
    args = parser.parse_args()

    sluice = args.sluice
    started = time.perf_counter()
    total_steps = 5

    step(1, total_steps, "data and store", started)
    annotations, store = dataset_paths(args)
    if args.do_import or not (store / "sluice.sqlite").exists():
        import_coco(sluice, annotations, store)
    frequencies = label_frequencies(store / "sluice.sqlite")
    a, b = frequencies[0][0], frequencies[1][0]
    rare = frequencies[-1][0]
    queries = {
        "selective": f"labels.{rare} > 0",
        "broad": f"labels.{a} > 2 and labels.{b} = 0 and file.width >= 640",
    }

    step(2, total_steps, "sluice serve", started)
    server, host = start_server(sluice, store)
    results: dict[str, dict[str, float]] = {}
    try:
        datasets, _ = request(host, "/api/v1/projects/bench/datasets")
        dataset_id = next(d["id"] for d in datasets if d["name"] == "D")
        step(3, total_steps, "slices: count (first time: materialised), count again (cached), positions", started)
        for name, query in queries.items():
            created, first_ms = request(host, f"/api/v1/datasets/{dataset_id}/slices", {"query": query})
            token, count = created["id"], created["count"]
            _, again_ms = request(host, f"/api/v1/datasets/{dataset_id}/slices", {"query": query})
            generator = random.Random(7)
            latencies = []
            for _ in range(args.lookups if count else 0):
                position = generator.randrange(count)
                item, ms = request(host, f"/api/v1/slices/{token}/items/{position}")
                assert item["position"] == position
                latencies.append(ms)
            results[name] = {"count": count, "first_ms": first_ms, "again_ms": again_ms,
                             "lookup_median_ms": statistics.median(latencies) if latencies else 0,
                             "lookup_p99_ms": statistics.quantiles(latencies, n=100)[98] if len(latencies) > 99 else 0}
    finally:
        server.terminate()
        server.wait(timeout=30)

    step(4, total_steps, "static way: json.load + comprehensions", started)
    static = static_way(annotations, rare, a, b)
    step(5, total_steps, "static way: pycocotools getImgIds", started)
    coco = pycocotools_way(annotations, rare)

    assert static["rare_count"] == results["selective"]["count"], (static, results)
    assert static["broad_count"] == results["broad"]["count"], (static, results)
    if coco:
        assert coco["rare_count"] == results["selective"]["count"]

    def ratio(a: float, b: float) -> str:
        return f"{a / b:,.0f}×" if b else "–"

    print()
    print(f"Dataset: {args.files:,} files × {args.instances_per_file} instances, {args.labels} labels; "
          f"selective: `{queries['selective']}`; broad: `{queries['broad']}`")
    print()
    print("| question | Sluice (first / cached) | static: json.load + comprehension | pycocotools | Sluice advantage |")
    print("|---|---|---|---|---|")
    s, r = results["selective"], results["broad"]
    static_rare_total = static["load_s"] * 1000 + static["rare_ms"]
    coco_text = (f"{coco['load_s']:,.1f} s load + {coco['rare_ms']:,.1f} ms" if coco else "not installed")
    print(f"| selective count ({s['count']:,} files) | {s['first_ms']:,.1f} ms / {s['again_ms']:,.1f} ms "
          f"| {static['load_s']:,.1f} s load + {static['rare_ms']:,.0f} ms | {coco_text} "
          f"| {ratio(static_rare_total, s['first_ms'])} sooner |")
    print(f"| broad conjunction ({r['count']:,} files) | {r['first_ms']:,.1f} ms / {r['again_ms']:,.1f} ms "
          f"| {static['load_s']:,.1f} s load + {static['broad_ms']:,.0f} ms | – "
          f"| {ratio(static['load_s'] * 1000 + static['broad_ms'], r['first_ms'])} sooner |")
    print(f"| item at a position inside the slice (median / p99 of {args.lookups}) "
          f"| {s['lookup_median_ms']:,.2f} / {s['lookup_p99_ms']:,.2f} ms | (list index, after the load) | | |")


if __name__ == "__main__":
    main()
