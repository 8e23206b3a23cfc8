"""Dataset tags and Diffgram's query forms (issue 20), against a live `sluice serve`: the
Python package's tag calls, the `sluice tag` commands (through the server and on the embedded
store), and slices that test tags or use Diffgram's spellings."""

from __future__ import annotations

import re
import subprocess
import tempfile
from pathlib import Path
from typing import Iterator

import pytest

import sluice
from conftest import FIXTURES, serving, sluice_bin


def run(*args: str, check: bool = True) -> subprocess.CompletedProcess:
    return subprocess.run([sluice_bin(), *args], capture_output=True, text=True, check=check, timeout=120)


@pytest.fixture(scope="module")
def tagged_server() -> Iterator[tuple]:
    """(URL, editor key): the sample in coco-dataset/Default, tagged `train` on the embedded
    store before the server starts, and a second dataset `Other` made by the server."""
    with tempfile.TemporaryDirectory(prefix="sluice-pytest-tags-") as tmp:
        data = Path(tmp) / "data"
        run("import", "coco", str(FIXTURES / "val2017-persons/person_keypoints_val2017.json"), "--project",
            "coco-dataset", "--dataset", "Default", "--images", str(FIXTURES / "val2017-persons/images"), "--data", str(data))
        added = run("tag", "add", "train", "--project", "coco-dataset", "--dataset", "Default", "--data", str(data))
        assert added.stdout.splitlines() == ["train"]
        editor = re.search(r"^api_key: (\S+)$", run("keys", "create", "--project", "coco-dataset", "--role", "editor",
                                                      "--data", str(data)).stdout, re.M).group(1)
        with serving(data) as url:
            yield url, editor


def test_tags_through_the_package(tagged_server) -> None:
    url, editor = tagged_server
    ds = sluice.Project("coco-dataset", host=url, api_key=editor).directory.get(name="Default")
    assert ds.tags() == ["train"]
    assert ds.add_tags("reviewed", "a/b c") == ["a/b c", "reviewed", "train"]
    assert ds.remove_tag("a/b c") == ["reviewed", "train"]
    with pytest.raises(sluice.SluiceError) as refused:
        ds.add_tags("ok", "bad\tname")
    assert refused.value.status == 422 and refused.value.detail["field"] == "tags[1]"
    with pytest.raises(sluice.SluiceError) as missing:
        ds.remove_tag("never")
    assert missing.value.status == 404
    reader = sluice.Project("coco-dataset", host=url).directory.get(name="Default")
    with pytest.raises(sluice.SluiceError) as anonymous:
        reader.add_tags("x")
    assert anonymous.value.status == 401, "writing tags needs a key"
    assert reader.tags() == ["reviewed", "train"], "reading them does not, on a public project"
    ds.remove_tag("reviewed")


def test_slices_follow_tag_changes(tagged_server) -> None:
    url, editor = tagged_server
    ds = sluice.Project("coco-dataset", host=url, api_key=editor).directory.get(name="Default")
    tagged = ds.slice("dataset_tag.tag in ['gold']")
    assert tagged.query == "dataset_tag.tag in ['gold']" and len(tagged) == 0
    assert tagged.info["query"] == 'dataset.tag in ["gold"]', "the server answers with the canonical spelling"
    ds.add_tags("gold")
    assert len(ds.slice("dataset.tag = 'gold'")) == len(ds), "a tag write recomputes the slice; no version moved"
    ds.remove_tag("gold")
    assert len(ds.slice("dataset_tag.tag in ['gold']")) == 0


def test_diffgram_spellings_select_what_sluices_do(tagged_server) -> None:
    url, _ = tagged_server
    ds = sluice.Project("coco-dataset", host=url).directory.get(name="Default")
    for diffgram, canonical in [
        ("2 < labels.person", "labels.person > 2"),
        ("file.coco_id > 0", "file.metadata.coco_id > 0"),
        (f"dataset.id = {ds.dataset_id}", f"dataset.id = {ds.dataset_id}"),
        ("dataset_tag.tag = 'train' and 1 >= labels.person", 'dataset.tag = "train" and labels.person <= 1'),
    ]:
        written, sluiced = ds.slice(diffgram), ds.slice(canonical)
        assert written.info["query"] == canonical
        assert written.info["id"] == sluiced.info["id"], diffgram
        assert [item["file"]["id"] for item in written] == [item["file"]["id"] for item in sluiced]


def test_tag_commands_through_the_server(tagged_server) -> None:
    url, editor = tagged_server
    where = ["--project", "coco-dataset", "--dataset", "Default", "--host", url, "--api-key", editor]
    assert run("tag", "add", "night", "reviewed", *where).stdout.splitlines() == ["night", "reviewed", "train"]
    assert run("tag", "list", *where).stdout.splitlines() == ["night", "reviewed", "train"]
    assert run("tag", "remove", "night", *where).stdout.splitlines() == ["reviewed", "train"]
    counted = run("query", "dataset_tag.tag in ['reviewed']", "--count", "--project", "coco-dataset",
                  "--dataset", "Default", "--host", url)
    assert int(counted.stdout) == len(sluice.Project("coco-dataset", host=url).directory.get(name="Default"))
    run("tag", "remove", "reviewed", *where)
    bad = run("tag", "add", "x" * 257, *where, check=False)
    assert bad.returncode != 0
    lines = [line for line in bad.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and "tags[0]" in lines[0], bad.stderr
    gone = run("tag", "remove", "never", *where, check=False)
    assert gone.returncode != 0 and "never" in gone.stderr
