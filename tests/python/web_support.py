"""Helpers of tests/python/test_web.py: a store with the projects the browser tests need, and
a small API client."""

from __future__ import annotations

import contextlib
import json
import os
import re
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

import requests

from conftest import FIXTURES, ROOT, serving, sluice_bin
from cvat_oracle import write_cvat_video_set

SAMPLE = [
    ("val2017-persons/person_keypoints_val2017.json", "val2017-persons/images"),
    ("crowdpose/test_crowdpose.json", "crowdpose"),
    ("ochuman/test_ochuman.json", "ochuman"),
]
PERSONS = SAMPLE[0]
LARGE = 20_000
VIDEO_FRAMES = 25
TEXTS = [
    {"id": 1, "text": "Zoë met Анна in Köln 🎉, then Anna left.",
     "label": [[0, 3, "PER"], [8, 12, "PER"], [16, 20, "LOC"], [8, 20, "EVENT"], [29, 33, "PER"]]},
    {"id": 2, "text": "Great food, slow service.", "label": ["positive"]},
    {"id": 3, "text": "Ada works at IBM.",
     "entities": [{"id": 10, "label": "PER", "start_offset": 0, "end_offset": 3},
                  {"id": 11, "label": "ORG", "start_offset": 13, "end_offset": 16}],
     "relations": [{"id": 1, "from_id": 10, "to_id": 11, "type": "works_at"}]},
]


def frame_colour(n: int) -> tuple[int, int, int]:
    """The colour of frame n of the test video: every frame its own, far from its neighbours."""
    return (n * 37) % 200 + 28, (n * 91) % 200 + 28, (n * 53) % 200 + 28


def make_coloured_video(path: Path, frames: int, width: int = 64, height: int = 48) -> None:
    """A video whose frame n is filled with frame_colour(n), made by Debian's ffmpeg, so a
    picture shows which frame it is."""
    r, g, b = (f"mod(N*{k},200)+28" for k in (37, 91, 53))
    subprocess.run(
        ["ffmpeg", "-loglevel", "error", "-y", "-f", "lavfi", "-i", f"nullsrc=size={width}x{height}:rate=25",
         "-vf", f"format=gbrp,geq=r='{r}':g='{g}':b='{b}'", "-frames:v", str(frames), "-pix_fmt", "yuv420p",
         "-c:v", "libx264", "-qp", "0", str(path)], check=True, timeout=120)


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
    # media/clips: CVAT's video of cvat_oracle (tracks with gaps and interpolation) over a
    # video whose frames tell themselves apart; media/texts: Doccano spans, overlapping ones too.
    clips = write_cvat_video_set(tmp / "clips", dense=False, frames=VIDEO_FRAMES)
    make_coloured_video(clips / "clip.mp4", VIDEO_FRAMES)
    run("import", "cvat", str(clips), "--project", "media", "--dataset", "clips", "--data", str(data))
    texts = tmp / "texts.jsonl"
    texts.write_text("".join(json.dumps(d, ensure_ascii=False) + "\n" for d in TEXTS), encoding="utf-8")
    run("import", "doccano", str(texts), "--project", "media", "--dataset", "texts", "--data", str(data))
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
