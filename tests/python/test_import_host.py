"""The folder formats through a server (`sluice import voc|yolo|labelme|cvat|doccano --host`):
the folder's files go up content-addressed with a listing of them, and the server runs the
same importer as `--data` does. What lands must be exactly what a local import of the same
folder gives; a malformed folder is refused whole, named as the client named it, with nothing
kept and nothing left of the server's copy of the tree; a stranger's listing is refused by line."""

from __future__ import annotations

import hashlib
import json
import re
import subprocess
from pathlib import Path

import pytest
import requests

from conftest import run_sluice, said, serving
from formats_oracle import FIXTURES
from cvat_oracle import write_cvat_video_set
from formats_oracle import write_labelme_json_set

DOCCANO = [
    {"id": 1, "text": "Zoë met Анна in Köln 🎉.", "label": [[0, 3, "PER"], [8, 12, "PER"], [16, 20, "LOC"]]},
    {"id": 2, "text": "Great food.", "label": ["positive"]},
]


def _doccano(root: Path) -> Path:
    path = root / "all.jsonl"
    path.write_text("".join(json.dumps(d, ensure_ascii=False) + "\n" for d in DOCCANO), encoding="utf-8")
    return path


def _voc_images_apart(tmp: Path) -> Path:
    """The VOC fixture with its JPEGImages/ moved out of the folder (imported with --images)."""
    import shutil

    root = tmp / "voc-apart"
    shutil.copytree(FIXTURES / "voc" / "datumaro-voc1", root)
    shutil.move(root / "JPEGImages", tmp / "voc-apart-images")
    return root


# name → (format, source maker, extra CLI arguments); sources are folders, or files (CVAT's
# XML with its video beside it, Doccano's JSONL).
CASES = {
    "voc": ("voc", lambda tmp: FIXTURES / "voc" / "datumaro-voc1", []),
    "voc-images-apart": ("voc", _voc_images_apart, ["--images", "{tmp}/voc-apart-images"]),
    "yolo": ("yolo", lambda tmp: FIXTURES / "yolo" / "datumaro-yolo" / "strict", []),
    "labelme-xml": ("labelme", lambda tmp: FIXTURES / "labelme-xml" / "datumaro-labelme", []),
    "labelme-json": ("labelme", lambda tmp: write_labelme_json_set(tmp / "labelme-json"), []),
    "cvat-images": ("cvat", lambda tmp: FIXTURES / "cvat" / "datumaro-images" / "export_task", []),
    "cvat-video-file": ("cvat", lambda tmp: write_cvat_video_set(tmp / "clip", dense=False) / "annotations.xml", []),
    "doccano-file": ("doccano", _doccano, []),
}

VOLATILE = {"id", "file_id", "label_id", "revision", "created_at", "updated_at", "version", "dataset_id"}


def _plain(value):
    """An item with what differs between two imports of the same folder left out: ids, revisions."""
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items() if k not in VOLATILE}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value


def _items(url: str, dataset: str, key: str) -> list | None:
    headers = {"Authorization": f"Bearer {key}"}
    found = requests.get(f"{url}/api/v1/projects/p/datasets", params={"name": dataset}, headers=headers, timeout=30).json()
    if not found:
        return None
    reply = requests.get(f"{url}/api/v1/datasets/{found[0]['id']}/items", params={"start": 0, "end": found[0]["count"]},
                         headers=headers, timeout=60)
    reply.raise_for_status()
    return reply.json()["items"]


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory):
    """A store holding each case imported locally (`--data`) as dataset `NAME-local`, served,
    with an editor key of project p."""
    tmp = tmp_path_factory.mktemp("host")
    data = tmp / "data"
    sources = {}
    for name, (format, make, extra) in CASES.items():
        source = make(tmp)
        sources[name] = source
        extra = [e.format(tmp=tmp) for e in extra]
        done = run_sluice("import", format, source, *extra, "--project", "p", "--dataset", f"{name}-local", "--data", data)
        assert done.returncode == 0, said(done)
    made = run_sluice("keys", "create", "--project", "p", "--role", "editor", "--data", data)
    key = re.search(r"^api_key: (\S+)$", made.stdout, re.M).group(1)
    with serving(data) as url:
        yield url, key, data, sources


@pytest.mark.parametrize("name", list(CASES))
def test_an_import_through_the_server_is_the_local_import(server, name: str) -> None:
    url, key, data, sources = server
    format, _, extra = CASES[name]
    extra = [e.format(tmp=data.parent) for e in extra]
    done = run_sluice("import", format, sources[name], *extra, "--project", "p", "--dataset", f"{name}-host",
                      "--host", url, "--api-key", key)
    assert done.returncode == 0, said(done)
    assert "through http://127.0.0.1" in done.stderr, said(done)
    local, host = _items(url, f"{name}-local", key), _items(url, f"{name}-host", key)
    assert local, f"{name}: the local import holds files"
    assert _plain(host) == _plain(local)
    assert not any((data / "media" / ".imports").glob("*")), "the server's copy of the tree is gone"


def test_a_malformed_folder_is_refused_whole_and_named_as_sent(server, tmp_path: Path) -> None:
    url, key, data, _ = server
    import shutil

    bad = tmp_path / "voc"
    shutil.copytree(FIXTURES / "voc" / "datumaro-voc1", bad)
    xml = sorted((bad / "Annotations").glob("*.xml"))[0]
    text = xml.read_text()
    xml.write_text(re.sub(r"<xmin>[^<]*</xmin>", "<xmin>four</xmin>", text, count=1))
    line = next(i for i, row in enumerate(xml.read_text().splitlines(), 1) if "<xmin>four" in row)
    refused = run_sluice("import", "voc", bad, "--project", "p", "--dataset", "refused", "--host", url, "--api-key", key)
    assert refused.returncode != 0, said(refused)
    assert f"Annotations/{xml.name}:{line}" in refused.stderr, said(refused)
    assert ".imports" not in refused.stderr and str(data) not in refused.stderr, "no server path in the fault"
    assert not _items(url, "refused", key), "nothing kept"
    assert not any((data / "media" / ".imports").glob("*"))


def _upload(url: str, key: str, body: bytes) -> str:
    sha = hashlib.sha256(body).hexdigest()
    reply = requests.put(f"{url}/api/v1/projects/p/media/{sha}", data=body, timeout=30,
                         headers={"Authorization": f"Bearer {key}", "Content-Type": "application/octet-stream"})
    assert reply.status_code in (200, 201), reply.text
    return sha


@pytest.mark.parametrize("listing, fault", [
    ("{held}\t../outside.xml\n", "line 1: '../outside.xml' has an empty, '.' or '..' component"),
    ("{held}\t/etc/passwd\n", "line 1: '/etc/passwd' is absolute"),
    ("{held}\ta.txt\n{held}\ta.txt\n", "line 2: 'a.txt' is listed twice"),
    ("{held}\ta\\b.txt\n", "line 1: 'a\\b.txt' holds a control character or a backslash"),
    ("{missing}\ta.txt\n", "line 1: the server holds no upload"),
    ("not a listing\n", "line 1: expected 'sha256<TAB>relative/path'"),
])
def test_a_strangers_listing_is_refused_by_line(server, listing: str, fault: str) -> None:
    url, key, _, _ = server
    held = _upload(url, key, b"some bytes\n")
    tree = _upload(url, key, listing.format(held=held, missing="0" * 64).encode())
    reply = requests.post(f"{url}/api/v1/projects/p/imports/yolo", json={"dataset": "x", "tree_sha256": tree},
                          headers={"Authorization": f"Bearer {key}"}, timeout=30)
    assert reply.status_code == 422, reply.text
    error = reply.json()["error"]
    assert error["detail"]["field"] == "tree_sha256" and fault in error["message"], error


def test_places_named_in_the_body_must_be_in_the_tree_and_taken_by_the_format(server) -> None:
    url, key, _, _ = server
    held = _upload(url, key, b"0 0.5 0.5 0.2 0.2\n")
    tree = _upload(url, key, f"{held}\tlabels/a.txt\n".encode())
    headers = {"Authorization": f"Bearer {key}"}
    for format, body, field in [("yolo", {"images": "labels"}, "images"), ("cvat", {"video": "clip.mp4"}, "video"),
                                ("voc", {"path": "../labels"}, "path"), ("nope", {}, None)]:
        reply = requests.post(f"{url}/api/v1/projects/p/imports/{format}", headers=headers, timeout=30,
                              json={"dataset": "x", "tree_sha256": tree, **body})
        if field is None:
            assert reply.status_code == 404, reply.text
            continue
        assert reply.status_code == 422, reply.text
        assert reply.json()["error"]["detail"]["field"] == field
    anonymous = requests.post(f"{url}/api/v1/projects/p/imports/yolo", json={"dataset": "x", "tree_sha256": tree}, timeout=30)
    assert anonymous.status_code == 401


# A locally imported dataset → the folder formats it exports to. cvat-video-file's video comes
# from /files/{id}/media (a stream carries no video bytes); doccano's texts from the stream.
EXPORTS = [("voc", "voc"), ("voc", "yolo"), ("yolo", "yolo-ultralytics"), ("labelme-xml", "labelme-xml"),
           ("labelme-json", "labelme"), ("cvat-images", "cvat"), ("cvat-video-file", "cvat"), ("doccano-file", "doccano")]


def _tree(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def _export_both_ways(url: str, key: str, data: Path, out: Path, *args: object) -> tuple[dict, dict]:
    local = run_sluice("export", *args, "--data", data, out / "local")
    assert local.returncode == 0, said(local)
    host = run_sluice("export", *args, "--host", url, "--api-key", key, out / "host")
    assert host.returncode == 0, said(host)
    assert host.stderr.strip().splitlines()[-1].startswith("exported "), said(host)
    assert sorted(p.name for p in out.iterdir()) == ["host", "local"], "no .partial or scratch media left"
    return _tree(out / "local"), _tree(out / "host")


@pytest.mark.parametrize("name, format", EXPORTS)
def test_a_folder_export_through_the_server_is_the_local_export(server, tmp_path: Path, name: str, format: str) -> None:
    url, key, data, _ = server
    local, host = _export_both_ways(url, key, data, tmp_path, "--project", "p", "--dataset", f"{name}-local",
                                    "--format", format)
    assert any(not path.endswith((".xml", ".json", ".txt", ".jsonl", ".yaml", ".names", ".data")) for path in local) \
        or format == "doccano", f"{format}: the export holds media: {sorted(local)}"
    assert host == local


def test_a_pinned_slice_exports_through_the_server_as_it_was(server, tmp_path: Path) -> None:
    """A slice of a snapshot: the files and the label names of then, through either door."""
    url, key, data, _ = server
    headers = {"Authorization": f"Bearer {key}"}
    dataset = requests.get(f"{url}/api/v1/projects/p/datasets", params={"name": "voc-local"}, headers=headers,
                           timeout=30).json()[0]
    made = requests.post(f"{url}/api/v1/datasets/{dataset['id']}/snapshots", json={"name": "before-rename"},
                         headers=headers, timeout=30)
    assert made.status_code == 201, made.text
    cat = next(label for label in requests.get(f"{url}/api/v1/projects/p/labels", headers=headers, timeout=30).json()
               if label["name"] == "cat")
    renamed = requests.patch(f"{url}/api/v1/projects/p/labels/{cat['id']}", json={"name": "feline"}, headers=headers,
                             timeout=30)
    assert renamed.status_code == 200, renamed.text
    try:
        args = ("--project", "p", "--dataset", "voc-local", "--format", "voc", "--version", "before-rename",
                "--query", "labels.person > 0")
        local, host = _export_both_ways(url, key, data, tmp_path / "pinned", *args)
        assert host == local
        annotations = [path for path in local if path.startswith("Annotations/")]
        assert len(annotations) == 1, "the slice holds the one image with a person"
        assert b"cat:" in local["labelmap.txt"] and b"feline" not in local["labelmap.txt"], "named as then"
        now_local, now_host = _export_both_ways(url, key, data, tmp_path / "now", "--project", "p", "--dataset",
                                                "voc-local", "--format", "voc")
        assert now_host == now_local and b"feline:" in now_local["labelmap.txt"]
    finally:
        requests.patch(f"{url}/api/v1/projects/p/labels/{cat['id']}", json={"name": "cat"}, headers=headers, timeout=30)


@pytest.mark.parametrize("params, status, parameter", [
    ({"version": "1"}, 422, "dataset"),
    ({"dataset": "1"}, 422, "version"),
    ({"dataset": "one", "version": "1"}, 400, "dataset"),
    ({"dataset": "999999", "version": "1"}, 422, "dataset"),
])
def test_labels_at_a_version_name_what_they_lack(server, params: dict, status: int, parameter: str) -> None:
    url, key, _, _ = server
    reply = requests.get(f"{url}/api/v1/projects/p/labels", params=params, headers={"Authorization": f"Bearer {key}"},
                         timeout=30)
    assert reply.status_code == status, reply.text
    assert reply.json()["error"]["detail"]["parameter"] == parameter
