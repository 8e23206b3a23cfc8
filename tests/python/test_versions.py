"""Snapshots and diffs from the command line: `sluice snapshot create`, `sluice diff`,
`sluice export --version`, on a real embedded store and through a live server."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest
import requests

from conftest import FIXTURES, serving, sluice_bin


def run(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sluice_bin(), *args], check=True, capture_output=True, text=True)


def test_a_snapshot_exports_and_diffs_the_same_forever(tmp_path: Path) -> None:
    data = str(tmp_path / "data")
    first = FIXTURES / "val2017-persons/person_keypoints_val2017.json"
    run("import", "coco", str(first), "--project", "p", "--dataset", "D", "--data", data)
    assert run("snapshot", "create", "--project", "p", "--dataset", "D", "--name", "v1", "--data", data).stdout.startswith("v1\t")
    before = tmp_path / "before.json"
    run("export", "--project", "p", "--dataset", "D", "--format", "coco", "--data", data, str(before))

    run("import", "coco", str(FIXTURES / "ochuman/test_ochuman.json"), "--project", "p", "--dataset", "D", "--data", data)
    pinned = tmp_path / "pinned.json"
    run("export", "--project", "p", "--dataset", "D", "--format", "coco", "--version", "v1", "--data", data, str(pinned))
    assert pinned.read_bytes() == before.read_bytes()

    lines = [json.loads(line) for line in run("diff", "--project", "p", "D@v1", "D", "--data", data).stdout.splitlines()]
    ochuman = json.loads((FIXTURES / "ochuman/test_ochuman.json").read_text())
    assert [e["position"] for e in lines if e["kind"] == "file_added"] == [4, 5, 6]
    assert sum(e["kind"] == "instance_added" for e in lines) == len(ochuman["annotations"])
    assert {e["kind"] for e in lines} == {"file_added", "instance_added"}

    with serving(Path(data)) as url:
        dataset = requests.get(f"{url}/api/v1/projects/p/datasets", params={"name": "D"}, timeout=10).json()[0]
        assert requests.get(f"{url}/api/v1/datasets/{dataset['id']}/count", params={"version": "v1"}, timeout=10).json() == {"count": 4}
        over_http = run("diff", "--project", "p", "D@v1", "D", "--host", url).stdout.splitlines()
        assert [json.loads(line) for line in over_http] == lines
        snapshots = run("snapshot", "list", "--project", "p", "--dataset", "D", "--host", url).stdout
        assert snapshots.startswith("v1\t")


def test_an_unknown_version_fails_with_one_line(tmp_path: Path) -> None:
    data = str(tmp_path / "data")
    run("import", "coco", str(FIXTURES / "ochuman/test_ochuman.json"), "--project", "p", "--dataset", "D", "--data", data)
    done = subprocess.run(
        [sluice_bin(), "export", "--project", "p", "--dataset", "D", "--format", "coco", "--version", "nope",
         "--data", data, str(tmp_path / "x.json")],
        capture_output=True, text=True,
    )
    assert done.returncode != 0
    assert len(done.stderr.strip().splitlines()) == 1 and "nope" in done.stderr


def test_a_pinned_version_reads_the_same_in_python_and_in_sluice_stream(tmp_path: Path) -> None:
    from sluice import Project, SluiceError

    data = str(tmp_path / "data")
    run("import", "coco", str(FIXTURES / "val2017-persons/person_keypoints_val2017.json"),
        "--project", "p", "--dataset", "D", "--data", data)
    run("snapshot", "create", "--project", "p", "--dataset", "D", "--name", "v1", "--data", data)
    with serving(Path(data)) as url:
        ds = Project("p", host=url).directory.get(name="D")
        before = [ds[i] for i in range(len(ds))]
        slice_before = [r.position for r in ds.slice("file.width >= 600").records()]
        version = ds.info["version"]
    run("import", "coco", str(FIXTURES / "ochuman/test_ochuman.json"), "--project", "p", "--dataset", "D", "--data", data)
    with serving(Path(data)) as url:
        ds = Project("p", host=url).directory.get(name="D")
        assert len(ds) == len(before) + 3
        assert len(ds.slice("file.width >= 600")) > len(slice_before), "the slice now holds more than at v1"
        for v1 in (ds.at("v1"), ds.at(version)):
            assert len(v1) == len(before) and v1.pinned_version == version
            assert [v1[i] for i in range(len(v1))] == before
            assert list(v1) == before
            with pytest.raises(IndexError):
                v1[len(before)]
            # Records, epochs (their tokens carry the pin) and slices read the version too.
            assert [r.metadata["name"] for r in v1.records()] == [item["file"]["name"] for item in before]
            epoch = v1.epoch().shuffled(3)
            assert epoch.state.pinned and sorted(r.position for r in epoch.records()) == list(range(len(before)))
            pinned_slice = v1.slice("file.width >= 600")
            assert len(pinned_slice) == len(slice_before) > 0
            assert [r.position for r in pinned_slice.records()] == slice_before
            assert len(v1.to_pytorch()) == len(before)
        with pytest.raises(SluiceError) as error:
            ds.at("nope")
        assert error.value.code == "not_found" and "nope" in str(error.value)

        streamed = run("stream", "--project", "p", "--dataset", "D", "--version", "v1", "--output", "ndjson",
                       "--host", url).stdout.splitlines()
        assert [json.loads(line)["file"]["id"] for line in streamed] == [item["file"]["id"] for item in before]
        assert len(run("stream", "--project", "p", "--dataset", "D", "--output", "ndjson",
                       "--host", url).stdout.splitlines()) == len(before) + 3
