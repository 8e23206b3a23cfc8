"""`sluice backup` of a live store while a burst of writes goes on, and `sluice restore`
(issue 18): the restored store streams exactly what the original streams pinned at the
version the backup captured; a damaged backup and an occupied directory are refused by name."""

from __future__ import annotations

import re
import subprocess
import threading
from pathlib import Path

import requests

import sluice
from conftest import FIXTURES, serving, sluice_bin

PERSONS = FIXTURES / "val2017-persons"


def run(*args: str, check: bool = True) -> subprocess.CompletedProcess:
    return subprocess.run([sluice_bin(), *map(str, args)], capture_output=True, text=True, check=check)


def key_of(output: str) -> str:
    return re.search(r"^api_key: (\S+)$", output, re.M).group(1)


def import_sample(data: Path, project: str) -> None:
    run("import", "coco", PERSONS / "person_keypoints_val2017.json", "--project", project, "--dataset", "Default",
        "--images", PERSONS / "images", "--data", data)


def dataset_of(url: str, project: str) -> dict:
    found = requests.get(f"{url}/api/v1/projects/{project}/datasets", params={"name": "Default"})
    found.raise_for_status()
    return found.json()[0]


def ndjson(url: str, dataset_id: int, version: int | None = None) -> bytes:
    params = {"format": "ndjson"} | ({"version": str(version)} if version is not None else {})
    response = requests.get(f"{url}/api/v1/datasets/{dataset_id}/stream", params=params)
    response.raise_for_status()
    return response.content


def test_a_backup_taken_during_writes_restores_to_one_version_of_the_store(tmp_path: Path) -> None:
    data, out, restored = tmp_path / "data", tmp_path / "backup", tmp_path / "restored"
    import_sample(data, "live")
    admin = key_of(run("keys", "create", "--server-admin", "--data", data).stdout)
    photos = sorted((PERSONS / "images").glob("*.jpg"))
    with serving(data) as url:
        editor = key_of(run("keys", "create", "--project", "live", "--role", "editor", "--host", url,
                            "--api-key", admin).stdout)
        project = sluice.Project("live", host=url, api_key=editor)
        ds = project.directory.get(name="Default")
        file_ids = [item["file"]["id"] for item in ds]
        started, backed_up = threading.Event(), threading.Event()
        errors: list[BaseException] = []
        writes = 0

        def burst() -> None:
            # Writes until ten more have landed after the backup ended, so the original moves
            # on past the version the backup holds.
            nonlocal writes
            after = 0
            try:
                while after < 10:
                    step = writes
                    if step % 4 == 3:
                        ds.append([{"name": f"burst-{step}.jpg", "media": photos[step % len(photos)],
                                    "instances": [{"label": "person", "kind": "box", "bbox": [1, 1, 20, 30]}]}])
                    else:
                        project.replace_instances(file_ids[step % len(file_ids)], [
                            {"label": "person", "kind": "box", "bbox": [step % 50, 2, step % 50 + 10, 40]}])
                    writes += 1
                    if writes >= 10:
                        started.set()
                    if backed_up.is_set():
                        after += 1
            except BaseException as error:  # noqa: BLE001 - handed to the test thread
                errors.append(error)
                started.set()

        writer = threading.Thread(target=burst)
        writer.start()
        started.wait()
        before = writes
        backup = run("backup", "--data", data, out, check=False)
        during = writes - before
        backed_up.set()
        writer.join()
        assert errors == []
        assert backup.returncode == 0, backup.stderr
        assert "backing up media" in backup.stderr and "ETA" in backup.stderr, "progress with count, rate and ETA"
        summary = re.search(r"backed up (\d+) files, (\d+) media .* (\d+) bytes .* in [\d.]+ s", backup.stderr)
        assert summary and int(summary.group(2)) > 0
        print(f"writes while the backup ran: {during}")

        restore = run("restore", out, "--data", restored)
        assert re.search(r"restored \d+ files, \d+ media", restore.stderr)
        original = dataset_of(url, "live")
        with serving(restored) as copy_url:
            copy = dataset_of(copy_url, "live")
            assert copy["id"] == original["id"]
            assert copy["version"] < original["version"], "the burst went on after the backup"
            streamed = ndjson(copy_url, copy["id"])
            assert streamed.count(b"\n") == copy["count"] > 0
            assert streamed == ndjson(url, original["id"], version=copy["version"])
            # Every blob the restored files name streams from the restored store.
            for item in sluice.Project("live", host=copy_url).directory.get(name="Default"):
                media = requests.get(f"{copy_url}/api/v1/files/{item['file']['id']}/media")
                assert media.status_code == 200 and media.headers["ETag"].strip('"') == item["file"]["media"]["sha256"]


def test_restore_refuses_an_altered_blob_and_occupied_directories(tmp_path: Path) -> None:
    data, out = tmp_path / "data", tmp_path / "backup"
    import_sample(data, "damaged")
    occupied = tmp_path / "occupied"
    occupied.mkdir()
    (occupied / "keep.txt").write_text("mine")
    refused = run("backup", "--data", data, occupied, check=False)
    assert refused.returncode != 0 and str(occupied) in refused.stderr and "not empty" in refused.stderr

    run("backup", "--data", data, out, "--copy")
    refused = run("restore", out, "--data", occupied, check=False)
    assert refused.returncode != 0 and str(occupied) in refused.stderr and "not empty" in refused.stderr
    assert [p.name for p in occupied.iterdir()] == ["keep.txt"]

    blob = sorted(p for p in (out / "media").rglob("*") if p.is_file())[0]
    altered = bytearray(blob.read_bytes())
    altered[len(altered) // 2] ^= 0xFF
    blob.unlink()
    blob.write_bytes(bytes(altered))
    target = tmp_path / "restored"
    bad = run("restore", out, "--data", target, check=False)
    assert bad.returncode != 0 and str(blob) in bad.stderr and "corrupt" in bad.stderr
    assert not target.exists() and list(tmp_path.glob("restored.partial-*")) == []

    blob.unlink()
    missing = run("restore", out, "--data", target, check=False)
    assert missing.returncode != 0 and blob.name in missing.stderr and "missing" in missing.stderr
    assert not target.exists()
