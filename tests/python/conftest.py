"""Fixtures for the Python tests: a real `sluice serve` on 127.0.0.1 with the sample imported."""

from __future__ import annotations

import os
import re
import subprocess
import tempfile
from pathlib import Path
from typing import Iterator

import pytest

ROOT = Path(__file__).resolve().parents[2]
FIXTURES = ROOT / "Tests" / "Fixtures" / "coco"


def sluice_bin() -> str:
    path = os.environ.get("SLUICE_BIN") or str(ROOT / ".build" / "debug" / "sluice")
    if not Path(path).exists():
        pytest.fail(f"sluice binary not found at {path}; run `swift build` first")
    return path


@pytest.fixture(scope="session")
def data_dir() -> Iterator[Path]:
    with tempfile.TemporaryDirectory(prefix="sluice-pytest-") as tmp:
        data = Path(tmp) / "data"
        for annotations, images in [
            ("val2017-persons/person_keypoints_val2017.json", "val2017-persons/images"),
            ("crowdpose/test_crowdpose.json", "crowdpose"),
            ("ochuman/test_ochuman.json", "ochuman"),
        ]:
            subprocess.run(
                [sluice_bin(), "import", "coco", str(FIXTURES / annotations), "--project", "coco-dataset",
                 "--dataset", "Default", "--images", str(FIXTURES / images), "--data", str(data)],
                check=True, capture_output=True, text=True,
            )
        yield data


@pytest.fixture(scope="session")
def server(data_dir: Path) -> Iterator[str]:
    """Base URL of a live server on a free port."""
    process = subprocess.Popen(
        [sluice_bin(), "serve", "--data", str(data_dir), "--port", "0"],
        stderr=subprocess.PIPE, stdout=subprocess.DEVNULL, text=True,
    )
    assert process.stderr is not None
    url = None
    for line in process.stderr:
        match = re.search(r"on (http://127\.0\.0\.1:\d+)", line)
        if match:
            url = match.group(1)
            break
    if url is None:
        process.kill()
        pytest.fail("sluice serve did not report its address")
    yield url
    process.terminate()
    assert process.wait(timeout=20) == 0, "graceful shutdown on SIGTERM exits 0"
