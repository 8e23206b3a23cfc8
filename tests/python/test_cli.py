"""The `sluice` command line against a live server: query counts and one-line errors."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

from conftest import FIXTURES, sluice_bin

SETS = ["val2017-persons/person_keypoints_val2017.json", "crowdpose/test_crowdpose.json", "ochuman/test_ochuman.json"]


def people_per_image() -> list[tuple[int, int]]:
    """(instance count, width) per image of the sample, in import order, read from the JSON files."""
    out = []
    for name in SETS:
        document = json.loads((FIXTURES / name).read_text())
        for image in document["images"]:
            people = sum(1 for a in document["annotations"] if a["image_id"] == image["id"])
            out.append((people, image["width"]))
    return out


def run(server: str, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sluice_bin(), *args, "--host", server], capture_output=True, text=True, timeout=60)


def test_query_count_matches_the_annotation_files(server: str) -> None:
    images = people_per_image()
    for query, expected in [
        ("labels.person > 1", sum(1 for n, _ in images if n > 1)),
        ("labels.person >= 2 and file.width >= 640", sum(1 for n, w in images if n >= 2 and w >= 640)),
        ("not labels.person = 1", sum(1 for n, _ in images if n != 1)),
        ("labels.any > 100", 0),
    ]:
        result = run(server, "query", query, "--project", "coco-dataset", "--dataset", "Default", "--count")
        assert result.returncode == 0, result.stderr
        assert result.stdout.strip() == str(expected), query


def test_bad_query_exits_nonzero_with_one_line(server: str) -> None:
    result = run(server, "query", "labels.persn > 0", "--project", "coco-dataset", "--dataset", "Default")
    assert result.returncode != 0
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, result.stderr
    assert "column 8" in lines[0] and "person" in lines[0]


def test_stream_ndjson_is_in_order(server: str) -> None:
    result = run(server, "stream", "--project", "coco-dataset", "--dataset", "Default", "--output", "ndjson")
    assert result.returncode == 0, result.stderr
    items = [json.loads(line) for line in result.stdout.splitlines()]
    assert [i["position"] for i in items] == list(range(9))
    assert "received 9 items" in result.stderr.splitlines()[-1]


def test_quickstart_walks_through_the_sample() -> None:
    """The README's main job: its count, 8th element and slice agree with the annotation files."""
    result = subprocess.run([sluice_bin(), "quickstart", "--port", "0"], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    images = people_per_image()
    assert f"Number of items in dataset: {len(images)}" in lines
    eighth = next(line for line in lines if line.startswith("8th element: "))
    assert eighth.startswith("8th element: Item 7: ") and f"{images[7][0]} instances" in eighth
    streamed = next(line for line in lines if line.startswith("Streamed "))
    assert streamed.startswith(f"Streamed {len(images)} items ({sum(n for n, _ in images)} instances)")
    crowded = sum(1 for n, _ in images if n >= 3)
    assert any(line.startswith(f"Slice labels.person >= 3: {crowded} items; first: Item 0: ") for line in lines)
