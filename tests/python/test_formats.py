"""`sluice import voc|yolo` and `sluice export --format voc|yolo` against Datumaro.

For each shared VOC and YOLO fixture and for a VOC and a YOLO (Ultralytics layout) set written
here with Pillow: Sluice's items, read back through the HTTP API, equal Datumaro's reading of
the same folder (per image and label: boxes, polygons, attributes, subsets, image sizes and
bytes, label-map colours); Datumaro reads the folder `sluice export` writes as it read the
original; and that folder imports back into Sluice the same. Malformed input is refused with
the file and line named, and nothing of it is kept. The comparable views and the places where
Datumaro and the contract are normalised to what they agree on are in formats_oracle.py.
"""

from __future__ import annotations

import re
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import pytest

from conftest import run_sluice as sluice
from conftest import said as _said
from conftest import serving
from formats_oracle import (
    FIXTURE_FOLDERS,
    GENERATED,
    FolderView,
    assert_same_view,
    darknet_name,
    darknet_subset,
    datumaro_view,
    sluice_items,
    sluice_labels,
    sluice_view,
    write_voc_set,
    write_yolo_set,
)

CASES = list(FIXTURE_FOLDERS) + list(GENERATED)


@dataclass
class Run:
    """One folder through Sluice: imported as p/original, exported to `out`, `out` imported as
    p/round-trip; what Datumaro reads in the folder; what the server then returns."""
    name: str
    format: str
    source: Path
    out: Path
    expected: FolderView
    imported: subprocess.CompletedProcess
    exported: subprocess.CompletedProcess | None
    reimported: subprocess.CompletedProcess | None
    items: list | None
    round_trip_items: list | None
    labels: dict

    @property
    def exported_name(self) -> Callable[[str], str]:
        """A file name in the export (or imported from it) → the name it was exported from."""
        return darknet_name if self.format == "yolo" else (lambda name: name)

    @property
    def expected_after_export(self) -> FolderView:
        """What an export should read as: the original, with YOLO's subsets as darknet's layout
        can hold them (train and valid lists only)."""
        return self.expected.with_subsets(darknet_subset) if self.format == "yolo" else self.expected


@pytest.fixture(scope="module", params=CASES)
def run(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Run:
    name = request.param
    tmp = tmp_path_factory.mktemp(name)
    if name in FIXTURE_FOLDERS:
        format, source = FIXTURE_FOLDERS[name]
    else:
        format, write = GENERATED[name]
        source = write(tmp / "source")
    expected = datumaro_view(source, format)
    data, out = tmp / "data", tmp / "out"
    imported = sluice("import", format, source, "--project", "p", "--dataset", "original", "--data", data)
    exported = reimported = None
    if imported.returncode == 0:
        exported = sluice("export", "--project", "p", "--dataset", "original", "--format", format, "--data", data, out)
        if exported.returncode == 0:
            reimported = sluice("import", format, out, "--project", "p", "--dataset", "round-trip", "--data", data)
    items = round_trip_items = None
    labels: dict = {}
    if data.exists():
        with serving(data) as url:
            items = sluice_items(url, "p", "original")
            round_trip_items = sluice_items(url, "p", "round-trip")
            if items is not None:
                labels = sluice_labels(url, "p")
    return Run(name, format, source, out, expected, imported, exported, reimported, items, round_trip_items, labels)


def test_import_matches_datumaro(run: Run) -> None:
    assert run.imported.returncode == 0, f"sluice import {run.format} {run.name}: {_said(run.imported)}"
    assert run.items is not None, "the dataset exists after the import"
    got = sluice_view(run.items, run.format, run.labels)
    assert_same_view(got, run.expected, f"{run.name}: Sluice's import vs Datumaro")


def test_export_reads_back_in_datumaro(run: Run) -> None:
    if run.imported.returncode != 0:
        pytest.fail(f"the import failed, nothing to export: {_said(run.imported)}")
    assert run.exported is not None and run.exported.returncode == 0, (
        f"sluice export --format {run.format}: {_said(run.exported)}")
    exported = datumaro_view(run.out, run.format)
    # Images are byte copies, the boxes and attributes the original's.
    assert_same_view(exported.renamed(run.exported_name), run.expected_after_export,
                     f"{run.name}: Datumaro on the export vs on the original")
    # The label map written is the project's labels with their colours.
    for label, color in exported.labels.items():
        assert label in run.labels, f"the export names label {label!r}, which the project does not have"
        if color is not None:
            assert color == run.labels[label], f"label {label!r}: exported colour {color}, the project's {run.labels[label]}"


def test_export_imports_back(run: Run) -> None:
    if run.exported is None or run.exported.returncode != 0:
        pytest.fail(f"no export to import: {_said(run.exported if run.exported else run.imported)}")
    assert run.reimported is not None and run.reimported.returncode == 0, (
        f"sluice import {run.format} of the export: {_said(run.reimported)}")
    assert run.round_trip_items is not None
    got = sluice_view(run.round_trip_items, run.format, run.labels).renamed(run.exported_name)
    assert_same_view(got, run.expected_after_export, f"{run.name}: the export imported back vs Datumaro on the original")


# ---------------------------------------------------------------- malformed input

def _refused_without_trace(tmp_path: Path, format: str, bad: Path, good: Path, where: str) -> None:
    """`bad` is refused naming `where` (FILE:LINE, relative to the folder), into a new dataset
    (not created, or empty) and into one holding `good` (unchanged)."""
    data = tmp_path / "data"
    first = sluice("import", format, good, "--project", "p", "--dataset", "kept", "--data", data)
    assert first.returncode == 0, _said(first)
    for dataset in ("new", "kept"):
        refused = sluice("import", format, bad, "--project", "p", "--dataset", dataset, "--data", data)
        assert refused.returncode != 0, f"a malformed {format} folder was accepted into {dataset}: {_said(refused)}"
        # Relative: not preceded by a directory of the absolute path.
        assert re.search(rf"(?<![\w/.-]){re.escape(where)}\b", refused.stderr), (
            f"stderr does not name {where}: {refused.stderr!r}")
    with serving(data) as url:
        assert not sluice_items(url, "p", "new"), "the refused import left a dataset with files"
        kept = sluice_items(url, "p", "kept")
        assert kept is not None
        assert_same_view(sluice_view(kept, format), datumaro_view(good, format),
                         f"{format}: the dataset a refused import was appended to", labels="skip")


@pytest.mark.parametrize("format", ["voc", "yolo", "labelme", "cvat", "doccano"])
def test_a_folder_that_is_not_of_the_format_is_refused_naming_what_it_lacks(tmp_path: Path, format: str) -> None:
    """The wrong folder (here one holding only a README) is an error saying what the format
    expects, and leaves no dataset behind: not an import of nothing."""
    folder = tmp_path / "not-a-dataset"
    folder.mkdir()
    (folder / "README.txt").write_text("photos from the trip\n")
    data = tmp_path / "data"
    refused = sluice("import", format, folder, "--project", "p", "--dataset", "d", "--data", data)
    assert refused.returncode != 0, _said(refused)
    expected = {"voc": "expected Annotations/ or ImageSets/", "yolo": "not a YOLO folder",
                "labelme": "no LabelMe annotations", "cvat": "holds no CVAT .xml file", "doccano": "no Doccano export"}
    assert expected[format] in refused.stderr, refused.stderr
    with serving(data) as url:
        assert not sluice_items(url, "p", "d"), "the refused import left a dataset"


def test_voc_non_numeric_coordinate_is_refused(tmp_path: Path) -> None:
    bad = write_voc_set(tmp_path / "bad")
    xml = bad / "Annotations" / "img_b.xml"
    lines = xml.read_text().splitlines(keepends=True)
    index = [i for i, line in enumerate(lines) if "<xmin>" in line][1]  # the second object's
    lines[index] = "      <xmin>four</xmin>\n"
    xml.write_text("".join(lines))
    with pytest.raises(Exception):
        datumaro_view(bad, "voc")  # the oracle refuses it too
    _refused_without_trace(tmp_path, "voc", bad, write_voc_set(tmp_path / "good"), f"Annotations/img_b.xml:{index + 1}")


def test_yolo_line_with_too_few_numbers_is_refused(tmp_path: Path) -> None:
    bad = write_yolo_set(tmp_path / "bad")
    labels = bad / "labels" / "train" / "b.txt"
    lines = labels.read_text().splitlines(keepends=True)
    lines.insert(1, "1 0.5 0.5 0.25\n")  # class and 3 numbers: neither a box nor a polygon
    labels.write_text("".join(lines))
    with pytest.raises(Exception):
        datumaro_view(bad, "yolo")  # the oracle refuses it too
    _refused_without_trace(tmp_path, "yolo", bad, write_yolo_set(tmp_path / "good"), "labels/train/b.txt:2")


def test_voc_mask_index_without_an_object_is_refused(tmp_path: Path) -> None:
    """A SegmentationObject pixel whose index names no <object> of the XML (img_a has two) is a fault
    naming the PNG and the pixel; void (255) is not."""
    from formats_oracle import voc_palette, write_voc_mask_set  # noqa: PLC0415 — an addition to this file
    from PIL import Image

    bad = write_voc_mask_set(tmp_path / "bad")
    png = bad / "SegmentationObject" / "img_a.png"
    image = Image.open(png)
    image.putpixel((60, 2), 3)
    image.putpalette(voc_palette())
    image.save(png)
    _refused_without_trace(tmp_path, "voc", bad, write_voc_mask_set(tmp_path / "good"), "SegmentationObject/img_a.png:0")
    refused = sluice("import", "voc", bad, "--project", "p", "--dataset", "again", "--data", tmp_path / "data")
    assert "pixel (60, 2): object index 3, but Annotations/img_a.xml has 2 objects" in refused.stderr, refused.stderr


# ---------------------------------------------------------------- LabelMe
#
# `sluice import labelme` tells the two LabelMe forms apart by content. MIT LabelMe XML
# ("labelme-xml") is checked against Datumaro's `label_me` reading and exported with
# `--format labelme-xml`, which Datumaro reads back. Datumaro 1.13 has no reader for the
# labelme tool's JSON ("labelme-json"): its oracle is `labelme_json_view` in formats_oracle.py,
# an independent reading by labelme's documented schema, and it is exported with
# `--format labelme` (the same JSON form), which that reading reads back.

from formats_oracle import (  # noqa: E402 — kept beside the LabelMe tests, an addition to this file
    LABELME_FOLDERS,
    LABELME_GENERATED,
    labelme_view,
    sluice_labelme_view,
    write_labelme_json_set,
    write_labelme_xml_set,
)

LABELME_CASES = list(LABELME_FOLDERS) + list(LABELME_GENERATED)
#: The `--format` each form exports as.
LABELME_EXPORT = {"labelme-xml": "labelme-xml", "labelme-json": "labelme"}


@dataclass
class LabelMeRun:
    """One LabelMe folder through Sluice, as `Run` (import, export, import of the export)."""
    name: str
    form: str
    source: Path
    out: Path
    expected: FolderView
    imported: subprocess.CompletedProcess
    exported: subprocess.CompletedProcess | None
    reimported: subprocess.CompletedProcess | None
    items: list | None
    round_trip_items: list | None
    labels: dict


@pytest.fixture(scope="module", params=LABELME_CASES)
def labelme_run(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> LabelMeRun:
    name = request.param
    tmp = tmp_path_factory.mktemp(name)
    if name in LABELME_FOLDERS:
        form, source = LABELME_FOLDERS[name]
    else:
        form, write = LABELME_GENERATED[name]
        source = write(tmp / "source")
    expected = labelme_view(source, form)
    data, out = tmp / "data", tmp / "out"
    imported = sluice("import", "labelme", source, "--project", "p", "--dataset", "original", "--data", data)
    exported = reimported = None
    if imported.returncode == 0:
        exported = sluice("export", "--project", "p", "--dataset", "original", "--format", LABELME_EXPORT[form],
                          "--data", data, out)
        if exported.returncode == 0:
            reimported = sluice("import", "labelme", out, "--project", "p", "--dataset", "round-trip", "--data", data)
    items = round_trip_items = None
    labels: dict = {}
    if data.exists():
        with serving(data) as url:
            items = sluice_items(url, "p", "original")
            round_trip_items = sluice_items(url, "p", "round-trip")
            if items is not None:
                labels = sluice_labels(url, "p")
    return LabelMeRun(name, form, source, out, expected, imported, exported, reimported, items, round_trip_items, labels)


def test_labelme_import_matches_the_oracle(labelme_run: LabelMeRun) -> None:
    run = labelme_run
    assert run.imported.returncode == 0, f"sluice import labelme {run.name}: {_said(run.imported)}"
    assert run.items is not None, "the dataset exists after the import"
    got = sluice_labelme_view(run.items, run.form, run.labels)
    assert_same_view(got, run.expected, f"{run.name}: Sluice's import vs {run.form}'s oracle")


def test_labelme_export_reads_back_in_the_oracle(labelme_run: LabelMeRun) -> None:
    run = labelme_run
    if run.imported.returncode != 0:
        pytest.fail(f"the import failed, nothing to export: {_said(run.imported)}")
    assert run.exported is not None and run.exported.returncode == 0, (
        f"sluice export --format {LABELME_EXPORT[run.form]}: {_said(run.exported)}")
    assert_same_view(labelme_view(run.out, run.form), run.expected, f"{run.name}: the oracle on the export vs on the original")


def test_labelme_export_imports_back(labelme_run: LabelMeRun) -> None:
    run = labelme_run
    if run.exported is None or run.exported.returncode != 0:
        pytest.fail(f"no export to import: {_said(run.exported if run.exported else run.imported)}")
    assert run.reimported is not None and run.reimported.returncode == 0, (
        f"sluice import labelme of the export: {_said(run.reimported)}")
    assert run.round_trip_items is not None
    got = sluice_labelme_view(run.round_trip_items, run.form, run.labels)
    assert_same_view(got, run.expected, f"{run.name}: the export imported back vs the oracle on the original")


def _labelme_refused_without_trace(tmp_path: Path, form: str, bad: Path, good: Path, where: str) -> None:
    """As `_refused_without_trace`, for `sluice import labelme` and the LabelMe oracles."""
    data = tmp_path / "data"
    first = sluice("import", "labelme", good, "--project", "p", "--dataset", "kept", "--data", data)
    assert first.returncode == 0, _said(first)
    for dataset in ("new", "kept"):
        refused = sluice("import", "labelme", bad, "--project", "p", "--dataset", dataset, "--data", data)
        assert refused.returncode != 0, f"a malformed {form} folder was accepted into {dataset}: {_said(refused)}"
        assert re.search(rf"(?<![\w/.-]){re.escape(where)}\b", refused.stderr), (
            f"stderr does not name {where}: {refused.stderr!r}")
    with serving(data) as url:
        assert not sluice_items(url, "p", "new"), "the refused import left a dataset with files"
        kept = sluice_items(url, "p", "kept")
        assert kept is not None
        assert_same_view(sluice_labelme_view(kept, form), labelme_view(good, form),
                         f"{form}: the dataset a refused import was appended to", labels="skip")


def test_labelme_xml_non_numeric_point_is_refused(tmp_path: Path) -> None:
    bad = write_labelme_xml_set(tmp_path / "bad")
    xml = bad / "Annotations" / "train" / "b.xml"
    lines = xml.read_text().splitlines(keepends=True)
    index = [i for i, line in enumerate(lines) if "<x>" in line][1]  # the traffic light's second point
    lines[index] = "        <x>forty</x>\n"
    xml.write_text("".join(lines))
    with pytest.raises(Exception):
        labelme_view(bad, "labelme-xml")  # the oracle refuses it too
    _labelme_refused_without_trace(tmp_path, "labelme-xml", bad, write_labelme_xml_set(tmp_path / "good"),
                                   f"Annotations/train/b.xml:{index + 1}")


def test_labelme_json_point_without_y_is_refused(tmp_path: Path) -> None:
    bad = write_labelme_json_set(tmp_path / "bad")
    path = bad / "labels" / "b.json"
    lines = path.read_text().splitlines(keepends=True)
    index = next(i for i, line in enumerate(lines) if line.strip() == "3,")  # the second point's x
    # [3, 2] → [3]: a point needs two numbers (labelme's points are [x, y] pairs). The fault is
    # named where the point ends, its `]`, now the line after the x.
    lines[index] = lines[index].replace("3,", "3")
    lines[index + 1] = ""
    path.write_text("".join(lines))
    with pytest.raises(Exception):
        labelme_view(bad, "labelme-json")  # the independent reading refuses it too
    _labelme_refused_without_trace(tmp_path, "labelme-json", bad, write_labelme_json_set(tmp_path / "good"),
                                   f"labels/b.json:{index + 2}")
