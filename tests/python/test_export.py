"""`sluice export --format coco` round trip: each shared COCO fixture imported with the CLI,
exported (from the embedded store, and through a server), loaded with pycocotools next to
the original, and compared image by image, category by category, annotation by annotation."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest
from pycocotools.coco import COCO

from conftest import COCO_SETS, FIXTURES, sluice_bin


def load(path: Path) -> COCO:
    return COCO(str(path))


def assert_same(original: COCO, exported: COCO) -> None:
    assert exported.imgs == original.imgs
    assert exported.cats == original.cats
    assert set(exported.anns) == set(original.anns)
    for ann_id, want in original.anns.items():
        got = dict(exported.anns[ann_id])
        # The store keeps no difference between "no segmentation key" and COCO's `[]`.
        if "segmentation" not in want and got.get("segmentation") == []:
            del got["segmentation"]
        for key in ("bbox", "segmentation", "iscrowd", "area", "keypoints", "num_keypoints", "category_id", "image_id"):
            assert got.get(key) == want.get(key), f"annotation {ann_id}: {key}"
        assert got == want, f"annotation {ann_id}"
    # pycocotools' own indexes agree too.
    assert exported.getImgIds() == original.getImgIds() or sorted(exported.getImgIds()) == sorted(original.getImgIds())
    for img_id in original.getImgIds():
        assert sorted(exported.getAnnIds(imgIds=[img_id])) == sorted(original.getAnnIds(imgIds=[img_id]))
    assert sorted(exported.getCatIds()) == sorted(original.getCatIds())


@pytest.mark.parametrize("annotations,images", COCO_SETS, ids=[a for a, _ in COCO_SETS])
def test_embedded_export_round_trips(tmp_path: Path, annotations: str, images: str) -> None:
    data = tmp_path / "data"
    subprocess.run(
        [sluice_bin(), "import", "coco", str(FIXTURES / annotations), "--project", "p", "--dataset", "D",
         "--images", str(FIXTURES / images), "--data", str(data)],
        check=True, capture_output=True, text=True,
    )
    out = tmp_path / "export.json"
    done = subprocess.run(
        [sluice_bin(), "export", "--project", "p", "--dataset", "D", "--format", "coco", "--data", str(data), str(out)],
        check=True, capture_output=True, text=True,
    )
    assert "exported" in done.stderr.splitlines()[-1]
    assert not (tmp_path / "export.json.partial").exists()
    assert_same(load(FIXTURES / annotations), load(out))


def test_server_export_round_trips(tmp_path: Path, fixtures_server: tuple) -> None:
    url, sets = fixtures_server
    for project, annotations, _ in sets:
        out = tmp_path / f"{project}.json"
        subprocess.run(
            [sluice_bin(), "export", "--project", project, "--dataset", "Default", "--format", "coco",
             "--host", url, str(out)],
            check=True, capture_output=True, text=True,
        )
        assert_same(load(annotations), load(out))


def test_sluice_json_export_with_a_query(tmp_path: Path, data_dir: Path) -> None:
    everything = tmp_path / "all.json"
    some = tmp_path / "some.json"
    for out, extra in [(everything, []), (some, ["--query", "labels.person >= 3"])]:
        subprocess.run(
            [sluice_bin(), "export", "--project", "coco-dataset", "--dataset", "Default", "--format", "sluice-json",
             "--data", str(data_dir), *extra, str(out)],
            check=True, capture_output=True, text=True,
        )
    whole = json.loads(everything.read_text())
    part = json.loads(some.read_text())
    assert whole["format"] == "sluice-json" and whole["count"] == len(whole["items"]) == 9
    expected = [item for item in whole["items"] if sum(i.get("label") == "person" for i in item["instances"]) >= 3]
    assert 0 < len(expected) < 9
    assert part["items"] == expected


def test_bad_query_fails_with_one_line(tmp_path: Path, data_dir: Path) -> None:
    done = subprocess.run(
        [sluice_bin(), "export", "--project", "coco-dataset", "--dataset", "Default", "--format", "coco",
         "--data", str(data_dir), "--query", "labels.persn > 0", str(tmp_path / "x.json")],
        capture_output=True, text=True,
    )
    assert done.returncode != 0
    assert "person" in done.stderr
    assert not (tmp_path / "x.json").exists()
