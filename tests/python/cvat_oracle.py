"""Datumaro as the oracle of Sluice's CVAT XML (CVAT for images 1.1, CVAT for video 1.1).

Both sides become one comparable view: {frame key: sorted [(label, kind, coordinates,
attributes)]} plus the media per key. A key is `SUBSET/STEM` (STEM the image's name without its
extension, as Datumaro names items), or `frame_NNNNNN` for a video's frame (Datumaro's item id
for a frame; on Sluice's side the instance's `frame` on a video file, or the frame file's name).

Kinds and coordinates: "box" [x, y, w, h]; "polygon", "line", "point" the flat point list;
"mask" none, but an attribute `_mask`: its pixel count and the hash of its bits over the whole
image (`voc_mask`: equal masks, whatever box each side writes them in); "global" (a CVAT tag)
no coordinates. Attributes: the shape's `<attribute>`s typed as the label
declares them, `occluded`, and for a track's shapes `keyframe` and `track_id`; a nonzero
`z_order` and `group_id` ride along as attributes on both sides. Datumaro keeps a track's
`outside` shapes as annotations marked `outside`; they say the object is not visible, which
Sluice stores as the absence of an instance, so they are dropped from Datumaro's side.

The generated sets are written here: images with Pillow, the video with Debian's ffmpeg
(`testsrc`), the XML by hand as CVAT writes it. For tracks, the test's own linear interpolation
(`dense_track`) writes the every-frame form CVAT's export has; Sluice's import of the
keyframes-only form must equal it.
"""

from __future__ import annotations

import shutil
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

from formats_oracle import FIXTURES, _attribute_value, _datumaro, _entry, _image, _rle_bits, _sorted, sha256_of, voc_mask

CVAT_FIXTURES = {
    "cvat-fixture-task": FIXTURES / "cvat" / "datumaro-images" / "export_task",
    "cvat-fixture-project": FIXTURES / "cvat" / "datumaro-images" / "export_project",
    "cvat-fixture-video": FIXTURES / "cvat" / "datumaro-video",
}

#: Subset names that stand for "none": CVAT's own file name and Datumaro's default.
NO_SUBSET = {None, "", "annotations", "default"}


@dataclass
class CVATView:
    instances: dict[str, list] = field(default_factory=dict)
    media: dict[str, tuple] = field(default_factory=dict)


def _key(subset: str | None, stem: str) -> str:
    return stem if subset in NO_SUBSET else f"{subset}/{stem}"


# ---------------------------------------------------------------- Datumaro's side

def datumaro_cvat_view(path: Path) -> CVATView:
    dm = _datumaro()
    from datumaro.components.annotation import AnnotationType

    dataset = dm.Dataset.import_from(str(path), "cvat")
    names = dataset.categories()[AnnotationType.label]
    kinds = {AnnotationType.bbox: "box", AnnotationType.polygon: "polygon", AnnotationType.polyline: "line",
             AnnotationType.points: "point", AnnotationType.mask: "mask", AnnotationType.label: "global"}
    view = CVATView()
    for item in dataset:
        key = _key(item.subset, item.id)
        entries = []
        for annotation in item.annotations:
            attributes = dict(annotation.attributes)
            if attributes.pop("outside", False):
                continue
            assert annotation.type in kinds, f"{key}: an annotation of type {annotation.type} the tests do not write"
            kind = kinds[annotation.type]
            if kind == "box":
                coordinates = [annotation.x, annotation.y, annotation.w, annotation.h]
            elif kind == "mask":
                coordinates = []
                attributes["_mask"] = voc_mask(annotation.image)
            elif kind == "global":
                coordinates = []
            else:
                coordinates = list(annotation.points)
            if getattr(annotation, "z_order", 0):
                attributes["z_order"] = annotation.z_order
            if annotation.group:
                attributes["group_id"] = annotation.group
            label = names[annotation.label].name if annotation.label is not None else None
            entries.append(_entry(label, kind, coordinates, {k: _attribute_value(v) for k, v in attributes.items()}))
        view.instances[key] = _sorted(entries)
        file = Path(item.media.path) if item.media is not None and item.media.path else None
        if file is not None and file.is_file():
            height, width = item.media.size
            view.media[key] = (width, height, sha256_of(file))
    return view


# ---------------------------------------------------------------- Sluice's side

def _skeleton_points(instance: dict, labels: dict) -> list:
    """A keypoints instance as Datumaro reads a CVAT skeleton: each of its points an annotation
    of its own, labelled with the point's name, with its `occluded` and own attributes (the
    skeleton's attributes and its grouping are not in Datumaro's reading)."""
    names = (labels.get(instance.get("label")) or {}).get("keypoint_names") or []
    point_attributes = (instance.get("metadata") or {}).get("point_attributes") or {}
    entries = []
    for index, (x, y, visibility) in enumerate(instance["geometry"]["keypoints"]):
        name = names[index] if index < len(names) else str(index + 1)
        attributes = {k: _attribute_value(v) for k, v in (point_attributes.get(name) or {}).items()}
        attributes["occluded"] = visibility == 1
        entries.append(_entry(name, "point", [x, y], attributes))
    return entries


def sluice_cvat_view(items: list[dict], labels: dict | None = None) -> CVATView:
    """Sluice's items as the view; a video file's instances spread over the frames they are on.
    `labels` (name → the API's label) names a skeleton's points."""
    view = CVATView()
    for item in items:
        file = item["file"]
        metadata = file.get("metadata") or {}
        subset = metadata.get("subset")
        stem = Path(file["name"]).stem
        media = file.get("media") or {}
        per_key: dict[str, list] = {}
        if file["type"] != "video":
            per_key[_key(subset, stem)] = []
            if media.get("sha256"):
                view.media[_key(subset, stem)] = (media.get("width"), media.get("height"), media.get("sha256"))
        for instance in item["instances"]:
            key = (f"frame_{instance['frame']:06d}" if file["type"] == "video" else _key(subset, stem))
            attributes = dict(instance.get("attributes") or {})
            if instance.get("track") is not None:
                attributes["track_id"] = instance["track"]
            instance_metadata = instance.get("metadata") or {}
            if instance_metadata.get("z_order"):
                attributes["z_order"] = instance_metadata["z_order"]
            if instance_metadata.get("group"):
                attributes["group_id"] = instance_metadata["group"]
            kind = instance["kind"]
            geometry = instance.get("geometry") or {}
            if kind == "keypoints":
                per_key.setdefault(key, []).extend(_skeleton_points(instance, labels or {}))
                continue
            if kind == "box":
                box = instance["bbox"]
                coordinates = [box[0], box[1], box[2] - box[0], box[3] - box[1]]
            elif kind == "polygon":
                coordinates = [v for ring in geometry["polygon"] for v in ring]
            elif kind in ("line", "point"):
                coordinates = [v for p in geometry["line" if kind == "line" else "points"] for v in p]
            elif kind == "mask":
                coordinates = []
                attributes["_mask"] = voc_mask(_rle_bits(geometry["mask"]))
            else:
                coordinates = []
            per_key.setdefault(key, []).append(_entry(
                instance.get("label"), kind, coordinates, {k: _attribute_value(v) for k, v in attributes.items()}))
        for key, entries in per_key.items():
            assert key not in view.instances, f"two files or frames at {key!r}"
            view.instances[key] = _sorted(entries)
    return view


def sluice_label_records(url: str, project: str) -> dict[str, dict]:
    """The project's labels through the HTTP API, by name (with their keypoint names and edges)."""
    import requests

    reply = requests.get(f"{url}/api/v1/projects/{project}/labels", timeout=30)
    reply.raise_for_status()
    return {label["name"]: label for label in reply.json()}


def assert_same_cvat_view(got: CVATView, expected: CVATView, what: str, *, frames_only_annotated: bool = False) -> None:
    """Per key and label, `got` equals `expected`. With `frames_only_annotated`, keys without
    instances on one side are not compared (a video file has no entry for an empty frame)."""
    want = {k: v for k, v in expected.instances.items() if v or not frames_only_annotated}
    have = {k: v for k, v in got.instances.items() if v or not frames_only_annotated}
    assert sorted(have) == sorted(want), f"{what}: the items differ\n  expected {sorted(want)}\n  got      {sorted(have)}"
    for key in sorted(want):
        assert have[key] == want[key], f"{what}: {key!r}\n  expected {want[key]}\n  got      {have[key]}"
    for key, media in expected.media.items():
        assert got.media.get(key) == media, f"{what}: {key!r}: media expected {media}, got {got.media.get(key)}"


# ---------------------------------------------------------------- generated sets

LABELS_XML = """      <labels>
        <label>
          <name>car</name>
          <color>#ff8000</color>
          <attributes>
            <attribute><name>parked</name><input_type>checkbox</input_type><default_value>false</default_value><values>false
true</values></attribute>
            <attribute><name>speed</name><input_type>number</input_type><default_value>0</default_value><values>0
200
1</values></attribute>
            <attribute><name>colour</name><input_type>select</input_type><default_value>red</default_value><values>red
blue</values></attribute>
          </attributes>
        </label>
        <label><name>person &amp; bag</name><color>#0080ff</color><attributes>
            <attribute><name>note</name><input_type>text</input_type><default_value></default_value><values></values></attribute>
          </attributes></label>
        <label><name>sky</name><color>#00ffff</color><attributes></attributes></label>
      </labels>
"""


def write_cvat_images_set(root: Path) -> Path:
    """CVAT for images, project style: 4 images in two subsets (images/SUBSET/NAME; one name in
    both), every shape kind the tests compare, typed attributes, z_order and group_id, a tag, a
    shape with no label, and XML-escaped names. Masks as CVAT writes them (a tight box, ", "
    between runs): one inside its image with a hole, one filling the image's corner (a first
    run of 0)."""
    root.mkdir(parents=True)
    images = [("train", "a.jpg", 40, 30), ("train", "b.png", 32, 24), ("val", "a.jpg", 20, 16), ("val", "c.jpg", 24, 24)]
    for seed, (subset, name, width, height) in enumerate(images):
        _image(root / "images" / subset / name, width, height, seed)
    shapes = {
        0: [
            '<box label="car" occluded="1" xtl="1.5" ytl="2" xbr="20.25" ybr="12" z_order="2" group_id="1">'
            '<attribute name="parked">true</attribute><attribute name="speed">42.5</attribute>'
            '<attribute name="colour">blue</attribute></box>',
            '<polygon label="person &amp; bag" occluded="0" points="1,1;10,2;8,9.5" group_id="1">'
            '<attribute name="note">&lt;left&gt; "open"</attribute></polygon>',
            '<tag label="sky" source="manual"></tag>',
        ],
        1: ['<polyline label="car" occluded="0" points="0,0;5,5;10,3"><attribute name="parked">false</attribute>'
            '<attribute name="speed">0</attribute><attribute name="colour">red</attribute></polyline>',
            '<points label="" occluded="0" points="3,4;6.5,7"/>',
            '<mask label="car" source="manual" occluded="1" rle="2, 5, 3, 4, 6" left="3" top="2" width="5" height="4"'
            ' z_order="1"><attribute name="parked">true</attribute><attribute name="speed">3</attribute>'
            '<attribute name="colour">red</attribute></mask>'],
        2: ['<box label="sky" occluded="0" xtl="0" ytl="0" xbr="20" ybr="5"/>',
            '<mask label="sky" source="manual" occluded="0" rle="0, 20" left="15" top="12" width="5" height="4" z_order="0"/>'],
        3: [],
    }
    body = ""
    for index, (subset, name, width, height) in enumerate(images):
        inner = "".join(f"    {s}\n" for s in shapes[index])
        body += f'  <image id="{index}" name="{name}" subset="{subset}" width="{width}" height="{height}">\n{inner}  </image>\n'
    (root / "annotations.xml").write_text(
        '<?xml version="1.0" encoding="utf-8"?>\n<annotations>\n  <version>1.1</version>\n  <meta>\n    <project>\n'
        "      <name>generated</name>\n      <tasks>\n"
        "        <task><id>1</id><name>train</name><subset>train</subset></task>\n"
        "        <task><id>2</id><name>val</name><subset>val</subset></task>\n      </tasks>\n"
        f"{LABELS_XML}      <subsets>train\nval</subsets>\n    </project>\n  </meta>\n{body}</annotations>\n")
    return root


def write_cvat_masks_by_datumaro(root: Path) -> Path:
    """Masks as Datumaro's own CVAT writer writes them (each over the whole image, `left` and
    `top` 0), beside a box: a blob with a hole, a corner, and an image with no annotation."""
    import numpy as np

    dm = _datumaro()
    from datumaro.components.annotation import Bbox, Mask
    from datumaro.components.media import Image

    height, width = 12, 16
    blob = np.zeros((height, width), np.uint8)
    blob[2:7, 3:9] = 1
    blob[4, 5] = 0
    corner = np.zeros((height, width), np.uint8)
    corner[10:, 14:] = 1
    pixels = np.random.RandomState(0).randint(0, 255, (height, width, 3)).astype(np.uint8)
    items = [
        dm.DatasetItem(id="masked", media=Image.from_numpy(data=pixels), annotations=[
            Mask(image=blob, label=0, z_order=2), Mask(image=corner, label=1, attributes={"occluded": True}),
            Bbox(1, 1, 3, 3, label=0)]),
        dm.DatasetItem(id="empty", media=Image.from_numpy(data=pixels[::-1].copy()), annotations=[]),
    ]
    dm.Dataset.from_iterable(items, categories=["car", "sky"]).export(str(root), "cvat", save_media=True)
    return root


SKELETON_SVG = ('<line x1="50" y1="10" x2="20" y2="60" stroke="black" data-type="edge" data-node-from="1" '
                'stroke-width="0.5" data-node-to="2"></line><line x1="50" y1="10" x2="80" y2="60" stroke="black" '
                'data-type="edge" data-node-from="1" stroke-width="0.5" data-node-to="3"></line>'
                '<circle r="1.5" stroke="black" fill="#b3b3b3" cx="50" cy="10" stroke-width="0.1" '
                'data-type="element node" data-element-id="1" data-node-id="1" data-label-name="head"></circle>'
                '<circle r="1.5" stroke="black" fill="#b3b3b3" cx="20" cy="60" stroke-width="0.1" '
                'data-type="element node" data-element-id="2" data-node-id="2" data-label-name="left &amp; hand"></circle>'
                '<circle r="1.5" stroke="black" fill="#b3b3b3" cx="80" cy="60" stroke-width="0.1" '
                'data-type="element node" data-element-id="3" data-node-id="3" data-label-name="right hand"></circle>')

#: The skeleton label's points, in the order CVAT's meta lists them, and its edges (1-based).
SKELETON_POINTS = ["head", "left & hand", "right hand"]
SKELETON_EDGES = [[1, 2], [1, 3]]

SKELETON_LABELS_XML = f"""      <labels>
        <label>
          <name>person</name>
          <color>#66ff66</color>
          <type>skeleton</type>
          <attributes>
            <attribute><name>pose</name><mutable>False</mutable><input_type>select</input_type><default_value>standing</default_value><values>standing
sitting</values></attribute>
          </attributes>
          <svg>{SKELETON_SVG.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")}</svg>
        </label>
        <label><name>head</name><color>#d12345</color><type>points</type><attributes>
            <attribute><name>face</name><mutable>False</mutable><input_type>checkbox</input_type><default_value>false</default_value><values>false
true</values></attribute>
          </attributes><parent>person</parent></label>
        <label><name>left &amp; hand</name><color>#350dea</color><type>points</type><attributes></attributes><parent>person</parent></label>
        <label><name>right hand</name><color>#479ffe</color><type>points</type><attributes></attributes><parent>person</parent></label>
        <label><name>car</name><color>#ff8000</color><type>rectangle</type><attributes></attributes></label>
      </labels>
"""


def write_cvat_skeleton_set(root: Path) -> Path:
    """CVAT for images with skeletons as CVAT 2.x writes them: the skeleton label's points as
    labels with a <parent>, its drawing in <svg>, and per image a <skeleton> holding a <points>
    per point (`outside` not placed, `occluded` hidden), a point's own attribute, the
    skeleton's attribute, points in another order than the label's, and a box beside."""
    root.mkdir(parents=True)
    images = [("a.png", 40, 30), ("b.png", 32, 24)]
    for seed, (name, width, height) in enumerate(images):
        _image(root / "images" / name, width, height, seed)
    shapes = {
        0: ['<skeleton label="person" source="manual" z_order="1">'
            '<points label="head" source="manual" outside="0" occluded="0" points="10.50,4.00">'
            '<attribute name="face">true</attribute></points>'
            '<points label="left &amp; hand" source="manual" outside="0" occluded="1" points="5.00,15.00"></points>'
            '<points label="right hand" source="manual" outside="1" occluded="0" points="16.00,15.00"></points>'
            '<attribute name="pose">standing</attribute></skeleton>',
            '<box label="car" source="manual" occluded="0" xtl="20" ytl="10" xbr="38" ybr="28" z_order="0"></box>'],
        1: ['<skeleton label="person" source="manual" z_order="0">'
            '<points label="right hand" source="manual" outside="0" occluded="0" points="30.25,20.00"></points>'
            '<points label="head" source="manual" outside="0" occluded="0" points="16.00,2.00">'
            '<attribute name="face">false</attribute></points>'
            '<points label="left &amp; hand" source="manual" outside="0" occluded="0" points="2.00,20.00"></points>'
            '<attribute name="pose">sitting</attribute></skeleton>'],
    }
    body = ""
    for index, (name, width, height) in enumerate(images):
        inner = "".join(f"    {s}\n" for s in shapes[index])
        body += f'  <image id="{index}" name="{name}" width="{width}" height="{height}">\n{inner}  </image>\n'
    (root / "annotations.xml").write_text(
        '<?xml version="1.0" encoding="utf-8"?>\n<annotations>\n  <version>1.1</version>\n  <meta>\n    <task>\n'
        f"      <name>poses</name>\n      <mode>annotation</mode>\n{SKELETON_LABELS_XML}    </task>\n  </meta>\n"
        f"{body}</annotations>\n")
    return root


def make_video(path: Path, frames: int, width: int = 64, height: int = 48, rate: int = 25) -> None:
    """A test video made by Debian's ffmpeg from its `testsrc` pattern."""
    assert shutil.which("ffmpeg"), "ffmpeg is missing: scripts/test.sh installs Debian's ffmpeg"
    subprocess.run(
        ["ffmpeg", "-loglevel", "error", "-y", "-f", "lavfi", "-i", f"testsrc=size={width}x{height}:rate={rate}",
         "-frames:v", str(frames), "-pix_fmt", "yuv420p", str(path)], check=True, timeout=300)


#: Tracks of the generated video, keyframes only: (track id, label, element, [(frame, geometry, outside, attributes)]).
VIDEO_TRACKS = [
    (0, "car", "box", [(0, (2, 2, 12, 10), False, {"parked": "false", "speed": "10"}),
                       (10, (22, 12, 32, 20), False, {"speed": "30"}),
                       (15, (22, 12, 32, 20), True, {}),
                       (20, (40, 30, 50, 40), False, {}),
                       (24, (40, 30, 50, 40), True, {})]),
    (1, "sky", "points", [(5, [(10, 10)], False, {}), (9, [(18, 2)], False, {})]),  # holds till the stop frame
    (2, "person &amp; bag", "polygon", [(3, [(1, 1), (9, 1), (5, 7)], False, {"note": "x"}),
                                        (7, [(5, 1), (13, 1), (9, 7)], False, {}),
                                        (8, [(5, 1), (13, 1), (9, 7)], True, {})]),
]


def _geometry_attributes(element: str, geometry) -> str:
    if element == "box":
        x1, y1, x2, y2 = geometry
        return f'xtl="{x1:g}" ytl="{y1:g}" xbr="{x2:g}" ybr="{y2:g}"'
    return 'points="' + ";".join(f"{x:g},{y:g}" for x, y in geometry) + '"'


def _mix(element: str, a, b, t: float):
    """CVAT's interpolation for the shapes written here: boxes and single points move linearly,
    outlines point by point when the point counts agree; other point sets hold still."""
    if element == "box":
        return tuple(x + (y - x) * t for x, y in zip(a, b))
    if len(a) != len(b) or (element == "points" and len(a) != 1):
        return a
    return [(p[0] + (q[0] - p[0]) * t, p[1] + (q[1] - p[1]) * t) for p, q in zip(a, b)]


def dense_track(keys: list, element: str, stop: int) -> list:
    """Every frame of a track as CVAT's export lists it: keyframes, the frames between two
    visible keyframes interpolated linearly, the last visible shape held to `stop`."""
    out = []
    carried: dict = {}
    for index, (frame, geometry, outside, attributes) in enumerate(keys):
        carried = {**carried, **attributes}
        out.append((frame, geometry, outside, dict(carried), True))
        if outside:
            continue
        following = keys[index + 1] if index + 1 < len(keys) else None
        end = following[0] if following else stop + 1
        for between in range(frame + 1, end):
            t = (between - frame) / (following[0] - frame) if following else 0
            moved = _mix(element, geometry, following[1], t) if following else geometry
            out.append((between, moved, False, dict(carried), False))
    return out


def write_cvat_video_set(root: Path, *, dense: bool, frames: int = 25) -> Path:
    """CVAT for video: `clip.mp4` (ffmpeg testsrc) and annotations.xml naming it as <source>,
    three tracks with gaps (outside), interpolation and a track held to the stop frame; `dense`
    lists every frame as CVAT's export does, else only the keyframes."""
    root.mkdir(parents=True)
    make_video(root / "clip.mp4", frames)
    body = ""
    for track_id, label, element, keys in VIDEO_TRACKS:
        rows = dense_track(keys, element, frames - 1) if dense else [
            (f, g, o, a, True) for f, g, o, a in keys]
        body += f'  <track id="{track_id}" label="{label}">\n'
        for frame, geometry, outside, attributes, keyframe in rows:
            children = "".join(f'<attribute name="{k}">{v}</attribute>' for k, v in sorted(attributes.items()))
            body += (f'    <{element} frame="{frame}" outside="{int(outside)}" occluded="0" keyframe="{int(keyframe)}" '
                     f'{_geometry_attributes(element, geometry)} z_order="0">{children}</{element}>\n')
        body += "  </track>\n"
    (root / "annotations.xml").write_text(
        '<?xml version="1.0" encoding="utf-8"?>\n<annotations>\n  <version>1.1</version>\n  <meta>\n    <task>\n'
        f"      <size>{frames}</size>\n      <mode>interpolation</mode>\n      <start_frame>0</start_frame>\n"
        f"      <stop_frame>{frames - 1}</stop_frame>\n      <frame_filter></frame_filter>\n{LABELS_XML}"
        "      <original_size><width>64</width><height>48</height></original_size>\n"
        f"    </task>\n    <source>clip.mp4</source>\n  </meta>\n{body}</annotations>\n")
    return root
