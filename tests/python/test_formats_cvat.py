"""`sluice import cvat` and `sluice export --format cvat` against Datumaro (and CVAT's own rules).

For the three shared CVAT fixtures (for images as a task and as a project, for video as frame
images) and for two sets written here (project-style images with every shape kind and typed
attributes; a video made by ffmpeg with tracks written the way CVAT's export writes them):
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
    write_cvat_video_set,
)
from formats_oracle import sluice_items, sluice_labels

GENERATED = {
    "cvat-generated-images": write_cvat_images_set,
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
    if data.exists():
        with serving(data) as url:
            items = sluice_items(url, "p", "original")
            round_trip_items = sluice_items(url, "p", "round-trip")
            if items is not None:
                labels = sluice_labels(url, "p")
    return Run(name, source, out, expected, imported, exported, reimported, items, round_trip_items, labels)


def test_import_matches_datumaro(run: Run) -> None:
    assert run.imported.returncode == 0, f"sluice import cvat {run.name}: {_said(run.imported)}"
    assert run.items is not None
    assert_same_cvat_view(sluice_cvat_view(run.items), run.expected, f"{run.name}: Sluice's import vs Datumaro",
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
    assert_same_cvat_view(sluice_cvat_view(run.round_trip_items), run.expected,
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
    assert kept is not None
    assert_same_cvat_view(sluice_cvat_view(kept), datumaro_cvat_view(good), "the dataset a refused import was appended to")


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
