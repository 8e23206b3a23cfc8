"""Writes through the network (issue 14), against a live `sluice serve`: administration and
imports from the command line with --host, and the Python package's write calls, read back
through Sluice's own stream."""

from __future__ import annotations

import json
import re
import subprocess
import tempfile
from pathlib import Path
from typing import Iterator

import pytest
import requests

import sluice
from conftest import FIXTURES, serving, sluice_bin

PERSONS = FIXTURES / "val2017-persons"


def run(*args: str, check: bool = True) -> subprocess.CompletedProcess:
    return subprocess.run([sluice_bin(), *args], capture_output=True, text=True, check=check)


def key_of(output: str) -> str:
    return re.search(r"^api_key: (\S+)$", output, re.M).group(1)


@pytest.fixture(scope="module")
def empty_server() -> Iterator[tuple]:
    """(URL, data dir, server admin key) of a live server over an empty store."""
    with tempfile.TemporaryDirectory(prefix="sluice-pytest-writes-") as tmp:
        data = Path(tmp) / "data"
        admin = key_of(run("keys", "create", "--server-admin", "--data", str(data)).stdout)
        with serving(data) as url:
            yield url, data, admin


def bearer(key: str) -> dict:
    return {"Authorization": f"Bearer {key}"}


def test_projects_keys_and_privacy_are_administered_over_the_network(empty_server) -> None:
    url, _, admin = empty_server
    refused = requests.post(f"{url}/api/v1/projects", json={"id": "admin-test"})
    assert refused.status_code == 401, "creating a project needs the server admin key"
    created = requests.post(f"{url}/api/v1/projects", json={"id": "admin-test"}, headers=bearer(admin))
    assert created.status_code == 201
    editor = key_of(run("keys", "create", "--project", "admin-test", "--role", "editor",
                        "--host", url, "--api-key", admin).stdout)
    made = requests.post(f"{url}/api/v1/projects/admin-test/datasets", json={"name": "D"}, headers=bearer(editor))
    assert made.status_code == 201, "the key made through the server writes"
    viewer_attempt = run("keys", "create", "--project", "admin-test", "--role", "admin",
                         "--host", url, "--api-key", editor, check=False)
    assert viewer_attempt.returncode != 0 and "admin" in viewer_attempt.stderr, "an editor does not make keys"
    run("project", "set-private", "admin-test", "--host", url, "--api-key", admin)
    assert requests.get(f"{url}/api/v1/projects/admin-test/datasets").status_code == 401
    run("project", "set-public", "admin-test", "--host", url, "--api-key", admin)
    assert requests.get(f"{url}/api/v1/projects/admin-test/datasets").status_code == 200
    snapshot = run("snapshot", "create", "--project", "admin-test", "--dataset", "D", "--name", "empty",
                   "--host", url, "--api-key", editor)
    assert snapshot.returncode == 0


def items_of(url: str, project: str, key: str = "") -> list:
    ds = sluice.Project(project, host=url, api_key=key or None).directory.get(name="Default")
    return [(item["file"]["name"], item["file"]["media"]["sha256"],
             sorted((i["label"], tuple(i["bbox"] or [])) for i in item["instances"])) for item in ds]


def test_import_through_the_server_matches_the_embedded_import(empty_server) -> None:
    url, _, admin = empty_server
    requests.post(f"{url}/api/v1/projects", json={"id": "imported"}, headers=bearer(admin)).raise_for_status()
    editor = key_of(run("keys", "create", "--project", "imported", "--role", "editor",
                        "--host", url, "--api-key", admin).stdout)
    result = run("import", "coco", str(PERSONS / "person_keypoints_val2017.json"), "--project", "imported",
                 "--dataset", "Default", "--images", str(PERSONS / "images"), "--host", url, "--api-key", editor)
    assert "uploading media" in result.stderr and "ETA" in result.stderr, "progress with count, rate and ETA"
    assert re.search(r"imported 4 files, \d+ instances", result.stderr)
    with tempfile.TemporaryDirectory() as tmp:
        local = Path(tmp) / "data"
        run("import", "coco", str(PERSONS / "person_keypoints_val2017.json"), "--project", "imported",
            "--dataset", "Default", "--images", str(PERSONS / "images"), "--data", str(local))
        with serving(local) as reference:
            assert items_of(url, "imported") == items_of(reference, "imported")


def test_a_bad_import_through_the_server_names_the_fault_and_keeps_nothing(empty_server, tmp_path: Path) -> None:
    url, _, admin = empty_server
    requests.post(f"{url}/api/v1/projects", json={"id": "faulty"}, headers=bearer(admin)).raise_for_status()
    editor = key_of(run("keys", "create", "--project", "faulty", "--role", "editor",
                        "--host", url, "--api-key", admin).stdout)
    data = json.loads((PERSONS / "person_keypoints_val2017.json").read_text())
    data["annotations"][3]["bbox"] = "wide"
    broken = tmp_path / "broken.json"
    broken.write_text(json.dumps(data, indent=1))
    failed = run("import", "coco", str(broken), "--project", "faulty", "--dataset", "Default",
                 "--images", str(PERSONS / "images"), "--host", url, "--api-key", editor, check=False)
    assert failed.returncode != 0
    assert "annotations[3].bbox" in failed.stderr and "line" in failed.stderr
    assert requests.get(f"{url}/api/v1/projects/faulty/datasets").json() == [], "the import's dataset is rolled back too"

    data = json.loads((PERSONS / "person_keypoints_val2017.json").read_text())
    data["images"][1]["file_name"] = "../val2017-persons/images/" + data["images"][1]["file_name"]
    escaping = tmp_path / "escaping.json"
    escaping.write_text(json.dumps(data))
    for store in (["--host", url, "--api-key", editor], ["--data", str(tmp_path / "local")]):
        refused = run("import", "coco", str(escaping), "--project", "faulty", "--dataset", "Default",
                      "--images", str(PERSONS / "images"), *store, check=False)
        assert refused.returncode != 0
        assert "images[1].file_name" in refused.stderr and ".." in refused.stderr


def test_python_writes_append_edit_and_refuse_stale_revisions(empty_server) -> None:
    url, _, admin = empty_server
    requests.post(f"{url}/api/v1/projects", json={"id": "py-writes"}, headers=bearer(admin)).raise_for_status()
    editor = key_of(run("keys", "create", "--project", "py-writes", "--role", "editor",
                        "--host", url, "--api-key", admin).stdout)
    project = sluice.Project("py-writes", host=url, api_key=editor)
    requests.post(f"{url}/api/v1/projects/py-writes/datasets", json={"name": "Default"},
                  headers=bearer(editor)).raise_for_status()
    ds = project.directory.get(name="Default")
    photos = sorted((PERSONS / "images").glob("*.jpg"))
    media = project.upload_media(photos[0])
    assert media["type"] == "image" and media["mime_type"] == "image/jpeg" and media["width"] > 0
    landed = ds.append([
        {"name": "one.jpg", "media": photos[0],
         "instances": [{"label": "person", "kind": "box", "bbox": [1, 2, 30, 40]}]},
        {"name": "two.jpg", "media": photos[1].read_bytes(),
         "instances": [{"label": "dog", "kind": "point", "geometry": {"points": [[5, 6]]}}]},
    ], create_labels=True)
    assert [f["position"] for f in landed] == [0, 1]
    assert len(ds.refresh()) == 2
    assert [i["label"] for i in ds[1]["instances"]] == ["dog"]

    with pytest.raises(sluice.SluiceError) as refused:
        ds.append([{"name": "bad.jpg", "sha256": media["sha256"],
                    "instances": [{"label": "person", "kind": "polygon", "geometry": {"polygon": [[1, 2, 3, 4]]}}]}])
    assert refused.value.status == 422 and refused.value.detail["field"] == "files[0].instances[0].geometry.polygon[0]"
    assert len(ds.refresh()) == 2, "nothing of a refused append is kept"

    file_id = landed[0]["file"]["id"]
    before = project.annotation(file_id)
    saved = project.replace_instances(file_id, [{"label": "person", "kind": "box", "bbox": [3, 3, 9, 9]}],
                                      if_revision=before["file"]["revision"])
    assert [i["bbox"] for i in saved["instances"]] == [[3, 3, 9, 9]]
    with pytest.raises(sluice.StaleRevision) as stale:
        project.replace_instances(file_id, [], if_revision=before["file"]["revision"])
    assert stale.value.current == saved["file"]["revision"]
    assert [i["bbox"] for i in ds[0]["instances"]] == [[3, 3, 9, 9]], "the stale save wrote nothing"
    label = project.create_label("bicycle", color="#aabbcc")
    assert project.rename_label(label["id"], "bike")["name"] == "bike"
    names = [item["file"]["name"] for item in ds]
    assert names == ["one.jpg", "two.jpg"]


def test_deleting_an_unused_label_moves_no_tensor_index(empty_server) -> None:
    url, _, admin = empty_server
    requests.post(f"{url}/api/v1/projects", json={"id": "py-labels"}, headers=bearer(admin)).raise_for_status()
    editor = key_of(run("keys", "create", "--project", "py-labels", "--role", "editor",
                        "--host", url, "--api-key", admin).stdout)
    project = sluice.Project("py-labels", host=url, api_key=editor)
    requests.post(f"{url}/api/v1/projects/py-labels/datasets", json={"name": "Default"},
                  headers=bearer(editor)).raise_for_status()
    typo, cat, dog = (project.create_label(name) for name in ("ccat", "cat", "dog"))
    ds = project.directory.get(name="Default")
    photo = sorted((PERSONS / "images").glob("*.jpg"))[0]
    landed = ds.append([{"name": "pets.jpg", "media": photo, "instances": [
        {"label": "ccat", "kind": "box", "bbox": [1, 2, 30, 40]},
        {"label": "dog", "kind": "box", "bbox": [5, 5, 50, 50]}]}])
    with pytest.raises(sluice.SluiceError) as refused:
        project.delete_label(typo["id"])
    assert refused.value.status == 409, "a live instance carries it"
    project.replace_instances(landed[0]["file"]["id"], [
        {"label": "cat", "kind": "box", "bbox": [1, 2, 30, 40]},
        {"label": "dog", "kind": "box", "bbox": [5, 5, 50, 50]}])
    assert project.delete_label(typo["id"]) is None
    assert [label["name"] for label in project.labels()] == ["cat", "dog"]
    assert project.class_names() == [None, "cat", "dog"]
    sample = next(iter(project.directory.get(name="Default").to_pytorch(streaming=True)))
    assert sample["labels"].tolist() == [cat["index"], dog["index"]] == [1, 2]
    names = project.class_names()
    assert [names[i] for i in sample["labels"].tolist()] == ["cat", "dog"]


def test_removed_positions_in_python_iteration_epochs_and_pytorch(empty_server) -> None:
    import torch

    url, data, admin = empty_server
    requests.post(f"{url}/api/v1/projects", json={"id": "removals"}, headers=bearer(admin)).raise_for_status()
    editor = key_of(run("keys", "create", "--project", "removals", "--role", "editor",
                        "--host", url, "--api-key", admin).stdout)
    run("import", "coco", str(PERSONS / "person_keypoints_val2017.json"), "--project", "removals",
        "--dataset", "Default", "--images", str(PERSONS / "images"), "--host", url, "--api-key", editor)
    project = sluice.Project("removals", host=url, api_key=editor)
    ds = project.directory.get(name="Default")
    names = [item["file"]["name"] for item in ds]
    second = ds[1]["file"]
    assert ds.remove(second["id"])["removed"] == 1
    ds = project.directory.get(name="Default")
    assert len(ds) == 4, "positions stay: the count keeps the removed one"
    kept = [n for n in names if n != second["name"]]
    assert [item["file"]["name"] for item in ds] == kept
    with pytest.raises(sluice.SluiceError) as gone:
        ds[1]
    assert gone.value.status == 410 and gone.value.code == "removed"
    epoch = ds.epoch()
    records = list(epoch.records(prefetch=2, range_size=2))
    assert [r.metadata["file_id"] for r in records] == [str(f) for f in [ds[0]["file"]["id"], ds[2]["file"]["id"], ds[3]["file"]["id"]]]
    assert epoch.state.delivered == 4, "the removed position counts as delivered"
    mapped = ds.to_pytorch()
    assert len(mapped) == 3, "map-style indexes the files the dataset still holds"
    samples = list(torch.utils.data.DataLoader(mapped, batch_size=None, shuffle=False))
    assert len(samples) == 3
    streamed = list(torch.utils.data.DataLoader(ds.to_pytorch(streaming=True), batch_size=None))
    assert len(streamed) == 3, "the iterable dataset skips the removed position"
    other = project.directory.get(name="Default")
    moved_back = other.copy([second["id"]])
    assert [f["position"] for f in moved_back] == [4]
    assert [item["file"]["name"] for item in project.directory.get(name="Default")] == kept + [second["name"]]


def test_tensor_frames_are_the_records_with_a_removed_position_and_a_pinned_version(tmp_path: Path) -> None:
    """The binary tensor frames Python reads by default hold exactly what the safetensors
    records hold: keypoints, polygons and crowds of the sample, a removed position's marker,
    and a pinned version's labels after a rename."""
    from conftest import assert_frames_are_the_records

    data = tmp_path / "data"
    run("import", "coco", str(PERSONS / "person_keypoints_val2017.json"), "--project", "p", "--dataset",
        "Default", "--images", str(PERSONS / "images"), "--data", str(data))
    editor = key_of(run("keys", "create", "--project", "p", "--role", "editor", "--data", str(data)).stdout)
    with serving(data) as url:
        ds = sluice.Project("p", host=url, api_key=editor).directory.get(name="Default")
        before = ds.connection.get_json(ds.route)["version"]
        assert assert_frames_are_the_records(ds) > 0
        first = ds[0]
        ds.remove(first["file"]["id"])
        ds = sluice.Project("p", host=url, api_key=editor).directory.get(name="Default")
        assert assert_frames_are_the_records(ds) > 0
        framed = list(ds.records_in(0, len(ds)))
        assert len(framed) == len(ds) - 1, "the removed position is read, and skipped"
        assert assert_frames_are_the_records(ds.at(before)) > 0
