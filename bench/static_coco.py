"""The static-file way, for comparison: load a whole COCO JSON export with Python's json
module, then build Diffgram-style per-image lists (x_min_list, …, label_id_list).

Prints one JSON line: load seconds, build seconds, time to first item, items/s, peak RSS.
"""

from __future__ import annotations

import json
import resource
import sys
import time
from collections import defaultdict
from typing import Any


def per_image_lists(document: dict[str, Any]) -> list[dict[str, Any]]:
    """One record per image, in file order, with its instances as parallel lists."""
    by_image: dict[int, list[dict[str, Any]]] = defaultdict(list)
    for annotation in document.get("annotations", []):
        by_image[annotation["image_id"]].append(annotation)
    items = []
    for image in document.get("images", []):
        annotations = by_image.get(image["id"], [])
        x_min, y_min, x_max, y_max, labels = [], [], [], [], []
        for a in annotations:
            bbox = a.get("bbox")
            if bbox is None:
                continue
            x, y, w, h = bbox
            x_min.append(x)
            y_min.append(y)
            x_max.append(x + w)
            y_max.append(y + h)
            labels.append(a.get("category_id"))
        items.append({
            "file": image,
            "x_min_list": x_min, "y_min_list": y_min, "x_max_list": x_max, "y_max_list": y_max,
            "label_id_list": labels,
        })
    return items


def main(path: str) -> None:
    started = time.perf_counter()
    with open(path, "rb") as f:
        document = json.load(f)
    loaded = time.perf_counter()
    items = per_image_lists(document)
    built = time.perf_counter()
    instances = sum(len(i["label_id_list"]) for i in items)
    total = built - started
    print(json.dumps({
        "items": len(items),
        "instances": instances,
        "load_seconds": loaded - started,
        "build_seconds": built - loaded,
        # Nothing is usable before the whole file is parsed and grouped.
        "first_item_ms": total * 1000,
        "items_per_second": len(items) / total if total > 0 else 0,
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }))


if __name__ == "__main__":
    main(sys.argv[1])
