"""The published `diffgram` 0.15.0 SDK, unchanged, against a live `sluice serve` (issue 6).

The project is private and read with a viewer key, so every request of the SDK goes through
the authorization step; results are compared with Sluice's own Python package on the same
server.
"""

from __future__ import annotations

import contextlib
import io
import json
import re
import subprocess
import tempfile
import types
from pathlib import Path
from typing import Iterator

import numpy as np
import pytest

from conftest import FIXTURES, serving, sluice_bin

diffgram = pytest.importorskip("diffgram")
import sluice  # noqa: E402


def cat_variant(directory: Path) -> Path:
    """val2017-persons with the people of its second image relabelled `cat`, so that the
    walkthrough's `slice('labels.cat > 0')` names a label that exists and selects something.
    The shared fixture itself is never edited."""
    source = FIXTURES / "val2017-persons" / "person_keypoints_val2017.json"
    data = json.loads(source.read_text())
    data["categories"].append({"id": 9001, "name": "cat", "supercategory": "animal"})
    second = data["images"][1]["id"]
    for annotation in data["annotations"]:
        if annotation["image_id"] == second:
            annotation["category_id"] = 9001
            annotation.pop("keypoints", None)
            annotation.pop("num_keypoints", None)
    out = directory / "person_keypoints_with_cats.json"
    out.write_text(json.dumps(data))
    return out


@pytest.fixture(scope="module")
def private_server() -> Iterator[tuple]:
    """(URL, client id, secret, Sluice token): the shared COCO fixtures in a private
    `coco-dataset`, with a viewer key."""
    with tempfile.TemporaryDirectory(prefix="sluice-pytest-diffgram-") as tmp:
        data = Path(tmp) / "data"
        sets = [
            (cat_variant(Path(tmp)), FIXTURES / "val2017-persons" / "images"),
            (FIXTURES / "crowdpose" / "test_crowdpose.json", FIXTURES / "crowdpose"),
            (FIXTURES / "ochuman" / "test_ochuman.json", FIXTURES / "ochuman"),
        ]
        for annotations, images in sets:
            subprocess.run(
                [sluice_bin(), "import", "coco", str(annotations), "--project", "coco-dataset",
                 "--dataset", "Default", "--images", str(images), "--data", str(data)],
                check=True, capture_output=True, text=True,
            )
        subprocess.run([sluice_bin(), "project", "set-private", "coco-dataset", "--data", str(data)],
                       check=True, capture_output=True, text=True)
        created = subprocess.run(
            [sluice_bin(), "keys", "create", "--project", "coco-dataset", "--role", "viewer", "--data", str(data)],
            check=True, capture_output=True, text=True,
        ).stdout
        fields = dict(re.findall(r"^(\w+): (\S+)$", created, re.MULTILINE))
        with serving(data) as url:
            yield url, fields["client_id"], fields["client_secret"], fields["api_key"]


@pytest.fixture(scope="module")
def walkthrough(private_server):
    """Diffgram's streaming walkthrough, as the documentation has it but for host= and keys."""
    url, client_id, client_secret, _ = private_server
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        # --- the walkthrough, unchanged ---
        from diffgram import Project
        coco_project = Project(project_string_id='coco-dataset', host=url, client_id=client_id, client_secret=client_secret)
        default_dataset = coco_project.directory.get(name='Default')
        print('Number of items in dataset: {}'.format(len(default_dataset)))
        print('8th element: {}'.format(default_dataset[7]))
        pytorch_ready_dataset = default_dataset.to_pytorch()
        sliced = default_dataset.slice('labels.cat > 0')
        # ---
    return types.SimpleNamespace(
        output=out.getvalue(), project=coco_project, dataset=default_dataset,
        pytorch=pytorch_ready_dataset, sliced=sliced,
    )


@pytest.fixture(scope="module")
def ours(private_server):
    url, _, _, token = private_server
    return sluice.Project("coco-dataset", host=url, api_key=token).directory.get(name="Default")


def test_walkthrough_prints_the_count_and_the_8th_element(walkthrough, ours):
    lines = walkthrough.output.splitlines()
    assert lines[0] == f"Number of items in dataset: {len(ours)}"
    assert len(ours) == 9
    assert lines[1].startswith("8th element: {")
    eighth = walkthrough.dataset[7]
    assert eighth["diffgram_file"].id == ours[7]["file"]["id"]
    assert eighth["image"] is not None, "the image came through the (signed) media URL"


def boxes(sample) -> np.ndarray:
    columns = [np.asarray(sample[key], dtype=np.float32).reshape(-1)
               for key in ("x_min_list", "y_min_list", "x_max_list", "y_max_list")]
    return np.stack(columns, axis=1)


def test_to_pytorch_first_sample_equals_sluices(walkthrough, ours):
    theirs, mine = walkthrough.pytorch[0], ours.to_pytorch()[0]
    assert theirs["diffgram_file"].id == mine["diffgram_file"].id
    np.testing.assert_array_equal(boxes(theirs), boxes(mine))
    assert list(theirs["label_id_list"]) == list(mine["label_id_list"])
    assert theirs["label_name_list"] == mine["label_name_list"]
    assert len(theirs["label_id_list"]) > 0
    np.testing.assert_array_equal(np.asarray(theirs["image"]), np.asarray(mine["image"].convert("RGB")))


def test_every_sample_has_sluices_boxes_labels_keypoints_and_outlines(walkthrough, ours):
    mine = ours.to_pytorch()
    assert len(walkthrough.pytorch) == len(mine)
    for index in range(len(mine)):
        theirs, expected = walkthrough.pytorch[index], mine[index]
        assert theirs["diffgram_file"].id == expected["diffgram_file"].id
        np.testing.assert_array_equal(boxes(theirs), boxes(expected))
        assert list(theirs["label_id_list"]) == list(expected["label_id_list"])
        objects = [i for i in theirs["raw_instance_list"] if i["type"] == "box"]
        keypoints = expected["keypoints"].numpy()
        for row, instance in enumerate(objects):
            if instance["nodes"]:
                nodes = np.array([[n["x"], n["y"], n["visibility"]] for n in instance["nodes"]], dtype=np.float32)
                np.testing.assert_array_equal(nodes, keypoints[row, : len(nodes)])
            if instance["sluice_kind"] in ("polygon", "keypoints") and instance["sluice_geometry"].get("polygon"):
                ring = instance["sluice_geometry"]["polygon"][0]
                assert [(p["x"], p["y"]) for p in instance["points"]] == list(zip(ring[0::2], ring[1::2]))


def test_iteration_visits_every_file_in_order(walkthrough, ours):
    ids = [sample["diffgram_file"].id for sample in walkthrough.dataset]
    assert ids == [ours[i]["file"]["id"] for i in range(len(ours))]


def test_slices_select_the_same_files(walkthrough, ours, private_server):
    cats = ours.slice("labels.cat > 0")
    assert len(cats) > 0
    assert walkthrough.sliced.file_id_list == [cats[i]["file"]["id"] for i in range(len(cats))]
    people = walkthrough.dataset.slice("labels.person > 1")
    mine = ours.slice("labels.person > 1")
    assert people.file_id_list == [mine[i]["file"]["id"] for i in range(len(mine))]


def test_bad_queries_raise_with_the_position(walkthrough):
    with pytest.raises(Exception, match=r"bad query at column 8: .*persn.*did you mean 'person'"):
        walkthrough.dataset.slice("labels.persn > 0")


def test_to_tensorflow_examples(walkthrough, ours):
    tf_dataset = walkthrough.dataset.to_tensorflow()
    example = tf_dataset[0]
    features = example.features.feature
    mine = ours.to_pytorch()[0]
    assert list(features["image/object/class/label"].int64_list.value) == list(mine["label_id_list"])
    np.testing.assert_allclose(features["image/object/bbox/xmin"].float_list.value, mine["x_min_list"].numpy())


def test_without_a_key_the_private_project_is_refused(private_server):
    url = private_server[0]
    with pytest.raises(Exception, match="401|[Ii]nvalid|private"):
        diffgram.Project(project_string_id="coco-dataset", host=url)


def test_a_wrong_key_is_refused(private_server):
    url = private_server[0]
    with pytest.raises(Exception, match="401"):
        diffgram.Project(project_string_id="coco-dataset", host=url, client_id="sk-nobody", client_secret="x")


def test_public_project_needs_no_key(server):
    project = diffgram.Project(project_string_id="coco-dataset", host=server)
    dataset = project.directory.get(name="Default")
    ours = sluice.Project("coco-dataset", host=server).directory.get(name="Default")
    assert len(dataset) == len(ours)
    assert dataset[7]["diffgram_file"].id == ours[7]["file"]["id"]


def test_extreme_pages_of_list_files_are_answered(server):
    """A page or limit near Int64.max once overflowed and stopped the server."""
    import requests
    url = f"{server}/api/project/coco-dataset/user/sdk/file/list"
    for metadata in [{"page": 2**62}, {"page": 2**63 - 1, "limit": 2**63 - 1},
                     {"file_view_mode": "ids_only", "limit": 2**63 - 1},
                     {"file_view_mode": "ids_only", "page": 2**62, "limit": 2**40}]:
        reply = requests.post(url, json={"metadata": metadata}, timeout=10)
        assert reply.status_code == 200, (metadata, reply.text)
        if metadata.get("page") == 2**62:  # exact as a JSON double: a page far past the end
            assert reply.json()["file_list"] == []
    assert requests.get(f"{server}/healthz", timeout=10).status_code == 200
