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
        for annotation in item.annotations:
            # Only boxes: Datumaro also turns ImageSets/Main/<label>_<subset>.txt into image-level
            # `label` annotations and SegmentationClass/Object PNGs into masks, neither of which
            # the contract imports. Parts come as boxes of their own label, as in the contract.
            if annotation.type != AnnotationType.bbox:
                continue
            entries.append(_entry(
                names[annotation.label].name, "box", (annotation.x, annotation.y, annotation.w, annotation.h),
                _voc_attributes(dict(annotation.attributes), from_datumaro=True)))
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


GENERATED = {"generated-voc": ("voc", write_voc_set), "generated-yolo": ("yolo", write_yolo_set)}


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
