"""Helpers of tests/python/test_web.py: a store with the projects the browser tests need, and
a small API client."""

from __future__ import annotations

import contextlib
import os
import re
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

import requests

from conftest import FIXTURES, ROOT, serving, sluice_bin

SAMPLE = [
    ("val2017-persons/person_keypoints_val2017.json", "val2017-persons/images"),
    ("crowdpose/test_crowdpose.json", "crowdpose"),
    ("ochuman/test_ochuman.json", "ochuman"),
]
PERSONS = SAMPLE[0]
LARGE = 20_000


def run(*args: str) -> str:
    return subprocess.run([sluice_bin(), *args], check=True, capture_output=True, text=True).stdout


def key_of(output: str) -> str:
    return re.search(r"^api_key: (\S+)$", output, re.M).group(1)


def import_coco(data: Path, project: str, dataset: str, annotations: Path, images: Path | None) -> None:
    args = ["import", "coco", str(annotations), "--project", project, "--dataset", dataset, "--data", str(data)]
    run(*args, *(["--images", str(images)] if images else []))


@dataclass
class Site:
    url: str
    editor: str   # editor key of project "writable"
    viewer: str   # viewer key of the private project "secret"

    def get(self, path: str, key: str = "", **params) -> dict:
        reply = requests.get(f"{self.url}/api/v1{path}", params=params,
                             headers={"Authorization": f"Bearer {key}"} if key else {}, timeout=30)
        reply.raise_for_status()
        return reply.json()

    def post(self, path: str, body: dict, key: str = "") -> requests.Response:
        return requests.post(f"{self.url}/api/v1{path}", json=body, timeout=30,
                             headers={"Authorization": f"Bearer {key}"} if key else {})

    def dataset(self, project: str, name: str = "Default", key: str = "") -> dict:
        return self.get(f"/projects/{project}/datasets", key, name=name)[0]


@contextlib.contextmanager
def site(tmp: Path) -> Iterator[Site]:
    """A server over a store holding: coco-dataset/Default (the 9-photo sample, never written
    by the tests), writable/Default (the persons set, for versions and live writes), the
    private project secret/Default, and big/Default (20,000 synthetic files, no media)."""
    data = tmp / "data"
    for annotations, images in SAMPLE:
        import_coco(data, "coco-dataset", "Default", FIXTURES / annotations, FIXTURES / images)
    for project in ("writable", "secret"):
        import_coco(data, project, "Default", FIXTURES / PERSONS[0], FIXTURES / PERSONS[1])
    generated = tmp / "generated"
    run("generate", "--files", str(LARGE), "--instances-per-file", "2", "--labels", "5", "--out", str(generated))
    big = next(generated.rglob("*.json"))
    import_coco(data, "big", "Default", big, None)
    run("project", "set-private", "secret", "--data", str(data))
    viewer = key_of(run("keys", "create", "--project", "secret", "--role", "viewer", "--data", str(data)))
    editor = key_of(run("keys", "create", "--project", "writable", "--role", "editor", "--data", str(data)))
    # The server serves the copy of Web/ built into it; SLUICE_TEST_WEB_ROOT (development
    # only) points it at a directory instead.
    saved = os.environ.pop("SLUICE_WEB_ROOT", None)
    if os.environ.get("SLUICE_TEST_WEB_ROOT"):
        os.environ["SLUICE_WEB_ROOT"] = os.environ["SLUICE_TEST_WEB_ROOT"]
    try:
        with serving(data) as url:
            yield Site(url, editor, viewer)
    finally:
        os.environ.pop("SLUICE_WEB_ROOT", None)
        if saved is not None:
            os.environ["SLUICE_WEB_ROOT"] = saved


def screenshots() -> Path:
    path = Path(os.environ.get("SLUICE_SCREENSHOTS") or ROOT / ".artifacts" / "screenshots")
    path.mkdir(parents=True, exist_ok=True)
    return path
