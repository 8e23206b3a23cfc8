"""`sluice import cvat` and `sluice export --format cvat` against Datumaro (and CVAT's own rules).

For the three shared CVAT fixtures (for images as a task and as a project, for video as frame
images) and for three sets written here (project-style images with every shape kind, masks among them,
and typed attributes; masks as Datumaro's own CVAT writer writes them; a video made by ffmpeg
with tracks written the way CVAT's export writes them):
Sluice's items, read back through the HTTP API, equal Datumaro's reading of the same XML per
frame and label; Datumaro reads the folder `sluice export` writes the same; and that folder
imports back the same. A video's tracks written as keyframes only import equal to the
every-frame form (CVAT's interpolation, written independently in cvat_oracle.dense_track).
The video's facts come from ffprobe. Malformed XML is refused naming file, line and element,
and nothing of it is kept. The views and their normalisation are in cvat_oracle.py.
"""

from __future__ import annotations

import re
import subprocess
from dataclasses import dataclass
from pathlib import Path

import pytest

from conftest import run_sluice as sluice
from conftest import said as _said
from conftest import serving
from cvat_oracle import (
    CVAT_FIXTURES,
    CVATView,
    assert_same_cvat_view,
    datumaro_cvat_view,
    sluice_cvat_view,
    write_cvat_images_set,
    sluice_label_records,
    write_cvat_masks_by_datumaro,
    write_cvat_skeleton_set,
    write_cvat_video_set,
    SKELETON_EDGES,
    SKELETON_LABELS_XML,
    SKELETON_POINTS,
)
from formats_oracle import sluice_items, sluice_labels

GENERATED = {
    "cvat-generated-images": write_cvat_images_set,
    "cvat-masks-by-datumaro": write_cvat_masks_by_datumaro,
    "cvat-skeletons": write_cvat_skeleton_set,
    "cvat-generated-video": lambda root: write_cvat_video_set(root, dense=True),
}
CASES = list(CVAT_FIXTURES) + list(GENERATED)


@dataclass
class Run:
    name: str
    source: Path
    out: Path
    expected: CVATView
    imported: subprocess.CompletedProcess
    exported: subprocess.CompletedProcess | None
    reimported: subprocess.CompletedProcess | None
    items: list | None
    round_trip_items: list | None
    labels: dict
    label_records: dict

    @property
    def is_video_file(self) -> bool:
        return self.name == "cvat-generated-video"


@pytest.fixture(scope="module", params=CASES)
def run(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Run:
    name = request.param
    tmp = tmp_path_factory.mktemp(name)
    source = CVAT_FIXTURES[name] if name in CVAT_FIXTURES else GENERATED[name](tmp / "source")
    expected = datumaro_cvat_view(source)
    data, out = tmp / "data", tmp / "out"
    imported = sluice("import", "cvat", source, "--project", "p", "--dataset", "original", "--data", data)
    exported = reimported = None
    if imported.returncode == 0:
        exported = sluice("export", "--project", "p", "--dataset", "original", "--format", "cvat", "--data", data, out)
        if exported.returncode == 0:
            reimported = sluice("import", "cvat", out, "--project", "p", "--dataset", "round-trip", "--data", data)
    items = round_trip_items = None
    labels: dict = {}
    label_records: dict = {}
    if data.exists():
        with serving(data) as url:
            items = sluice_items(url, "p", "original")
            round_trip_items = sluice_items(url, "p", "round-trip")
            if items is not None:
                labels = sluice_labels(url, "p")
                label_records = sluice_label_records(url, "p")
    return Run(name, source, out, expected, imported, exported, reimported, items, round_trip_items, labels, label_records)


def test_import_matches_datumaro(run: Run) -> None:
    assert run.imported.returncode == 0, f"sluice import cvat {run.name}: {_said(run.imported)}"
    assert run.items is not None
    assert_same_cvat_view(sluice_cvat_view(run.items, run.label_records), run.expected, f"{run.name}: Sluice's import vs Datumaro",
                          frames_only_annotated=run.is_video_file)


def test_export_reads_back_in_datumaro(run: Run) -> None:
    if run.imported.returncode != 0:
        pytest.fail(f"the import failed, nothing to export: {_said(run.imported)}")
    assert run.exported is not None and run.exported.returncode == 0, f"sluice export --format cvat: {_said(run.exported)}"
    assert_same_cvat_view(datumaro_cvat_view(run.out), run.expected, f"{run.name}: Datumaro on the export vs on the original",
                          frames_only_annotated=run.is_video_file)


def test_export_imports_back(run: Run) -> None:
    if run.exported is None or run.exported.returncode != 0:
        pytest.fail(f"no export to import: {_said(run.exported if run.exported else run.imported)}")
    assert run.reimported is not None and run.reimported.returncode == 0, f"re-import: {_said(run.reimported)}"
    assert run.round_trip_items is not None
    assert_same_cvat_view(sluice_cvat_view(run.round_trip_items, run.label_records), run.expected,
                          f"{run.name}: the export imported back vs Datumaro on the original",
                          frames_only_annotated=run.is_video_file)


def test_labels_keep_their_colours(run: Run) -> None:
    if run.name != "cvat-generated-images":
        pytest.skip("only the generated set declares colours")
    assert run.labels.get("car") == "#ff8000" and run.labels.get("person & bag") == "#0080ff", run.labels


def test_video_file_facts_come_from_ffprobe(tmp_path: Path) -> None:
    source = write_cvat_video_set(tmp_path / "source", dense=False, frames=25)
    data = tmp_path / "data"
    imported = sluice("import", "cvat", source, "--project", "p", "--dataset", "v", "--data", data)
    assert imported.returncode == 0, _said(imported)
    with serving(data) as url:
        items = sluice_items(url, "p", "v")
    assert items is not None and len(items) == 1, "a video is one file"
    file = items[0]["file"]
    assert file["type"] == "video"
    media = file["media"]
    assert (media["width"], media["height"], media["frame_count"]) == (64, 48, 25), media
    assert media["frame_rate"] == pytest.approx(25.0)
    assert media["mime_type"] == "video/mp4"
    import hashlib
    assert media["sha256"] == hashlib.sha256((source / "clip.mp4").read_bytes()).hexdigest()


def test_keyframes_only_import_as_cvat_interpolates(tmp_path: Path) -> None:
    """The keyframes-only XML imports to the same instances as the every-frame XML (whose frames
    the test computed with CVAT's rules), and the every-frame XML is what Datumaro reads."""
    sparse = write_cvat_video_set(tmp_path / "sparse", dense=False)
    dense = write_cvat_video_set(tmp_path / "dense", dense=True)
    data = tmp_path / "data"
    for name, source in (("sparse", sparse), ("dense", dense)):
        done = sluice("import", "cvat", source, "--project", "p", "--dataset", name, "--data", data)
        assert done.returncode == 0, _said(done)
    with serving(data) as url:
        got = {name: sluice_cvat_view(sluice_items(url, "p", name) or []) for name in ("sparse", "dense")}
    assert sum(len(v) for v in got["dense"].instances.values()) > 40, "the every-frame form has many frames"
    assert_same_cvat_view(got["sparse"], got["dense"], "keyframes-only vs every frame", frames_only_annotated=True)
    assert_same_cvat_view(got["sparse"], datumaro_cvat_view(dense), "keyframes-only vs Datumaro on every frame",
                          frames_only_annotated=True)
    # The gap: track 0 is outside on frames 15–19 and back at 20; track 1 holds to the last frame.
    track0 = {int(k[6:]) for k, v in got["sparse"].instances.items() for e in v if e[3].get("track_id") == 0}
    assert track0 == set(range(0, 15)) | set(range(20, 24)), sorted(track0)
    track1 = {int(k[6:]) for k, v in got["sparse"].instances.items() for e in v if e[3].get("track_id") == 1}
    assert track1 == set(range(5, 25)), sorted(track1)


def _cvat_mask_bits(rle: str, left: int, top: int, width: int, height: int, image_width: int, image_height: int):
    """CVAT's mask as bits over the whole image, decoded here from CVAT's rule (runs over the box,
    row by row, from an unset run), not from Sluice's code."""
    import numpy as np

    runs = [int(n) for n in rle.split(",")]
    box = np.repeat(np.arange(len(runs)) % 2, runs).astype(bool).reshape(height, width)
    bits = np.zeros((image_height, image_width), bool)
    bits[top:top + height, left:left + width] = box
    return bits


def test_a_video_mask_track_imports_held_between_keyframes_and_round_trips(tmp_path: Path) -> None:
    """A mask track on a video (CVAT does not interpolate masks: a keyframe's mask holds until the
    next one, and `outside` ends it). Datumaro cannot read masks in tracks, so the frames' bits are
    checked against the test's own decoding of the XML, and the export must import back the same."""
    source = write_cvat_video_set(tmp_path / "source", dense=False)
    xml = source / "annotations.xml"
    first = ("1, 4, 2, 4, 2, 4, 7", 10, 6, 6, 4)
    second = ("0, 12", 58, 44, 6, 2)
    track = ('  <track id="7" label="sky">\n'
             f'    <mask frame="2" outside="0" occluded="0" keyframe="1" rle="{first[0]}" left="{first[1]}" top="{first[2]}" '
             f'width="{first[3]}" height="{first[4]}" z_order="0"></mask>\n'
             f'    <mask frame="4" outside="0" occluded="1" keyframe="1" rle="{second[0]}" left="{second[1]}" top="{second[2]}" '
             f'width="{second[3]}" height="{second[4]}" z_order="0"></mask>\n'
             '    <mask frame="6" outside="1" occluded="0" keyframe="1" rle="0, 1" left="0" top="0" width="1" height="1" '
             'z_order="0"></mask>\n  </track>\n')
    xml.write_text(xml.read_text().replace("</annotations>", track + "</annotations>"))
    data, out = tmp_path / "data", tmp_path / "out"
    imported = sluice("import", "cvat", source, "--project", "p", "--dataset", "v", "--data", data)
    assert imported.returncode == 0, _said(imported)
    exported = sluice("export", "--project", "p", "--dataset", "v", "--format", "cvat", "--data", data, out)
    assert exported.returncode == 0, _said(exported)
    again = sluice("import", "cvat", out, "--project", "p", "--dataset", "again", "--data", data)
    assert again.returncode == 0, _said(again)
    with serving(data) as url:
        items = sluice_items(url, "p", "v")
        round_trip = sluice_items(url, "p", "again")
    masks = {i["frame"]: i for item in items for i in item["instances"] if i["kind"] == "mask"}
    assert sorted(masks) == [2, 3, 4, 5], sorted(masks)
    from formats_oracle import _rle_bits

    for frame, (rle, left, top, width, height) in ((2, first), (3, first), (4, second), (5, second)):
        want = _cvat_mask_bits(rle, left, top, width, height, 64, 48)
        got = _rle_bits(masks[frame]["geometry"]["mask"])
        assert got.shape == want.shape and (got == want).all(), f"frame {frame}: the mask's bits differ"
        assert masks[frame]["area"] == int(want.sum()), masks[frame]
        rows, columns = want.nonzero()
        assert masks[frame]["bbox"] == [columns.min(), rows.min(), columns.max() + 1, rows.max() + 1], masks[frame]
        assert masks[frame]["track"] == 7 and masks[frame]["attributes"]["occluded"] is (frame >= 4)
    assert_same_cvat_view(sluice_cvat_view(round_trip), sluice_cvat_view(items), "a video with a mask track, exported and back",
                          frames_only_annotated=True)


def test_a_skeleton_is_one_keypoints_instance_in_its_labels_order(tmp_path: Path) -> None:
    """What Datumaro cannot say (it reads a skeleton's points as separate annotations): the
    skeleton is one `keypoints` instance with the label's points in the label's order (`outside`
    visibility 0, `occluded` 1, else 2), its own attributes, each point's attributes, and the
    label's point names and edges, the same after `export --format cvat` and back, and in
    `export --format coco`'s keypoint categories."""
    source = write_cvat_skeleton_set(tmp_path / "source")
    data, out, coco = tmp_path / "data", tmp_path / "out", tmp_path / "coco.json"
    for command in (("import", "cvat", source, "--project", "p", "--dataset", "original", "--data", data),
                    ("export", "--project", "p", "--dataset", "original", "--format", "cvat", "--data", data, out),
                    ("import", "cvat", out, "--project", "p", "--dataset", "again", "--data", data),
                    ("export", "--project", "p", "--dataset", "original", "--format", "coco", "--data", data, coco)):
        done = sluice(*command)
        assert done.returncode == 0, f"{command[:2]}: {_said(done)}"
    with serving(data) as url:
        labels = sluice_label_records(url, "p")
        datasets = {name: sluice_items(url, "p", name) for name in ("original", "again")}
    assert sorted(labels) == ["car", "person"], "a skeleton's points are not labels of their own"
    assert labels["person"]["keypoint_names"] == SKELETON_POINTS
    assert labels["person"]["skeleton"] == SKELETON_EDGES
    want = {
        "a.png": ([[10.5, 4, 2], [5, 15, 1], [16, 15, 0]], {"pose": "standing"}, {"head": {"face": True}}, [5, 4, 10.5, 15], 1),
        "b.png": ([[16, 2, 2], [2, 20, 2], [30.25, 20, 2]], {"pose": "sitting"}, {"head": {"face": False}}, [2, 2, 30.25, 20], None),
    }
    for name, items in datasets.items():
        got = {}
        for item in items:
            skeletons = [i for i in item["instances"] if i["kind"] == "keypoints"]
            assert len(skeletons) == 1, f"{name}: {item['file']['name']} has {len(skeletons)} skeletons"
            s = skeletons[0]
            metadata = s.get("metadata") or {}
            got[item["file"]["name"]] = (s["geometry"]["keypoints"], s["attributes"], metadata.get("point_attributes"), s["bbox"],
                                         metadata.get("z_order"))
            assert s["label"] == "person"
        assert got == want, name
    import json

    document = json.loads(coco.read_text())
    person = next(c for c in document["categories"] if c["name"] == "person")
    assert person["keypoints"] == SKELETON_POINTS and person["skeleton"] == SKELETON_EDGES, person


def test_a_skeleton_track_moves_each_point_between_keyframes(tmp_path: Path) -> None:
    """A skeleton track on a video: a point placed at both keyframes moves linearly, one not
    placed at the later keyframe holds, `outside` ends the track; the export imports back the
    same, every frame."""
    source = write_cvat_video_set(tmp_path / "source", dense=False)
    xml = source / "annotations.xml"
    skeleton_labels = SKELETON_LABELS_XML.split("<labels>\n", 1)[1].split("        <label><name>car</name>", 1)[0]

    def skeleton(frame: int, outside: int, head: str, left: str, left_outside: int, right: str) -> str:
        points = [("head", head, 0), ("left &amp; hand", left, left_outside), ("right hand", right, 0)]
        inner = "".join(f'<points label="{n}" frame="{frame}" outside="{o}" occluded="0" keyframe="1" points="{p}"></points>'
                        for n, p, o in points)
        return f'    <skeleton frame="{frame}" outside="{outside}" keyframe="1" z_order="0">{inner}</skeleton>\n'

    track = ('  <track id="9" label="person">\n' + skeleton(0, 0, "0,0", "10,10", 0, "20,20")
             + skeleton(4, 0, "4,8", "30,30", 1, "24,20") + skeleton(8, 1, "4,8", "30,30", 1, "24,20") + "  </track>\n")
    text = xml.read_text().replace("      </labels>\n", skeleton_labels + "      </labels>\n", 1)
    xml.write_text(text.replace("</annotations>", track + "</annotations>"))
    data, out = tmp_path / "data", tmp_path / "out"
    for command in (("import", "cvat", source, "--project", "p", "--dataset", "v", "--data", data),
                    ("export", "--project", "p", "--dataset", "v", "--format", "cvat", "--data", data, out),
                    ("import", "cvat", out, "--project", "p", "--dataset", "again", "--data", data)):
        done = sluice(*command)
        assert done.returncode == 0, f"{command[:2]}: {_said(done)}"
    with serving(data) as url:
        labels = sluice_label_records(url, "p")
        items, again = sluice_items(url, "p", "v"), sluice_items(url, "p", "again")
    frames = {i["frame"]: i for item in items for i in item["instances"] if i["kind"] == "keypoints"}
    assert sorted(frames) == list(range(8)), sorted(frames)
    assert frames[2]["geometry"]["keypoints"] == [[2, 4, 2], [10, 10, 2], [22, 20, 2]]
    assert frames[2]["attributes"]["keyframe"] is False and frames[4]["attributes"]["keyframe"] is True
    assert frames[6]["geometry"]["keypoints"] == [[4, 8, 2], [30, 30, 0], [24, 20, 2]]
    assert_same_cvat_view(sluice_cvat_view(again, labels), sluice_cvat_view(items, labels),
                          "a video with a skeleton track, exported and back", frames_only_annotated=True)


# ---------------------------------------------------------------- malformed input

def _refused_without_trace(tmp_path: Path, bad: Path, good: Path, where: str, element: str) -> None:
    data = tmp_path / "data"
    first = sluice("import", "cvat", good, "--project", "p", "--dataset", "kept", "--data", data)
    assert first.returncode == 0, _said(first)
    for dataset in ("new", "kept"):
        refused = sluice("import", "cvat", bad, "--project", "p", "--dataset", dataset, "--data", data)
        assert refused.returncode != 0, f"malformed CVAT XML was accepted into {dataset}: {_said(refused)}"
        assert re.search(rf"(?<![\w/.-]){re.escape(where)}\b", refused.stderr), f"stderr does not name {where}: {refused.stderr!r}"
        assert element in refused.stderr, f"stderr does not name {element}: {refused.stderr!r}"
    with serving(data) as url:
        assert not sluice_items(url, "p", "new"), "the refused import left a dataset with files"
        kept = sluice_items(url, "p", "kept")
        labels = sluice_label_records(url, "p")
    assert kept is not None
    assert_same_cvat_view(sluice_cvat_view(kept, labels), datumaro_cvat_view(good), "the dataset a refused import was appended to")


def test_non_numeric_coordinate_is_refused(tmp_path: Path) -> None:
    bad = write_cvat_images_set(tmp_path / "bad")
    xml = bad / "annotations.xml"
    lines = xml.read_text().splitlines(keepends=True)
    index = next(i for i, line in enumerate(lines) if 'xtl="0"' in line)
    lines[index] = lines[index].replace('xtl="0"', 'xtl="four"')
    xml.write_text("".join(lines))
    _refused_without_trace(tmp_path, bad, write_cvat_images_set(tmp_path / "good"), f"annotations.xml:{index + 1}",
                           "annotations/image[3]/box[1]/@xtl")


def test_broken_xml_is_refused(tmp_path: Path) -> None:
    bad = write_cvat_video_set(tmp_path / "bad", dense=False)
    xml = bad / "annotations.xml"
    lines = xml.read_text().splitlines(keepends=True)
    index = next(i for i, line in enumerate(lines) if "<track id=\"2\"" in line)
    lines[index] = lines[index].replace("<track", "<track <")
    xml.write_text("".join(lines))
    _refused_without_trace(tmp_path, bad, write_cvat_images_set(tmp_path / "good"), f"annotations.xml:{index + 1}",
                           "malformed XML")


def test_image_name_climbing_out_is_refused(tmp_path: Path) -> None:
    bad = write_cvat_images_set(tmp_path / "bad")
    xml = bad / "annotations.xml"
    text = xml.read_text()
    xml.write_text(text.replace('name="c.jpg"', 'name="../../outside.jpg"'))
    line = next(i for i, l in enumerate(xml.read_text().splitlines()) if "outside.jpg" in l) + 1
    _refused_without_trace(tmp_path, bad, write_cvat_images_set(tmp_path / "good"), f"annotations.xml:{line}",
                           "annotations/image[4]/@name")


@pytest.mark.parametrize("change, attribute", [
    (('rle="0, 20"', 'rle="0, 19"'), "rle"),
    (('rle="0, 20"', 'rle="0, 20, x"'), "rle"),
    (('left="15"', 'left="16"'), "width"),
    (('width="5" height="4" z_order="0"', 'width="5" height="0" z_order="0"'), "height"),
])
def test_a_malformed_mask_is_refused(tmp_path: Path, change: tuple[str, str], attribute: str) -> None:
    """Runs that do not fill the mask's box, a box passing the image's edge, an empty box."""
    bad = write_cvat_images_set(tmp_path / "bad")
    xml = bad / "annotations.xml"
    lines = xml.read_text().splitlines(keepends=True)
    index = next(i for i, line in enumerate(lines) if '<mask label="sky"' in line)
    assert change[0] in lines[index]
    lines[index] = lines[index].replace(*change)
    xml.write_text("".join(lines))
    _refused_without_trace(tmp_path, bad, write_cvat_images_set(tmp_path / "good"), f"annotations.xml:{index + 1}",
                           f"annotations/image[3]/mask[1]/@{attribute}")


@pytest.mark.parametrize("change, field", [
    (('label="right hand" source="manual" outside="1"', 'label="tail" source="manual" outside="1"'), "skeleton[1]/points[3]/@label"),
    (('<skeleton label="person" source="manual" z_order="1">', '<skeleton label="car" source="manual" z_order="1">'),
     "skeleton[1]/@label"),
    (('points="10.50,4.00"', 'points="10.50,4.00;1,1"'), "skeleton[1]/points[1]/@points"),
])
def test_a_malformed_skeleton_is_refused(tmp_path: Path, change: tuple[str, str], field: str) -> None:
    """A point the skeleton's label does not have, a skeleton of a label that is not one, a point
    with two positions."""
    bad = write_cvat_skeleton_set(tmp_path / "bad")
    xml = bad / "annotations.xml"
    lines = xml.read_text().splitlines(keepends=True)
    index = next(i for i, line in enumerate(lines) if change[0] in line)
    lines[index] = lines[index].replace(*change)
    xml.write_text("".join(lines))
    _refused_without_trace(tmp_path, bad, write_cvat_skeleton_set(tmp_path / "good"), f"annotations.xml:{index + 1}",
                           f"annotations/image[1]/{field}")
