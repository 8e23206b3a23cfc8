"""YOLO out in Ultralytics' layout (`sluice export --format yolo-ultralytics`): data.yaml,
images/SUBSET/ and labels/SUBSET/. Ultralytics' own dataset checker (check_det_dataset and the
YOLODataset scan every training run starts with) reads it with no corrupt image or label and
finds each file's classes and boxes; Datumaro reads it as `yolo_ultralytics` with the same
objects; `sluice import yolo` reads it back the same, subsets included."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import run_sluice, said, serving
from formats_oracle import FIXTURES, _strip_segment_lines, sluice_items, write_voc_set, write_yolo_set

pytest.importorskip("ultralytics", reason="scripts/test.sh installs ultralytics (without its training extras)")

CASES = {
    "generated-yolo": ("yolo", write_yolo_set),
    "fixture-yolo": ("yolo", lambda root: FIXTURES / "yolo" / "datumaro-yolo" / "strict"),
    "generated-voc": ("voc", write_voc_set),
}

# Run in a process of its own: Ultralytics writes settings under YOLO_CONFIG_DIR, and its
# check_det_dataset ends by downloading a plotting font, which this machine cannot reach and a
# check of the data does not need.
CHECKER = r"""
import json, os, sys
import ultralytics.data.utils as utils
utils.check_font = lambda *args, **kwargs: None
from ultralytics.data.dataset import YOLODataset
info = utils.check_det_dataset(sys.argv[1])
out = {"nc": info["nc"], "names": [info["names"][i] for i in range(info["nc"])], "images": {}}
for split in ("train", "val", "test"):
    if not info.get(split) or (split == "val" and info["val"] == info["train"]):
        continue
    dataset = YOLODataset(img_path=info[split], data=info, task="detect", augment=False, imgsz=64, cache=False)
    for label in dataset.labels:
        name = os.path.relpath(label["im_file"], info["path"])
        out["images"][name] = {"cls": label["cls"].ravel().astype(int).tolist(), "bboxes": label["bboxes"].tolist(),
                               "segments": len(label["segments"]), "shape": list(label["shape"])}
print(json.dumps(out))
"""


def _ultralytics(data_yaml: Path, tmp: Path) -> dict:
    done = subprocess.run([sys.executable, "-c", CHECKER, str(data_yaml)], capture_output=True, text=True, timeout=300,
                          env={"YOLO_CONFIG_DIR": str(tmp / "ultralytics-settings"), "PATH": "/usr/bin:/bin",
                               "HOME": str(tmp)})
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.splitlines()[-1])


def _stem(name: str) -> str:
    """A file's name without its extension and without the export's images/SUBSET/ prefix."""
    parts = Path(name).with_suffix("").parts
    return "/".join(parts[2:] if parts[0] == "images" else parts)


def _objects(items: list[dict]) -> dict[str, list]:
    """Per file (by stem): its box and polygon instances as (label, box in pixels), sorted."""
    out = {}
    for item in items:
        rows = []
        for instance in item["instances"]:
            if instance["kind"] in ("box", "polygon"):
                rows.append((instance["label"], instance["kind"], [round(v, 2) for v in instance["bbox"]]))
        out[_stem(item["file"]["name"])] = sorted(rows)
    return out


@pytest.mark.parametrize("case", list(CASES))
def test_ultralytics_reads_the_export_and_sluice_reads_it_back(case: str, tmp_path: Path) -> None:
    format, make = CASES[case]
    source = make(tmp_path / "source")
    data, out = tmp_path / "data", tmp_path / "out"
    done = run_sluice("import", format, source, "--project", "p", "--dataset", "original", "--data", data)
    assert done.returncode == 0, said(done)
    done = run_sluice("export", "--project", "p", "--dataset", "original", "--format", "yolo-ultralytics", "--data", data, out)
    assert done.returncode == 0, said(done)
    assert (out / "data.yaml").is_file() and (out / "images" / "train").is_dir()
    back = run_sluice("import", "yolo", out, "--project", "p", "--dataset", "back", "--data", data)
    assert back.returncode == 0, said(back)
    with serving(data) as url:
        original, again = sluice_items(url, "p", "original"), sluice_items(url, "p", "back")
        labels = {label["id"]: label["name"] for label in __import__("requests").get(f"{url}/api/v1/projects/p/labels").json()}

    # Ultralytics' checker: every image and label file sound, each file's classes and boxes.
    seen = _ultralytics(out / "data.yaml", tmp_path)
    assert seen["names"] == [labels[k] for k in sorted(labels)] or set(seen["names"]) >= {i["label"] for it in original for i in it["instances"]}
    expected = _objects(original)
    assert {_stem(name) for name in seen["images"]} == set(expected)
    for name, got in seen["images"].items():
        item = next(it for it in original if _stem(it["file"]["name"]) == _stem(name))
        height, width = got["shape"]
        assert (width, height) == (item["file"]["media"]["width"], item["file"]["media"]["height"])
        shown = sorted((seen["names"][c], [round(v, 2) for v in (
            (x - w / 2) * width, (y - h / 2) * height, (x + w / 2) * width, (y + h / 2) * height)])
            for c, (x, y, w, h) in zip(got["cls"], got["bboxes"]))
        assert [(label, pytest.approx(box, abs=0.05)) for label, box in shown] == \
            [(label, box) for label, _, box in expected[_stem(name)]], name
        # A file with a polygon is all segments (its boxes as their corners), else all boxes.
        mixed = any(kind == "polygon" for _, kind, _ in expected[_stem(name)])
        assert got["segments"] == (len(expected[_stem(name)]) if mixed else 0)

    assert len(again) == len(original), "an image that val shares with train is one file"
    # And Sluice reads it back: the same files, labels, boxes and polygons, and subsets; in a
    # file with polygons a box went out as the polygon of its corners and comes back as one.
    def as_written(rows: list) -> list:
        mixed = any(kind == "polygon" for _, kind, _ in rows)
        return sorted((label, "polygon" if mixed else kind, box) for label, kind, box in rows)
    assert _objects(again) == {name: as_written(rows) for name, rows in expected.items()}
    subsets = {_stem(it["file"]["name"]): it["file"]["metadata"].get("subset") for it in original}
    for item in again:
        want = subsets[_stem(item["file"]["name"])]
        assert item["file"]["metadata"].get("subset") == ("val" if want in ("val", "valid", "validation") else
                                                          "test" if want == "test" else "train"), item["file"]["name"]


def test_datumaro_reads_the_export_as_yolo_ultralytics(tmp_path: Path) -> None:
    import datumaro as dm
    from datumaro.components.annotation import AnnotationType

    source = write_yolo_set(tmp_path / "source")
    data, out = tmp_path / "data", tmp_path / "out"
    assert run_sluice("import", "yolo", source, "--project", "p", "--dataset", "d", "--data", data).returncode == 0
    done = run_sluice("export", "--project", "p", "--dataset", "d", "--format", "yolo-ultralytics", "--data", data, out)
    assert done.returncode == 0, said(done)
    with serving(data) as url:
        # Datumaro reads no YOLO segments (formats_oracle._strip_segment_lines): it is given the
        # box rows, and a file with polygons has none (its boxes went out as segments).
        expected = {k: [] if any(kind == "polygon" for _, kind, _ in rows) else [(label, box) for label, _, box in rows]
                    for k, rows in _objects(sluice_items(url, "p", "d")).items()}
    import shutil

    copy = tmp_path / "copy"
    shutil.copytree(out, copy)
    segments = _strip_segment_lines(copy)
    assert set(segments) == {"labels/train/a.txt", "labels/train/b.txt"}, "the two files with polygons are all segments"
    # Datumaro's "yolo" importer tells Ultralytics' layout by its data.yaml (its yolo_ultralytics
    # format name is for exports only).
    dataset = dm.Dataset.import_from(str(copy), "yolo")
    names = dataset.categories()[AnnotationType.label]
    got = {}
    for item in dataset:
        rows = [(names[a.label].name, [round(v, 2) for v in (a.x, a.y, a.x + a.w, a.y + a.h)])
                for a in item.annotations if a.type == AnnotationType.bbox]
        got[item.id] = sorted(rows)
        assert item.subset in ("train", "val")
    assert {Path(k).name for k in got} == {Path(k).name for k in expected}
    for key, rows in got.items():
        want = expected[next(k for k in expected if Path(k).name == Path(key).name)]
        assert [(l, pytest.approx(b, abs=0.05)) for l, b in rows] == want, key


def test_any_label_name_survives_data_yaml(tmp_path: Path) -> None:
    """A label name is a stranger's text: quotes, backslashes, a colon, a hash and a line break
    must neither break data.yaml nor add keys to it."""
    import yaml
    from PIL import Image

    names = ['say "cheese"', "back\\slash", "key: value", "# not a comment", "two\nlines", "naïve 🐈"]
    images = tmp_path / "images"
    images.mkdir()
    Image.new("RGB", (32, 24), (90, 120, 30)).save(images / "a.jpg")
    coco = {"images": [{"id": 1, "file_name": "a.jpg", "width": 32, "height": 24}],
            "categories": [{"id": i + 1, "name": n} for i, n in enumerate(names)],
            "annotations": [{"id": i + 1, "image_id": 1, "category_id": i + 1, "bbox": [1 + i, 2, 5, 6]}
                            for i in range(len(names))]}
    (tmp_path / "coco.json").write_text(json.dumps(coco))
    data, out = tmp_path / "data", tmp_path / "out"
    done = run_sluice("import", "coco", tmp_path / "coco.json", "--images", images, "--project", "p", "--dataset", "d",
                      "--data", data)
    assert done.returncode == 0, said(done)
    done = run_sluice("export", "--project", "p", "--dataset", "d", "--format", "yolo-ultralytics", "--data", data, out)
    assert done.returncode == 0, said(done)
    document = yaml.safe_load((out / "data.yaml").read_text(encoding="utf-8"))
    assert set(document) == {"train", "val", "nc", "names"}
    assert [document["names"][i] for i in range(document["nc"])] == names
    back = run_sluice("import", "yolo", out, "--project", "q", "--dataset", "d", "--data", data)
    assert back.returncode == 0, said(back)
    with serving(data) as url:
        import requests

        assert sorted(label["name"] for label in requests.get(f"{url}/api/v1/projects/q/labels").json()) == sorted(names)
