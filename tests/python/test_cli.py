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


def stream(server: str, *args: str) -> list[dict]:
    result = run(server, "stream", "--project", "coco-dataset", "--output", "ndjson", *args)
    assert result.returncode == 0, result.stderr
    return [json.loads(line) for line in result.stdout.splitlines()]


def test_stream_shards_of_a_shuffled_epoch_cover_the_dataset_once(server: str) -> None:
    shards = [stream(server, "--dataset", "Default", "--seed", "11", "--epoch", "2", "--rank", str(rank),
                     "--world-size", "2", "--range-size", "2") for rank in range(2)]
    positions = [item["position"] for shard in shards for item in shard]
    assert sorted(positions) == list(range(9))
    assert abs(len(shards[0]) - len(shards[1])) <= 1
    again = stream(server, "--dataset", "Default", "--seed", "11", "--epoch", "2", "--rank", "0", "--world-size", "2")
    assert again == shards[0]


def test_stream_resumes_from_state_files_with_another_world_size(server: str, tmp_path: Path) -> None:
    delivered = []
    tokens = []
    for rank, limit in [(0, 2), (1, 1), (2, 0)]:
        state = tmp_path / f"rank{rank}.token"
        delivered += stream(server, "--dataset", "Default", "--seed", "5", "--rank", str(rank), "--world-size", "3",
                            "--limit", str(limit), "--state-file", str(state))
        tokens.append(state.read_text().strip())
    resume = [arg for token in tokens for arg in ("--resume", token)]
    for rank in range(2):
        delivered += stream(server, *resume, "--rank", str(rank), "--world-size", "2")
    assert sorted(item["position"] for item in delivered) == list(range(9))


def test_stream_of_a_slice_and_a_closed_pipe(server: str) -> None:
    crowded = sum(1 for n, _ in people_per_image() if n >= 3)
    items = stream(server, "--dataset", "Default", "--query", "labels.person >= 3", "--seed", "1")
    assert len(items) == crowded
    assert all(sum(1 for i in item["instances"] if i["label"] == "person") >= 3 for item in items)
    # A reader that leaves early (`| head -1`) ends the command quietly.
    command = f"'{sluice_bin()}' stream --project coco-dataset --dataset Default --output ndjson --host {server} | head -c 10"
    result = subprocess.run(["bash", "-o", "pipefail", "-c", command], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert "Fatal error" not in result.stderr


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
