"""Datumaro as the oracle of Sluice's Pascal VOC and YOLO folders.

Both sides are brought to one comparable `FolderView`:

- `instances`: {image file name: sorted [(label, kind, coordinates, attributes)]}, kind "box"
  (coordinates [x, y, w, h]: top-left corner, width, height, in pixels) or "polygon" (the flat
  point list in pixels), every number rounded to 2 decimals;
- `subsets`: {image file name: subset};
- `media`: {image file name: (width, height, sha256 of the image bytes)}, None where unknown;
- `labels`: {label name: "#rrggbb" or None}.

`datumaro_view(path, "voc" | "yolo")` reads a folder with `dm.Dataset.import_from` (Datumaro's
"yolo" reads the darknet layout (obj.data), the loose one (obj.names + images/ + labels/) and
the Ultralytics one (data.yaml), which it calls `yolo_strict`, `yolo_loose` and
`yolo_ultralytics`); `sluice_view(items, format)` builds the same view from the items of
Sluice's HTTP API (`sluice_items`).

Where Datumaro and the contract of `sluice import` say the same thing in different words, both
sides are normalised to what they agree on; each such place says why (see `_voc_attributes`,
`_strip_segment_lines`, `darknet_name`).

`python tests/python/formats_oracle.py` prints Datumaro's view of every shared VOC and YOLO
fixture and of the two generated sets, without Sluice.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import re
import shutil
import tempfile
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable

ROOT = Path(__file__).resolve().parents[2]
FIXTURES = ROOT / "Tests" / "Fixtures"

#: The shared folders the tests run on: (format, path).
FIXTURE_FOLDERS = {
    "datumaro-voc1": ("voc", FIXTURES / "voc" / "datumaro-voc1"),
    "datumaro-voc2": ("voc", FIXTURES / "voc" / "datumaro-voc2"),
    "datumaro-yolo-strict": ("yolo", FIXTURES / "yolo" / "datumaro-yolo" / "strict"),
    "datumaro-yolo-labels": ("yolo", FIXTURES / "yolo" / "datumaro-yolo" / "labels"),
    # The loose layout's other spelling, Images/ beside Annotations/, with no subset folder.
    "datumaro-yolo-annotations": ("yolo", FIXTURES / "yolo" / "datumaro-yolo" / "annotations"),
}

DECIMALS = 2
VOC_FLAGS = frozenset({"difficult", "truncated", "occluded"})
#: Pascal VOC's action classes (Datumaro's `VocAction`).
VOC_ACTIONS = frozenset({
    "other", "jumping", "phoning", "playinginstrument", "reading", "ridingbike", "ridinghorse",
    "running", "takingphoto", "usingcomputer", "walking",
})
_NUMBER = re.compile(r"[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?")

Entry = tuple  # (label, kind, [coordinates], {attributes})


@dataclass
class FolderView:
    instances: dict[str, list[Entry]] = field(default_factory=dict)
    subsets: dict[str, str | None] = field(default_factory=dict)
    media: dict[str, tuple] = field(default_factory=dict)
    labels: dict[str, str | None] = field(default_factory=dict)

    def renamed(self, rename) -> "FolderView":
        """The same view with every image name passed through `rename` (names must stay unique)."""
        def move(mapping: dict) -> dict:
            out = {rename(name): value for name, value in mapping.items()}
            assert len(out) == len(mapping), "renaming merged two images"
            return out
        return FolderView(move(self.instances), move(self.subsets), move(self.media), dict(self.labels))

    def with_subsets(self, change) -> "FolderView":
        return FolderView(dict(self.instances), {name: change(s) for name, s in self.subsets.items()},
                          dict(self.media), dict(self.labels))


# ---------------------------------------------------------------- normalising

def _number(value: float) -> float:
    # `+ 0.0` turns -0.0 (a YOLO box at x = -0.0000075) into 0.0.
    return round(float(value), DECIMALS) + 0.0


def _entry(label: str | None, kind: str, coordinates: Iterable[float], attributes: dict) -> Entry:
    return (label, kind, [_number(v) for v in coordinates], attributes)


def _sort_key(entry: Entry) -> str:
    return json.dumps(entry, sort_keys=True)


def _sorted(entries: list[Entry]) -> list[Entry]:
    return sorted(entries, key=_sort_key)


def typed(text: str) -> Any:
    """A VOC `<attributes>` value as the contract stores it: true/false as booleans, a number as a
    number, anything else the string itself."""
    if text.lower() in ("true", "false"):
        return text.lower() == "true"
    if _NUMBER.fullmatch(text):
        return float(text)
    return text


def _attribute_value(value: Any) -> Any:
    if isinstance(value, bool) or value is None or isinstance(value, str):
        return value
    if isinstance(value, (int, float)):
        return float(value)
    return value


def _voc_attributes(attributes: dict, *, from_datumaro: bool) -> dict:
    out = {}
    for key, value in attributes.items():
        # Datumaro keeps `<attributes><attribute><value>` as text; the contract types it
        # (true/false → bool, numbers → number). `pose` stays a string on both sides.
        if from_datumaro and key != "pose" and isinstance(value, str):
            value = typed(value)
        # Datumaro writes difficult/truncated/occluded on every object and every action its label
        # map declares for the object's label, False when the XML has no such element; Sluice keeps
        # only what the XML says. So an absent flag and a False one are the same here.
        if value is False and (key in VOC_FLAGS or key in VOC_ACTIONS):
            continue
        out[key] = _attribute_value(value)
    return out


def _subset(name: str | None) -> str | None:
    # Darknet's obj.data says `valid`; Sluice stores that subset as `val`.
    return "val" if name == "valid" else name


def darknet_name(name: str) -> str:
    """A file name of a darknet export (`obj_train_data/images/train/a.jpg`) as the name it was
    exported from (`images/train/a.jpg`): darknet's layout puts every image under
    obj_<subset>_data/, which is the layout's folder, not part of the image's name."""
    return re.sub(r"^obj_[^/]+_data/", "", name)


def darknet_subset(subset: str | None) -> str:
    """The subset a file has after a darknet export: the layout has a train list and a valid
    list only, so val/valid stay val and every other subset (test, default, …) becomes train."""
    return "val" if (subset or "").lower() in ("val", "valid", "validation") else "train"


def sha256_of(path: Path) -> str | None:
    return hashlib.sha256(path.read_bytes()).hexdigest() if path.is_file() else None


def canonical(value: Any) -> str:
    """JSON text: tells True from 1.0, which == does not."""
    return json.dumps(value, sort_keys=True)


def assert_same_view(got: FolderView, expected: FolderView, what: str, *, labels: str = "subset") -> None:
    """Per image and per label, `got` equals `expected`; `labels` is "subset" (every label of
    `expected` is in `got` with the same colour) or "skip"."""
    assert sorted(got.instances) == sorted(expected.instances), (
        f"{what}: the images differ\n  expected {sorted(expected.instances)}\n  got      {sorted(got.instances)}")
    for name in sorted(expected.instances):
        want, have = expected.instances[name], got.instances[name]
        for label in sorted({e[0] or "" for e in want} | {e[0] or "" for e in have}):
            w = [e for e in want if (e[0] or "") == label]
            h = [e for e in have if (e[0] or "") == label]
            assert canonical(h) == canonical(w), (
                f"{what}: image {name!r}, label {label!r}\n  expected {w}\n  got      {h}")
    for name in sorted(expected.subsets):
        assert got.subsets.get(name) == expected.subsets[name], (
            f"{what}: image {name!r}: subset expected {expected.subsets[name]!r}, got {got.subsets.get(name)!r}")
    for name in sorted(expected.media):
        assert got.media.get(name) == expected.media[name], (
            f"{what}: image {name!r}: (width, height, sha256) expected {expected.media[name]}, got {got.media.get(name)}")
    if labels == "subset":
        for label, color in expected.labels.items():
            assert label in got.labels, f"{what}: label {label!r} is missing (got {sorted(got.labels)})"
            if color is not None:
                assert got.labels[label] == color, f"{what}: label {label!r}: colour expected {color}, got {got.labels[label]}"


# ---------------------------------------------------------------- Datumaro's side

def _datumaro():
    warnings.filterwarnings("ignore")
    logging.getLogger().setLevel(logging.ERROR)
    import datumaro as dm  # noqa: PLC0415 — heavy (pandas, pyarrow): only when used

    return dm


def datumaro_view(path: Path | str, format: str) -> FolderView:
    path = Path(path)
    if format == "voc":
        return _datumaro_voc(path)
    if format == "yolo":
        return _datumaro_yolo(path)
    raise ValueError(format)


def _media(media, file: Path | None) -> tuple:
    size = None
    if media is not None and (media.has_size or (file is not None and file.is_file())):
        size = media.size
    width, height = (size[1], size[0]) if size else (None, None)
    return (width, height, sha256_of(file) if file is not None else None)


def _datumaro_voc(root: Path) -> FolderView:
    dm = _datumaro()
    from datumaro.components.annotation import AnnotationType

    # "dm-zero-based" (Datumaro's default, named so that a change of default shows): the box as
    # written, which is the contract's; "voc-one-based" would shift xmin and ymin by one pixel.
    dataset = dm.Dataset.import_from(str(root), "voc", coordinate_mode="dm-zero-based")
    categories = dataset.categories()
    names = categories[AnnotationType.label]
    view = FolderView()
    images = root / "JPEGImages"
    for item in dataset:
        file = Path(item.media.path) if item.media is not None and item.media.path else None
        # The image named by <filename>, else the image of that id in JPEGImages/, else id.jpg.
        name = Path(os.path.relpath(file, images)).as_posix() if file is not None else f"{item.id}.jpg"
        entries = []
        masks = _datumaro_voc_masks(item)
        for annotation in item.annotations:
            # Boxes, and SegmentationObject masks on their objects (_datumaro_voc_masks): Datumaro
            # also turns ImageSets/Main/<label>_<subset>.txt into image-level `label` annotations,
            # which the contract does not import. Parts come as boxes of their own label.
            if annotation.type != AnnotationType.bbox:
                continue
            attributes = _voc_attributes(dict(annotation.attributes), from_datumaro=True)
            # Objects (not parts) are the Bboxes with the flags Datumaro sets on every object;
            # object k (1-based, VOC's pixel index) has id k - 1.
            if "difficult" in annotation.attributes and annotation.id + 1 in masks:
                attributes["_mask"] = masks.pop(annotation.id + 1)
            entries.append(_entry(
                names[annotation.label].name, "box", (annotation.x, annotation.y, annotation.w, annotation.h), attributes))
        # A mask whose index no object has: shown on its own, so that it differs from anything.
        entries += [(None, "mask", [], {"_mask": mask, "_index": index}) for index, mask in sorted(masks.items())]
        view.instances[name] = _sorted(entries)
        view.subsets[name] = item.subset
        view.media[name] = _media(item.media, file)
    # Labels and colours only from a label map. Without one, Datumaro's labels are VOC's 20
    # classes, its parts and its palette, which the contract does not promise: no expectation.
    if (root / "labelmap.txt").is_file() and AnnotationType.mask in categories:
        colormap = categories[AnnotationType.mask].colormap
        for index, label in enumerate(names.items):
            color = colormap.get(index)
            view.labels[label.name] = "#%02x%02x%02x" % tuple(color) if color is not None else None
    return view


def voc_mask(bits) -> list:
    """A VOC object's mask as its pixel count and the sha256 of its bits (row by row, with the
    shape): equal masks, not just equal areas."""
    import numpy as np

    bits = np.asarray(bits, dtype=bool)
    return [int(bits.sum()), hashlib.sha256(np.packbits(bits).tobytes() + bytes(str(bits.shape), "ascii")).hexdigest()]


def _datumaro_voc_masks(item) -> dict[int, list]:
    """Datumaro's reading of an item's SegmentationObject PNG: VOC's object index k → `voc_mask`.
    Datumaro gives one `Mask` per index in the PNG, `group` = the index k; its k-th object's
    Bbox has `id` = `group` = k - 1, so Datumaro's groups do not link them: the index does.
    255 is VOC's void (borders), no object's; with a SegmentationClass PNG Datumaro reports it as
    one more instance."""
    from datumaro.components.annotation import AnnotationType

    masks = {}
    for annotation in item.annotations:
        if annotation.type != AnnotationType.mask:
            continue
        index = getattr(annotation, "index", annotation.group)
        if index in (0, 255):
            continue
        masks[int(index)] = voc_mask(annotation.image)
    return masks


def _is_segment_line(fields: list[str]) -> bool:
    numbers = fields[1:]
    return (len(numbers) >= 6 and len(numbers) % 2 == 0 and re.fullmatch(r"\d+", fields[0]) is not None
            and all(_NUMBER.fullmatch(f) for f in numbers))


def _strip_segment_lines(root: Path) -> dict[str, list[tuple[int, list[float]]]]:
    """Removes YOLO segment lines (`class x1 y1 x2 y2 x3 y3 …`) from every label file below `root`
    and returns them by label file (relative to `root`): (class, fractions).

    Datumaro 1.13 reads no YOLO segments: its `yolo` formats take 5 fields a line and refuse any
    other count (and its experimental reader takes their first 4 numbers for a box). The segments
    are therefore read here, by the contract's words (x·W, y·H with the image's size as Datumaro
    reads it), and everything else by Datumaro from a copy without them."""
    found: dict[str, list[tuple[int, list[float]]]] = {}
    for text_file in sorted(root.rglob("*.txt")):
        lines = text_file.read_text(encoding="utf-8").splitlines(keepends=True)
        kept = []
        for line in lines:
            fields = line.split()
            if _is_segment_line(fields):
                relative = text_file.relative_to(root).as_posix()
                found.setdefault(relative, []).append((int(fields[0]), [float(v) for v in fields[1:]]))
            else:
                kept.append(line)
        if len(kept) != len(lines):
            text_file.write_text("".join(kept), encoding="utf-8")
    return found


def _yolo_label_file(image: str, root: Path, darknet: bool) -> str:
    """Where Datumaro (and YOLO) keeps the labels of `image` (relative to `root`)."""
    stem = os.path.splitext(image)[0]
    if darknet:
        return stem + ".txt"
    parts = stem.split("/")
    for folder in ("labels", "Labels", "Annotations", "annotations"):
        candidate = "/".join([folder] + parts[1:]) + ".txt"
        if (root / candidate).is_file():
            return candidate
    return "/".join(["labels"] + parts[1:]) + ".txt"


def _datumaro_yolo(root: Path) -> FolderView:
    dm = _datumaro()
    from datumaro.components.annotation import AnnotationType

    darknet = (root / "obj.data").is_file()
    view = FolderView()
    with tempfile.TemporaryDirectory(prefix="formats-oracle-") as tmp:
        copy = Path(tmp) / "copy"
        shutil.copytree(root, copy)
        segments = _strip_segment_lines(copy)
        dataset = dm.Dataset.import_from(str(copy), "yolo")
        names = dataset.categories()[AnnotationType.label]
        view.labels = {label.name: None for label in names.items}
        for item in dataset:
            image = Path(os.path.relpath(item.media.path, copy)).as_posix()
            height, width = item.media.size
            entries = []
            for annotation in item.annotations:
                if annotation.type == AnnotationType.bbox:
                    entries.append(_entry(
                        names[annotation.label].name, "box", (annotation.x, annotation.y, annotation.w, annotation.h),
                        dict(annotation.attributes)))
                else:
                    entries.append(_entry(names[annotation.label].name, annotation.type.name, [], {}))
            for cls, fractions in segments.get(_yolo_label_file(image, copy, darknet), []):
                label = names[cls].name if 0 <= cls < len(names) else f"<class {cls}>"
                points = [v * (width if i % 2 == 0 else height) for i, v in enumerate(fractions)]
                entries.append(_entry(label, "polygon", points, {}))
            view.instances[image] = _sorted(entries)
            view.subsets[image] = _subset(item.subset)
            view.media[image] = (width, height, sha256_of(root / image))
    return view


# ---------------------------------------------------------------- Sluice's side

def sluice_items(url: str, project: str, dataset: str) -> list[dict] | None:
    """Every item of `project`/`dataset` through the HTTP API; None when there is no such dataset
    (or project)."""
    import requests

    reply = requests.get(f"{url}/api/v1/projects/{project}/datasets", params={"name": dataset}, timeout=30)
    if reply.status_code == 404:
        return None
    reply.raise_for_status()
    found = [d for d in reply.json() if d["name"] == dataset]
    if not found:
        return None
    dataset_id, count = found[0]["id"], found[0]["count"]
    items: list[dict] = []
    while len(items) < count:
        page = requests.get(f"{url}/api/v1/datasets/{dataset_id}/items",
                            params={"start": len(items), "end": count}, timeout=30)
        page.raise_for_status()
        got = page.json()["items"]
        assert got, "an empty page before the end"
        items += got
    return items


def sluice_labels(url: str, project: str) -> dict[str, str]:
    import requests

    reply = requests.get(f"{url}/api/v1/projects/{project}/labels", timeout=30)
    reply.raise_for_status()
    return {label["name"]: label["color"] for label in reply.json()}


def sluice_view(items: list[dict], format: str, labels: dict[str, str] | None = None) -> FolderView:
    view = FolderView(labels=dict(labels or {}))
    for item in items:
        file = item["file"]
        name = file["name"]
        assert name not in view.instances, f"two files named {name!r}"
        entries = []
        for instance in item["instances"]:
            kind = instance["kind"]
            attributes = instance.get("attributes") or {}
            attributes = (_voc_attributes(attributes, from_datumaro=False) if format == "voc"
                          else {k: _attribute_value(v) for k, v in attributes.items()})
            if kind == "polygon":
                rings = (instance.get("geometry") or {}).get("polygon") or []
                coordinates = [v for ring in rings for v in ring]
            else:
                # The API's bbox is [x_min, y_min, x_max, y_max].
                box = instance.get("bbox")
                coordinates = [box[0], box[1], box[2] - box[0], box[3] - box[1]] if box else []
            mask = (instance.get("geometry") or {}).get("mask")
            if format == "voc" and mask is not None:
                # A VOC object's SegmentationObject mask rides on its box instance.
                attributes = dict(attributes, _mask=voc_mask(_rle_bits(mask)))
            entries.append(_entry(instance.get("label"), kind, coordinates, attributes))
        view.instances[name] = _sorted(entries)
        view.subsets[name] = _subset((file.get("metadata") or {}).get("subset"))
        media = file.get("media") or {}
        view.media[name] = (media.get("width"), media.get("height"), media.get("sha256"))
    return view


# ---------------------------------------------------------------- generated sets

def _image(path: Path, width: int, height: int, seed: int) -> None:
    from PIL import Image, ImageDraw

    path.parent.mkdir(parents=True, exist_ok=True)
    image = Image.new("RGB", (width, height), ((seed * 70) % 256, (seed * 130) % 256, (seed * 30 + 90) % 256))
    draw = ImageDraw.Draw(image)
    draw.rectangle([width // 4, height // 4, width // 2, height // 2], fill=(255 - seed * 40 % 256, 20, 200))
    image.save(path)


def _voc_xml(filename: str | None, size: tuple[int, int] | None, objects: list[str]) -> str:
    text = "<annotation>\n  <folder>VOC</folder>\n"
    if filename is not None:
        text += f"  <filename>{filename}</filename>\n"
    if size is not None:
        text += f"  <size>\n    <width>{size[0]}</width>\n    <height>{size[1]}</height>\n    <depth>3</depth>\n  </size>\n"
    text += "  <segmented>0</segmented>\n" + "".join(objects) + "</annotation>\n"
    return text


def _voc_object(name: str, box: tuple, *, extra: str = "", parts: str = "", tail: str = "") -> str:
    xmin, ymin, xmax, ymax = box
    return (f"  <object>\n    <name>{name}</name>\n{extra}"
            f"    <bndbox>\n      <xmin>{xmin}</xmin>\n      <ymin>{ymin}</ymin>\n"
            f"      <xmax>{xmax}</xmax>\n      <ymax>{ymax}</ymax>\n    </bndbox>\n{parts}{tail}  </object>\n")


def _voc_part(name: str, box: tuple) -> str:
    xmin, ymin, xmax, ymax = box
    return (f"    <part>\n      <name>{name}</name>\n      <bndbox>\n        <xmin>{xmin}</xmin>\n"
            f"        <ymin>{ymin}</ymin>\n        <xmax>{xmax}</xmax>\n        <ymax>{ymax}</ymax>\n"
            f"      </bndbox>\n    </part>\n")


def write_voc_set(root: Path) -> Path:
    """A small VOC folder: 4 images (JPEG and PNG) in train and val, a label map with colours,
    parts and actions, boxes with difficult/truncated/occluded/pose, <actions>, <attributes>,
    fractional coordinates, an image listed without an XML and an XML without <filename>."""
    root.mkdir(parents=True, exist_ok=True)
    (root / "labelmap.txt").write_text(
        "# label:color_rgb:parts:actions\n"
        "person:192,128,128:head,hand:jumping,walking\n"
        "car:0,0,255::\n"
        "dog:10,200,30::\n"
        "traffic_light:255,128,0::\n")
    images = root / "JPEGImages"
    _image(images / "img_a.jpg", 64, 48, 1)
    _image(images / "img_b.png", 50, 40, 2)
    _image(images / "img_c.jpg", 32, 32, 3)
    _image(images / "img_d.jpg", 40, 30, 4)
    annotations = root / "Annotations"
    annotations.mkdir()
    (annotations / "img_a.xml").write_text(_voc_xml("img_a.jpg", (64, 48), [
        _voc_object(
            "person", (4, 6, 30, 44),
            extra="    <pose>Left</pose>\n    <truncated>1</truncated>\n    <difficult>0</difficult>\n",
            parts=_voc_part("head", (10, 6, 20, 16)) + _voc_part("hand", (4, 20, 9, 26)),
            tail="    <actions>\n      <jumping>1</jumping>\n      <walking>0</walking>\n    </actions>\n"),
        _voc_object(
            "car", (32.5, 10.25, 60, 40.75),
            extra="    <difficult>1</difficult>\n    <occluded>1</occluded>\n",
            tail="    <attributes>\n"
                 "      <attribute>\n        <name>color</name>\n        <value>red</value>\n      </attribute>\n"
                 "      <attribute>\n        <name>score</name>\n        <value>0.5</value>\n      </attribute>\n"
                 "      <attribute>\n        <name>parked</name>\n        <value>true</value>\n      </attribute>\n"
                 "    </attributes>\n"),
    ]))
    (annotations / "img_b.xml").write_text(_voc_xml("img_b.png", (50, 40), [
        _voc_object("dog", (0, 0, 25, 20), extra="    <pose>Frontal</pose>\n"),
        _voc_object("dog", (25, 20, 50, 40), extra="    <truncated>1</truncated>\n    <occluded>0</occluded>\n"),
        _voc_object("traffic_light", (40, 2, 46, 14),
                    tail="    <attributes>\n      <attribute>\n        <name>state</name>\n"
                         "        <value>green</value>\n      </attribute>\n    </attributes>\n"),
    ]))
    # No <filename>: the image is found by its id in JPEGImages/.
    (annotations / "img_d.xml").write_text(_voc_xml(None, (40, 30), [_voc_object("person", (1, 2, 11, 22))]))
    main = root / "ImageSets" / "Main"
    main.mkdir(parents=True)
    (main / "train.txt").write_text("img_a\nimg_b\n")
    (main / "val.txt").write_text("img_c\nimg_d\n")  # img_c has no XML: a file without instances
    return root


def _box_line(cls: int, box: tuple, width: int, height: int) -> str:
    x, y, w, h = box
    values = [(x + w / 2) / width, (y + h / 2) / height, w / width, h / height]
    return f"{cls} " + " ".join(f"{v:.6f}" for v in values) + "\n"


def _segment_line(cls: int, points: list[tuple], width: int, height: int) -> str:
    return f"{cls} " + " ".join(f"{x / width:.6f} {y / height:.6f}" for x, y in points) + "\n"


def write_yolo_set(root: Path) -> Path:
    """A small YOLO folder in Ultralytics' layout (data.yaml with an index → name map, images/ and
    labels/ per subset): 4 images (JPEG and PNG) in train and val, boxes of several labels and
    segment polygon lines, an image with an empty label file."""
    root.mkdir(parents=True, exist_ok=True)
    (root / "data.yaml").write_text(
        "# written by test_formats.py\npath: .\ntrain: images/train\nval: images/val\n"
        "names:\n  0: cat\n  1: dog\n  2: bird\n")
    sizes = {"train/a.jpg": (80, 60), "train/b.png": (50, 40), "val/c.jpg": (64, 64), "val/d.jpg": (40, 30)}
    for seed, (name, (width, height)) in enumerate(sizes.items()):
        _image(root / "images" / name, width, height, seed + 5)
    labels = {
        "train/a.txt": _box_line(0, (8, 6, 32, 24), 80, 60)
        + _segment_line(1, [(10, 10), (40, 12), (35, 50), (12, 45)], 80, 60)
        + _box_line(2, (50, 20, 20, 30), 80, 60),
        "train/b.txt": _box_line(1, (0, 0, 25, 20), 50, 40) + _box_line(1, (25, 20, 25, 20), 50, 40)
        + _segment_line(0, [(5, 30), (20, 25), (12, 38)], 50, 40),
        "val/c.txt": _box_line(2, (16, 16, 32, 32), 64, 64),
        "val/d.txt": "",  # an image with nothing on it (Datumaro lists an image only with a label file)
    }
    for name, text in labels.items():
        (root / "labels" / name).parent.mkdir(parents=True, exist_ok=True)
        (root / "labels" / name).write_text(text)
    return root


def voc_palette() -> list[int]:
    """VOC's palette as PIL's flat [r, g, b, …] for indices 0–255: index i's bits dealt out three at a
    time to the high bits of red, green and blue (VOCdevkit's labelcolormap.m)."""
    palette = []
    for index in range(256):
        r = g = b = 0
        bits = index
        for shift in range(7, -1, -1):
            r |= (bits & 1) << shift
            g |= (bits >> 1 & 1) << shift
            b |= (bits >> 2 & 1) << shift
            bits >>= 3
        palette += [r, g, b]
    return palette


def _index_png(path: Path, indices, palette: list[int] | None) -> None:
    """`indices` (a uint8 array) as a palette PNG with `palette`, or as greyscale without one."""
    from PIL import Image

    path.parent.mkdir(parents=True, exist_ok=True)
    image = Image.fromarray(indices, mode="P" if palette is not None else "L")
    if palette is not None:
        image.putpalette(palette)
    image.save(path)


def write_voc_mask_set(root: Path) -> Path:
    """write_voc_set's folder with instance masks: SegmentationObject PNGs for img_a (a palette PNG in
    VOC's palette, as VOC's own) and img_b (greyscale indices, as some tools write them), each
    object's pixels its 1-based index, void (255) borders; img_b's second object has no pixels.
    SegmentationClass PNGs in the label map's colours (with background first, as Datumaro needs
    to read them), void there as background."""
    import numpy as np

    write_voc_set(root)
    labels = [("background", (0, 0, 0)), ("person", (192, 128, 128)), ("car", (0, 0, 255)), ("dog", (10, 200, 30)),
              ("traffic_light", (255, 128, 0))]
    (root / "labelmap.txt").write_text(
        "# label:color_rgb:parts:actions\n" + "background:0,0,0::\n"
        + "person:192,128,128:head,hand:jumping,walking\ncar:0,0,255::\ndog:10,200,30::\ntraffic_light:255,128,0::\n")
    class_palette = [v for _, color in labels for v in color] + voc_palette()[3 * len(labels):]
    label_index = {name: i for i, (name, _) in enumerate(labels)}

    def draw(size, shapes):
        width, height = size
        ys, xs = np.mgrid[0:height, 0:width]
        objects = np.zeros((height, width), np.uint8)
        classes = np.zeros((height, width), np.uint8)
        for index, label, inside in shapes:
            region = inside(xs, ys)
            # A one-pixel void border round the object, as VOC draws it.
            grown = region.copy()
            grown[1:, :] |= region[:-1, :]
            grown[:-1, :] |= region[1:, :]
            grown[:, 1:] |= region[:, :-1]
            grown[:, :-1] |= region[:, 1:]
            objects[grown & (objects == 0)] = 255
            objects[region] = index
            classes[region] = label_index[label]
        return objects, classes

    a_objects, a_classes = draw((64, 48), [
        (1, "person", lambda x, y: (x >= 6) & (x < 28) & (y >= 8) & (y < 42) & ~((x > 20) & (y > 30))),
        (2, "car", lambda x, y: ((x - 46) / 12.0) ** 2 + ((y - 25) / 13.0) ** 2 <= 1),
    ])
    b_objects, b_classes = draw((50, 40), [
        (1, "dog", lambda x, y: (x + y < 30) & (x >= 1) & (y >= 1) & (x < 24) & (y < 19)),
        (3, "traffic_light", lambda x, y: (x >= 41) & (x < 45) & (y >= 3) & (y < 13)),
    ])
    _index_png(root / "SegmentationObject" / "img_a.png", a_objects, voc_palette())
    _index_png(root / "SegmentationObject" / "img_b.png", b_objects, None)
    _index_png(root / "SegmentationClass" / "img_a.png", a_classes, class_palette)
    _index_png(root / "SegmentationClass" / "img_b.png", b_classes, class_palette)
    (root / "ImageSets" / "Segmentation").mkdir(parents=True)
    (root / "ImageSets" / "Segmentation" / "train.txt").write_text("img_a\nimg_b\n")
    return root


GENERATED = {"generated-voc": ("voc", write_voc_set), "generated-yolo": ("yolo", write_yolo_set),
             "generated-voc-masks": ("voc", write_voc_mask_set)}


def main() -> None:
    with tempfile.TemporaryDirectory(prefix="formats-oracle-") as tmp:
        folders = dict(FIXTURE_FOLDERS)
        for name, (format, write) in GENERATED.items():
            folders[name] = (format, write(Path(tmp) / name))
        for name, (format, path) in folders.items():
            view = datumaro_view(path, format)
            print(f"== {name} ({format}, {path.relative_to(ROOT) if path.is_relative_to(ROOT) else 'generated'})")
            labels = ", ".join(k + (" " + v if v else "") for k, v in view.labels.items())
            print(f"   labels: {labels or '(no expectation: no label map)'}")
            for image, entries in view.instances.items():
                width, height, sha = view.media[image]
                print(f"   {image} [{view.subsets[image]}] {width}x{height} {sha[:12] if sha else 'no image'}")
                for label, kind, coordinates, attributes in entries:
                    print(f"      {label} {kind} {coordinates}", attributes if attributes else "")


if __name__ == "__main__":
    main()


# ---------------------------------------------------------------- LabelMe

#: LabelMe folders: (form, path). "labelme-xml" is MIT LabelMe XML, which Datumaro reads as
#: `label_me` and is the oracle of; "labelme-json" is the labelme tool's JSON, which Datumaro
#: 1.13 does not read at all: its oracle is `labelme_json_view`, an independent reading that
#: follows labelme's documented schema (labelme/label_file.py, labelme/shape.py).
LABELME_FOLDERS = {
    "datumaro-labelme": ("labelme-xml", FIXTURES / "labelme-xml" / "datumaro-labelme"),
}


def labelme_view(path: Path | str, form: str) -> FolderView:
    """The oracle's view of a LabelMe folder in `form` ("labelme-xml" or "labelme-json")."""
    return _datumaro_labelme(Path(path)) if form == "labelme-xml" else labelme_json_view(Path(path))


def _mask_entry(label: str | None, mask, attributes: dict) -> Entry:
    """A mask as [x, y, w, h] of its set pixels plus their count, and the sha256 of its bits
    (row by row) as the pseudo-attribute `_mask`: equal masks, not just equal boxes."""
    import numpy as np

    mask = np.asarray(mask, dtype=bool)
    ys, xs = np.nonzero(mask)
    box = ([int(xs.min()), int(ys.min()), int(xs.max() - xs.min() + 1), int(ys.max() - ys.min() + 1)]
           if len(xs) else [0, 0, 0, 0])
    attributes = dict(attributes, _mask=hashlib.sha256(np.packbits(mask).tobytes() + bytes(str(mask.shape), "ascii")).hexdigest())
    return _entry(label, "mask", box + [int(mask.sum())], attributes)


def _labelme_attributes(attributes: dict, username: str | None) -> dict:
    """Datumaro adds `occluded` (False without an <occluded>yes</occluded>) and `username` ("" without
    one) to every LabelMe object; the contract keeps <occluded> only when written and the username
    as the instance's creator. So a False occluded and an empty username are the same as none."""
    out = {k: _attribute_value(v) for k, v in attributes.items() if k not in ("occluded", "username")}
    if attributes.get("occluded") is True:
        out["occluded"] = True
    if username:
        out["username"] = username
    return out


def _with_groups(entries: list[tuple[Entry, int]]) -> list[Entry]:
    """Datumaro joins a LabelMe object and its <parts> into one annotation group (a number it
    picks); a group is shown as the sorted labels of its members, `_group`, which survives the
    renumbering of objects an export does."""
    members: dict[int, list[str]] = {}
    for entry, group in entries:
        if group:
            members.setdefault(group, []).append(entry[0] or "")
    out = []
    for (label, kind, coordinates, attributes), group in entries:
        if group:
            attributes = dict(attributes, _group=sorted(members[group]))
        out.append((label, kind, coordinates, attributes))
    return _sorted(out)


def _datumaro_labelme(root: Path) -> FolderView:
    dm = _datumaro()
    from datumaro.components.annotation import AnnotationType

    dataset = dm.Dataset.import_from(str(root), "label_me")
    names = dataset.categories()[AnnotationType.label]
    view = FolderView()
    for item in dataset:
        file = Path(item.media.path)
        name = file.name
        entries = []
        for annotation in item.annotations:
            label = names[annotation.label].name if annotation.label is not None else None
            attributes = dict(annotation.attributes)
            kept = _labelme_attributes(attributes, attributes.get("username"))
            if annotation.type == AnnotationType.bbox:
                entry = _entry(label, "box", (annotation.x, annotation.y, annotation.w, annotation.h), kept)
            elif annotation.type == AnnotationType.polygon:
                entry = _entry(label, "polygon", annotation.points, kept)
            elif annotation.type == AnnotationType.mask:
                entry = _mask_entry(label, annotation.image, kept)
            else:
                entry = _entry(label, annotation.type.name, [], kept)
            entries.append((entry, annotation.group))
        view.instances[name] = _with_groups(entries)
        # Datumaro calls an item without <folder> the "default" subset; the contract keeps none.
        view.subsets[name] = None if item.subset in ("", "default") else item.subset
        view.media[name] = _media(item.media, file)
    return view


def labelme_json_view(root: Path) -> FolderView:
    """The labelme tool's JSON read by its schema, not by Sluice: every `*.json` below `root` with a
    `shapes` array is an image at `imagePath` (relative to the JSON; its bytes from the file, else
    from `imageData`); rectangle → box [x, y, w, h] of its two corners, polygon → polygon,
    point → point, line/linestrip → line, circle → ellipse [cx, cy, r, r]; `flags` attributes."""
    import base64
    import math

    view = FolderView()
    for path in sorted(root.rglob("*.json")):
        document = json.loads(path.read_text(encoding="utf-8"))
        if not isinstance(document, dict) or "shapes" not in document:
            continue
        folder = path.parent.relative_to(root).as_posix()
        name = os.path.normpath(os.path.join(folder, document["imagePath"].replace("\\", "/"))).replace(os.sep, "/")
        entries = []
        for shape in document["shapes"]:
            points = [(float(x), float(y)) for x, y in shape["points"]]
            flat = [v for p in points for v in p]
            kind = shape.get("shape_type") or "polygon"
            attributes = {k: v for k, v in (shape.get("flags") or {}).items()}
            if kind == "rectangle":
                xs, ys = [p[0] for p in points], [p[1] for p in points]
                entries.append(_entry(shape["label"], "box", (min(xs), min(ys), max(xs) - min(xs), max(ys) - min(ys)), attributes))
            elif kind == "polygon":
                entries.append(_entry(shape["label"], "polygon", flat, attributes))
            elif kind == "point":
                entries.append(_entry(shape["label"], "point", flat, attributes))
            elif kind in ("line", "linestrip"):
                entries.append(_entry(shape["label"], "line", flat, attributes))
            elif kind == "circle":
                (cx, cy), (ex, ey) = points
                r = math.hypot(ex - cx, ey - cy)
                entries.append(_entry(shape["label"], "ellipse", (cx, cy, r, r), attributes))
            else:
                raise ValueError(f"{path}: shape_type {kind!r}")
        view.instances[name] = _sorted(entries)
        view.subsets[name] = None
        image = root / name
        if image.is_file():
            sha = sha256_of(image)
        elif document.get("imageData"):
            sha = hashlib.sha256(base64.b64decode(document["imageData"])).hexdigest()
        else:
            sha = None
        view.media[name] = (document.get("imageWidth"), document.get("imageHeight"), sha)
    return view


def _rle_bits(mask: dict):
    """The bits of the API's COCO RLE mask ({"size": [h, w], "counts": runs or a string})."""
    import numpy as np

    height, width = mask["size"]
    counts = mask["counts"]
    if isinstance(counts, str):
        from pycocotools import mask as coco_mask

        return coco_mask.decode({"size": [height, width], "counts": counts.encode("ascii")}).astype(bool)
    values = np.repeat(np.arange(len(counts)) % 2, counts).astype(bool)
    return values.reshape((width, height)).T


def _pairs(value) -> list[float]:
    """[[x, y], …] or [x, y, …] as a flat list."""
    flat: list[float] = []
    for v in value or []:
        if isinstance(v, (list, tuple)):
            flat += [float(n) for n in v]
        else:
            flat.append(float(v))
    return flat


def sluice_labelme_view(items: list[dict], form: str, labels: dict[str, str] | None = None) -> FolderView:
    """Sluice's items as the LabelMe oracles see them (`form` as in `labelme_view`)."""
    view = FolderView(labels=dict(labels or {}))
    for item in items:
        file = item["file"]
        name = file["name"]
        if form == "labelme-xml":
            name = name.rsplit("/", 1)[-1]
        assert name not in view.instances, f"two files named {name!r}"
        # The XML form's parts, grouped as Datumaro groups them (roots: objects with parts and
        # not a part themselves; a group is a root and what its <hasparts> reach).
        by_id, groups = {}, {}
        for index, instance in enumerate(item["instances"]):
            metadata = instance.get("metadata") or {}
            if "labelme_id" in metadata:
                by_id[int(metadata["labelme_id"])] = index
        roots = [i for i, instance in enumerate(item["instances"])
                 if (instance.get("metadata") or {}).get("labelme_hasparts")
                 and not (instance.get("metadata") or {}).get("labelme_ispartof")]
        for number, root in enumerate(roots, start=1):
            stack = [root]
            while stack:
                index = stack.pop()
                if index in groups:
                    continue
                groups[index] = number
                children = (item["instances"][index].get("metadata") or {}).get("labelme_hasparts") or []
                stack += [by_id[int(c)] for c in children if int(c) in by_id]
        entries = []
        for index, instance in enumerate(item["instances"]):
            kind = instance["kind"]
            geometry = instance.get("geometry") or {}
            attributes = instance.get("attributes") or {}
            if form == "labelme-xml":
                attributes = _labelme_attributes(attributes, instance.get("creator"))
            else:
                attributes = {k: _attribute_value(v) for k, v in attributes.items()}
            label = instance.get("label")
            if kind == "mask":
                entry = _mask_entry(label, _rle_bits(geometry["mask"]), attributes)
            elif kind == "polygon":
                entry = _entry(label, kind, [v for ring in geometry.get("polygon") or [] for v in ring], attributes)
            elif kind == "point":
                entry = _entry(label, kind, _pairs(geometry.get("points")), attributes)
            elif kind == "line":
                entry = _entry(label, kind, _pairs(geometry.get("line")), attributes)
            elif kind == "ellipse":
                e = geometry["ellipse"]
                entry = _entry(label, kind, (e["cx"], e["cy"], e["rx"], e["ry"]), attributes)
            else:
                box = instance.get("bbox")
                entry = _entry(label, kind, [box[0], box[1], box[2] - box[0], box[3] - box[1]] if box else [], attributes)
            entries.append((entry, groups.get(index, 0)))
        view.instances[name] = _with_groups(entries)
        view.subsets[name] = (file.get("metadata") or {}).get("subset")
        media = file.get("media") or {}
        view.media[name] = (media.get("width"), media.get("height"), media.get("sha256"))
    return view


def _labelme_xml_object(object_id: int, name: str, shape: str, *, occluded: str | None = None,
                        attributes: str | None = None, hasparts: str = "", ispartof: str = "",
                        deleted: int = 0, username: str = "tester") -> str:
    text = f"  <object>\n    <name>{name}</name>\n    <deleted>{deleted}</deleted>\n    <verified>0</verified>\n"
    if occluded is not None:
        text += f"    <occluded>{occluded}</occluded>\n"
    if attributes is not None:
        text += f"    <attributes>{attributes}</attributes>\n"
    text += (f"    <parts>\n      <hasparts>{hasparts}</hasparts>\n      <ispartof>{ispartof}</ispartof>\n    </parts>\n"
             f"    <id>{object_id}</id>\n")
    return text + shape.replace("USERNAME", username) + "  </object>\n"


def _labelme_polygon(points: list[tuple], box: bool = False) -> str:
    text = "    <type>bounding_box</type>\n" if box else ""
    text += "    <polygon>\n      <username>USERNAME</username>\n"
    for x, y in points:
        text += f"      <pt>\n        <x>{x}</x>\n        <y>{y}</y>\n      </pt>\n"
    return text + "    </polygon>\n"


def write_labelme_xml_set(root: Path) -> Path:
    """A small MIT LabelMe folder as Datumaro reads it: 3 images in two subsets (JPEG and PNG),
    polygons, bounding boxes, two masks (RGBA PNGs), `k=v`/flag/quoted/escaped attributes,
    occluded yes/no, parts, and a deleted object."""
    from PIL import Image

    sizes = {("train", "a.jpg"): (64, 48), ("train", "b.png"): (50, 40), ("val", "c.jpg"): (40, 30)}
    for seed, ((subset, name), (width, height)) in enumerate(sizes.items()):
        _image(root / "Images" / subset / name, width, height, seed + 9)
    masks = root / "Masks" / "train"
    masks.mkdir(parents=True)
    mask = Image.new("RGBA", (64, 48), (0, 0, 0, 0))
    for x in range(10, 20):
        for y in range(5, 9 + x % 3):
            mask.putpixel((x, y), (255, 203, 0, 153))
    mask.save(masks / "a_mask_3.png")
    mask = Image.new("RGBA", (50, 40), (0, 0, 0, 0))
    for x, y in [(0, 0), (49, 39), (3, 30), (4, 30), (4, 31)]:
        mask.putpixel((x, y), (10, 0, 0, 255))
    mask.save(masks / "b_mask_0.png")

    def document(subset: str, name: str, size: tuple, objects: list[str]) -> str:
        return (f"<annotation>\n  <filename>{name}</filename>\n  <folder>{subset}</folder>\n"
                f"  <imagesize>\n    <nrows>{size[1]}</nrows>\n    <ncols>{size[0]}</ncols>\n  </imagesize>\n"
                + "".join(objects) + "</annotation>\n")

    segm = "    <segm>\n      <username>USERNAME</username>\n      <mask>{}</mask>\n    </segm>\n"
    files = {
        ("train", "a"): document("train", "a.jpg", (64, 48), [
            _labelme_xml_object(0, "car", _labelme_polygon([(4, 6), (30, 6), (30, 44), (4, 44)], box=True),
                                occluded="yes", attributes="color=red, parked, score=0.5, count=3, plate=\"42\"",
                                hasparts="1,2"),
            _labelme_xml_object(1, "wheel", _labelme_polygon([(5, 40), (9.5, 40), (9.5, 44.25), (5, 44)]), ispartof="0"),
            _labelme_xml_object(2, "wheel", _labelme_polygon([(25, 40), (29, 40), (27, 44)]), ispartof="0",
                                occluded="no"),
            _labelme_xml_object(3, "sky", segm.format("a_mask_3.png"), attributes="note=a\\, b \\= c"),
            _labelme_xml_object(4, "car", _labelme_polygon([(1, 1), (2, 1), (2, 2)]), deleted=1),
        ]),
        ("train", "b"): document("train", "b.png", (50, 40), [
            _labelme_xml_object(0, "dust", segm.format("b_mask_0.png"), username=""),
            _labelme_xml_object(1, "traffic light", _labelme_polygon([(40, 2), (46, 2), (46, 14), (40, 14)]),
                                attributes="state=green"),
        ]),
        ("val", "c"): document("val", "c.jpg", (40, 30), [
            _labelme_xml_object(0, "car", _labelme_polygon([(1.5, 2), (11, 2), (11, 22.75), (1.5, 22.75)], box=True)),
        ]),
    }
    for (subset, stem), text in files.items():
        path = root / "Annotations" / subset / f"{stem}.xml"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return root


def write_labelme_json_set(root: Path) -> Path:
    """A small labelme-tool folder: JSON beside images and in a subfolder with `../images/`
    paths (and a Windows `\\`), every shape type, shape and image flags, group ids, and an image
    that exists only as `imageData`."""
    import base64

    _image(root / "a.jpg", 64, 48, 20)
    _image(root / "images" / "b.png", 50, 40, 21)
    _image(root / "embedded.png", 32, 24, 22)
    embedded = base64.b64encode((root / "embedded.png").read_bytes()).decode("ascii")
    (root / "embedded.png").unlink()

    def shape(label, points, kind, flags=None, group=None):
        return {"label": label, "points": points, "group_id": group, "description": "", "shape_type": kind,
                "flags": flags or {}, "mask": None}

    documents = {
        "a.json": {"imagePath": "a.jpg", "imageHeight": 48, "imageWidth": 64, "flags": {"night": True},
                   "shapes": [shape("car", [[30, 44], [4, 6]], "rectangle", {"parked": True, "damaged": False}),
                              shape("road", [[0, 30], [63, 30], [63, 47], [0, 47]], "polygon", group=1),
                              shape("light", [[12.5, 3.25]], "point"),
                              shape("lane", [[0, 40], [63, 41]], "line", group=1),
                              shape("lane", [[0, 45], [20, 42], [40, 44], [63, 46]], "linestrip"),
                              shape("wheel", [[10, 40], [13, 44]], "circle")]},
        "labels/b.json": {"imagePath": "..\\images\\b.png", "imageHeight": 40, "imageWidth": 50, "flags": {},
                          "shapes": [shape("dog", [[1, 2], [3, 2], [2, 5]], "polygon")]},
        "labels/embedded.json": {"imagePath": "embedded.png", "imageHeight": 24, "imageWidth": 32, "flags": {},
                                 "imageData": embedded, "shapes": [shape("dog", [[0, 0], [8, 8]], "rectangle")]},
    }
    for relative, fields in documents.items():
        document = {"version": "5.5.0", "imageData": None, **fields}
        path = root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(document, indent=2))
    return root


LABELME_GENERATED = {
    "generated-labelme-xml": ("labelme-xml", write_labelme_xml_set),
    "generated-labelme-json": ("labelme-json", write_labelme_json_set),
}
