"""The static baseline of the benchmarks computes what it claims, on the real fixtures."""

from __future__ import annotations

import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "bench"))

from static_coco import per_image_lists  # noqa: E402


def test_per_image_lists_match_the_annotations() -> None:
    document = json.loads((ROOT / "Tests/Fixtures/coco/val2017-persons/person_keypoints_val2017.json").read_text())
    items = per_image_lists(document)
    assert [i["file"]["id"] for i in items] == [image["id"] for image in document["images"]]
    assert sum(len(i["label_id_list"]) for i in items) == len(document["annotations"])
    first = next(a for a in document["annotations"] if a["image_id"] == items[0]["file"]["id"])
    x, y, w, h = first["bbox"]
    assert (items[0]["x_min_list"][0], items[0]["y_max_list"][0]) == (x, y + h)


def test_streamed_items_agree_with_the_static_reading(server: str) -> None:
    """Sluice's item 0..8 boxes equal the static per-image lists of the same files."""
    import requests

    fixtures = ROOT / "Tests/Fixtures/coco"
    static = []
    for name in ["val2017-persons/person_keypoints_val2017.json", "crowdpose/test_crowdpose.json", "ochuman/test_ochuman.json"]:
        static += per_image_lists(json.loads((fixtures / name).read_text()))
    dataset = requests.get(f"{server}/api/v1/projects/coco-dataset/datasets", params={"name": "Default"}, timeout=10).json()[0]
    page = requests.get(f"{server}/api/v1/datasets/{dataset['id']}/items", params={"start": 0, "end": 100}, timeout=10).json()
    assert page["count"] == len(static) == 9
    for item, expected in zip(page["items"], static):
        assert item["file"]["name"] == expected["file"]["file_name"]
        boxes = [i["bbox"] for i in item["instances"]]
        assert [b[0] for b in boxes] == expected["x_min_list"]
        assert [b[3] for b in boxes] == expected["y_max_list"]
