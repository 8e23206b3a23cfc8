"""The published `diffgram` 0.15.0 SDK's write calls, unchanged, against a live `sluice serve`:
`label_new`, `file.from_local` with box, polygon, point and tag instances, `file.update` (adding
and overwriting) and `directory.new`, with an editor key of a private project. Every result is
read back through Sluice's own Python package on the same server.
"""

from __future__ import annotations

import hashlib
import re
import subprocess
import tempfile
from pathlib import Path
from typing import Any, Dict, Iterator, List

import pytest
import requests
from PIL import Image

from conftest import FIXTURES, serving, sluice_bin

diffgram = pytest.importorskip("diffgram")
import sluice  # noqa: E402

PROJECT = "coco-dataset"


def create_key(data: Path, role: str) -> Dict[str, str]:
    created = subprocess.run(
        [sluice_bin(), "keys", "create", "--project", PROJECT, "--role", role, "--data", str(data)],
        check=True, capture_output=True, text=True,
    ).stdout
    return dict(re.findall(r"^(\w+): (\S+)$", created, re.MULTILINE))


@pytest.fixture(scope="module")
def writable_server() -> Iterator[Dict[str, Any]]:
    """A live server over val2017-persons in a private `coco-dataset`, with an editor key and a
    viewer key, and a directory of freshly made images (bytes the store does not hold yet)."""
    with tempfile.TemporaryDirectory(prefix="sluice-pytest-diffgram-writes-") as tmp:
        data = Path(tmp) / "data"
        persons = FIXTURES / "val2017-persons"
        subprocess.run(
            [sluice_bin(), "import", "coco", str(persons / "person_keypoints_val2017.json"), "--project", PROJECT,
             "--dataset", "Default", "--images", str(persons / "images"), "--data", str(data)],
            check=True, capture_output=True, text=True,
        )
        subprocess.run([sluice_bin(), "project", "set-private", PROJECT, "--data", str(data)],
                       check=True, capture_output=True, text=True)
        editor, viewer = create_key(data, "editor"), create_key(data, "viewer")
        images = Path(tmp) / "images"
        images.mkdir()
        with serving(data) as url:
            yield {"url": url, "editor": editor, "viewer": viewer, "images": images}


def image(server: Dict[str, Any], name: str, shade: int) -> Path:
    """A new 64×48 PNG, its pixels unlike any other image of the test."""
    path = server["images"] / name
    Image.new("RGB", (64, 48), (shade, 255 - shade, (shade * 7) % 256)).save(path)
    return path


@pytest.fixture(scope="module")
def project(writable_server):
    """The SDK's project, built with the editor key: the only change to Diffgram code is host=."""
    key = writable_server["editor"]
    return diffgram.Project(project_string_id=PROJECT, host=writable_server["url"],
                            client_id=key["client_id"], client_secret=key["client_secret"])


@pytest.fixture(scope="module")
def ours(writable_server):
    return sluice.Project(PROJECT, host=writable_server["url"], api_key=writable_server["editor"]["api_key"])


def item_of(ours, directory: str, file_id: int) -> Dict[str, Any]:
    """Sluice's item of the file in the named dataset (appended files are at the end)."""
    dataset = ours.directory.get(name=directory)
    for position in reversed(range(len(dataset))):
        item = dataset[position]
        if item["file"]["id"] == file_id:
            return item
    raise AssertionError(f"file {file_id} is not in {directory}")


def label_ids(ours) -> Dict[str, int]:
    return {label["name"]: label["id"] for label in ours.labels()}


def instances(*specs: Dict[str, Any]) -> List[Dict[str, Any]]:
    """Fresh instance dicts: the SDK rewrites the ones it is given (it adds label_file_id, and
    then turns a dict that has one into None), so each call gets its own."""
    return [dict(spec) for spec in specs]


def test_label_new_creates_a_label_the_sdk_can_name(project, ours):
    made = project.label_new({"name": "cat"})
    assert made["label"]["name"] == "cat"
    assert label_ids(ours)["cat"] == made["id"]
    assert project.name_to_file_id["cat"] == made["id"], "label_new refreshed the SDK's name → id map"
    with pytest.raises(Exception, match="already has a label named 'cat'"):
        project.label_new({"name": "cat"})


def test_from_local_appends_a_file_with_box_polygon_point_and_tag(writable_server, project, ours):
    project.label_new({"name": "dog"})
    before = len(ours.directory.get(name="Default"))
    box = {"type": "box", "name": "person", "x_min": 3, "y_min": 4, "x_max": 30.5, "y_max": 40}
    polygon = {"type": "polygon", "name": "dog", "points": [{"x": 10, "y": 10}, {"x": 50, "y": 12}, {"x": 30, "y": 40}]}
    point = {"type": "point", "name": "dog", "points": [{"x": 20, "y": 21}]}
    tag = {"type": "tag", "name": "person"}
    path = image(writable_server, "four-kinds.png", 10)

    file = project.file.from_local(str(path), instance_list=instances(box, polygon, point, tag))

    default = ours.directory.get(name="Default")
    assert len(default) == before + 1
    item = default[before]
    assert item["file"]["id"] == file.id
    assert item["file"]["name"] == "four-kinds.png"
    assert (item["file"]["media"]["width"], item["file"]["media"]["height"]) == (64, 48)
    ids = label_ids(ours)
    got = item["instances"]
    assert [i["kind"] for i in got] == ["box", "polygon", "point", "global"]
    assert [i["label"] for i in got] == ["person", "dog", "dog", "person"]
    assert [i["label_id"] for i in got] == [ids["person"], ids["dog"], ids["dog"], ids["person"]]
    assert got[0]["bbox"] == [3, 4, 30.5, 40]
    assert got[1]["geometry"]["polygon"] == [[10, 10, 50, 12, 30, 40]]
    assert got[1]["bbox"] == [10, 10, 50, 40], "the polygon's box is its outline's"
    assert got[2]["geometry"]["points"] == [[20, 21]]
    # The SDK's file object is the one the server wrote, with its instances.
    assert [i["label_file_id"] for i in file.instance_list] == [i["label_id"] for i in got]


def test_directory_new_and_from_local_into_it(writable_server, project, ours):
    directory = project.directory.new(name="Writes")
    assert directory is not None and directory.nickname == "Writes"
    assert len(ours.directory.get(name="Writes")) == 0
    box = {"type": "box", "name": "person", "x_min": 1, "y_min": 2, "x_max": 3, "y_max": 4}
    file = project.file.from_local(str(image(writable_server, "into-writes.png", 20)),
                                   directory_id=directory.id, instance_list=instances(box))
    writes = ours.directory.get(name="Writes")
    assert len(writes) == 1
    assert writes[0]["file"]["id"] == file.id
    assert [(i["kind"], i["label"], i["bbox"]) for i in writes[0]["instances"]] == [("box", "person", [1, 2, 3, 4])]
    with pytest.raises(Exception, match="Already exists"):
        project.directory.new(name="Writes")  # the SDK's own check, against the list it holds
    key = writable_server["editor"]
    fresh = diffgram.Project(project_string_id=PROJECT, host=writable_server["url"],
                             client_id=key["client_id"], client_secret=key["client_secret"])
    with pytest.raises(Exception, match="already has a directory named 'Writes'"):
        fresh.directory.new(name="Writes")  # a project that has not listed it: the server's check
    assert [d.name for d in ours.directory.list()].count("Writes") == 1


def test_update_adds_and_overwrite_replaces(writable_server, project, ours):
    first = {"type": "box", "name": "person", "x_min": 0, "y_min": 0, "x_max": 10, "y_max": 10}
    second = {"type": "box", "name": "person", "x_min": 5, "y_min": 6, "x_max": 7, "y_max": 8}
    outline = {"type": "polygon", "name": "person", "points": [{"x": 1, "y": 1}, {"x": 9, "y": 1}, {"x": 5, "y": 9}]}
    file = project.file.from_local(str(image(writable_server, "updated.png", 30)), instance_list=instances(first))

    file.update(instance_list=instances(second))
    added = item_of(ours, "Default", file.id)["instances"]
    assert [(i["kind"], i["bbox"]) for i in added] == [("box", [0, 0, 10, 10]), ("box", [5, 6, 7, 8])]

    file.update(instance_list=instances(outline), overwrite=True)
    replaced = item_of(ours, "Default", file.id)["instances"]
    assert [(i["kind"], i["label"]) for i in replaced] == [("polygon", "person")]
    assert replaced[0]["geometry"]["polygon"] == [[1, 1, 9, 1, 5, 9]]


def test_a_malformed_instance_list_is_refused_with_nothing_written(writable_server, project, ours):
    inverted = {"type": "box", "name": "person", "x_min": 30, "y_min": 4, "x_max": 3, "y_max": 40}
    good = {"type": "box", "name": "person", "x_min": 1, "y_min": 1, "x_max": 2, "y_max": 2}
    before = len(ours.directory.get(name="Default"))
    labels_before = ours.labels()

    with pytest.raises(Exception, match=r"instance_list\[1\]\.bbox: needs x_min ≤ x_max"):
        project.file.from_local(str(image(writable_server, "refused.png", 40)),
                                instance_list=instances(good, inverted))
    assert len(ours.directory.get(name="Default")) == before, "no file was appended"
    sha = hashlib.sha256((writable_server["images"] / "refused.png").read_bytes()).hexdigest()
    held = requests.head(f"{writable_server['url']}/api/v1/projects/{PROJECT}/media/{sha}",
                         headers={"Authorization": f"Bearer {writable_server['editor']['api_key']}"})
    assert held.status_code == 404, "the refused upload's bytes were not kept either"

    file = project.file.from_local(str(image(writable_server, "kept.png", 50)), instance_list=instances(good))
    item = item_of(ours, "Default", file.id)
    for overwrite in (False, True):
        with pytest.raises(Exception, match=r"instance_list\[1\]\.bbox"):
            file.update(instance_list=instances(good, inverted), overwrite=overwrite)
    with pytest.raises(Exception, match=r"instance_list\[0\]\.type: 'cuboid' is not supported"):
        file.update(instance_list=instances({"type": "cuboid", "name": "person"}))
    # The SDK turns an instance that already has label_file_id into None before sending it.
    with pytest.raises(Exception, match=r"instance_list\[0\]: null, .*convert_names_to_label_files=False"):
        file.update(instance_list=instances({**good, "label_file_id": label_ids(ours)["person"]}))
    after = item_of(ours, "Default", file.id)
    assert after["instances"] == item["instances"], "the file's annotation is unchanged"
    assert after["file"]["revision"] == item["file"]["revision"]
    assert ours.labels() == labels_before


def test_writes_need_an_editor_key(writable_server, ours):
    key = writable_server["viewer"]
    viewer = diffgram.Project(project_string_id=PROJECT, host=writable_server["url"],
                              client_id=key["client_id"], client_secret=key["client_secret"])
    before = len(ours.directory.get(name="Default"))
    with pytest.raises(Exception, match="editor"):
        viewer.label_new({"name": "viewer-made"})
    with pytest.raises(Exception, match="Invalid Permission"):
        viewer.file.from_local(str(image(writable_server, "viewer.png", 60)),
                               instance_list=instances({"type": "tag", "name": "person"}))
    assert "viewer-made" not in label_ids(ours)
    assert len(ours.directory.get(name="Default")) == before


def test_copy_makes_an_independent_file_in_the_destination(writable_server, project, ours):
    box = {"type": "box", "name": "person", "x_min": 2, "y_min": 3, "x_max": 20, "y_max": 30}
    original = project.file.from_local(str(image(writable_server, "copied.png", 40)), instance_list=instances(box))
    destination = project.directory.new(name="Copies")
    with_instances = original.copy(destination, copy_instances=True)
    bare = original.copy(destination)
    assert with_instances.id != original.id and bare.id != original.id
    copies = ours.directory.get(name="Copies")
    assert [item["file"]["id"] for item in copies] == [with_instances.id, bare.id]
    assert [(i["kind"], i["bbox"]) for i in copies[0]["instances"]] == [("box", [2, 3, 20, 30])]
    assert copies[1]["instances"] == []
    assert copies[0]["file"]["media"]["sha256"] == copies[1]["file"]["media"]["sha256"], "the same media, stored once"
    # Independent: replacing the copy's annotation leaves the original's.
    key = writable_server["editor"]
    requests.put(f"{writable_server['url']}/api/v1/files/{with_instances.id}/instances", json={"instances": []},
                 headers={"Authorization": f"Bearer {key['client_id']}:{key['client_secret']}"}).raise_for_status()
    default = ours.directory.get(name="Default")
    mine = [item for item in default if item["file"]["id"] == original.id][0]
    assert [i["bbox"] for i in mine["instances"]] == [[2, 3, 20, 30]]
