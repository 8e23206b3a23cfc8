"""Fixtures for the Python tests: a real `sluice serve` on 127.0.0.1 with the sample imported."""

from __future__ import annotations

import contextlib
import os
import re
import subprocess
import tempfile
import threading
import types
import sys
from pathlib import Path
from typing import Iterator

import pytest

# The torchvision wheel on PyPI is linked against CUDA torch: with the CPU torch of
# /opt/wheels its C ops (nms, roi_align) do not load, and registering their fake kernels
# fails at import. The tests use only its pure-Python parts (CocoDetection, transforms), so
# that registration module is left out.
sys.modules.setdefault("torchvision._meta_registrations", types.ModuleType("torchvision._meta_registrations"))

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


@contextlib.contextmanager
def serving(data: Path) -> Iterator[str]:
    """Base URL of a live `sluice serve` on a free port over `data`, stopped on exit."""
    process = subprocess.Popen(
        [sluice_bin(), "serve", "--data", str(data), "--port", "0"],
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
    # Keep reading the log so a chatty server never blocks on a full pipe.
    threading.Thread(target=lambda: process.stderr.read(), daemon=True).start()
    try:
        yield url
    finally:
        process.terminate()
        assert process.wait(timeout=20) == 0, "graceful shutdown on SIGTERM exits 0"


@pytest.fixture(scope="session")
def server(data_dir: Path) -> Iterator[str]:
    """Base URL of a live server on a free port, with the sample in coco-dataset/Default."""
    with serving(data_dir) as url:
        yield url


#: Every shared COCO fixture: (annotations, images), relative to Tests/Fixtures/coco.
COCO_SETS = [
    ("val2017-persons/person_keypoints_val2017.json", "val2017-persons/images"),
    ("crowdpose/test_crowdpose.json", "crowdpose"),
    ("ochuman/test_ochuman.json", "ochuman"),
    ("datumaro-instances/annotations/instances_train.json", "datumaro-instances/images/train"),
    ("datumaro-instances/annotations/instances_val.json", "datumaro-instances/images/val"),
    ("datumaro-keypoints/annotations/person_keypoints_train.json", "datumaro-keypoints/images/train"),
    ("datumaro-keypoints/annotations/person_keypoints_val.json", "datumaro-keypoints/images/val"),
    ("datumaro-labels/annotations/labels_train.json", "datumaro-labels/images/train"),
    ("datumaro-labels/annotations/labels_val.json", "datumaro-labels/images/val"),
    ("datumaro-captions/annotations/captions_train.json", "datumaro-captions/images/train"),
    ("datumaro-captions/annotations/captions_val.json", "datumaro-captions/images/val"),
    ("datumaro-roboflow/train/_annotations.coco.json", "datumaro-roboflow/train"),
    ("datumaro-roboflow/val/_annotations.coco.json", "datumaro-roboflow/val"),
]


@pytest.fixture(scope="session")
def fixtures_server() -> Iterator[tuple]:
    """(base URL, [(project id, annotations path, images dir)]): each COCO fixture imported into
    a project of its own (`fixture-0`, `fixture-1`, …), dataset `Default`."""
    with tempfile.TemporaryDirectory(prefix="sluice-pytest-fixtures-") as tmp:
        data = Path(tmp) / "data"
        sets = []
        for index, (annotations, images) in enumerate(COCO_SETS):
            project = f"fixture-{index}"
            subprocess.run(
                [sluice_bin(), "import", "coco", str(FIXTURES / annotations), "--project", project,
                 "--dataset", "Default", "--images", str(FIXTURES / images), "--data", str(data)],
                check=True, capture_output=True, text=True,
            )
            sets.append((project, FIXTURES / annotations, FIXTURES / images))
        with serving(data) as url:
            yield url, sets


class Server:
    """A `sluice serve` process on a free port over `data`, its request log (standard output)
    collected line by line; for tests that signal or kill the server themselves."""

    def __init__(self, data: Path | None, *args: str) -> None:
        """Over the embedded store in `data`, or with `data` None over the store `args` name
        (`--postgres URL --media DIR`)."""
        store = ["--data", str(data)] if data is not None else []
        self.process = subprocess.Popen(
            [sluice_bin(), "serve", *store, "--port", "0", *args],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        self.url = ""
        for line in self.process.stderr:
            match = re.search(r"on (http://127\.0\.0\.1:\d+)", line)
            if match:
                self.url = match.group(1)
                break
        assert self.url, "sluice serve reported its address"
        self.log: list[str] = []
        threading.Thread(target=lambda: self.process.stderr.read(), daemon=True).start()
        self._collector = threading.Thread(target=self._collect, daemon=True)
        self._collector.start()

    def _collect(self) -> None:
        for line in self.process.stdout:
            self.log.append(line)

    def metrics(self) -> dict:
        """{(sample name, sorted labels): value} of one scrape, read by Prometheus' parser."""
        import requests
        from prometheus_client.parser import text_string_to_metric_families

        text = requests.get(f"{self.url}/metrics").text
        return {(sample.name, tuple(sorted(sample.labels.items()))): sample.value
                for family in text_string_to_metric_families(text) for sample in family.samples}

    def stop(self) -> int:
        self.process.terminate()
        code = self.process.wait(timeout=60)
        self._collector.join(timeout=10)
        return code

    def kill(self) -> None:
        """`kill -9`: no shutdown of any kind."""
        self.process.kill()
        self.process.wait(timeout=60)
        self._collector.join(timeout=10)


# The CLI run as the format tests run it: output captured, a failure described whole.
def run_sluice(*args: object) -> subprocess.CompletedProcess:
    return subprocess.run([sluice_bin(), *map(str, args)], capture_output=True, text=True, timeout=600)


def said(process: subprocess.CompletedProcess | None) -> str:
    if process is None:
        return "(not run)"
    return f"exit {process.returncode}\n--- stderr\n{process.stderr[-3000:]}\n--- stdout\n{process.stdout[-1000:]}"


def assert_frames_are_the_records(ds) -> int:
    """Every position of `ds` read as tensor frames equals the safetensors record of it: the
    same metadata, tensors (dtype, shape, values), image bytes and sample. Returns how many
    positions held instances, so a caller can hold the data to what it meant to cover."""
    from sluice.frames import FrameRecord
    from sluice.records import OrderReader, Record
    from sluice.sample import make_sample
    import numpy as np

    framed = OrderReader(ds.connection, ds.route, ds._pin)
    plain = OrderReader(ds.connection, ds.route, ds._pin)
    plain.frames = False
    frames = list(framed.read(0, len(ds)))
    records = list(plain.read(0, len(ds)))
    assert frames and len(frames) == len(records)
    assert all(isinstance(f, FrameRecord) for f in frames) and all(isinstance(r, Record) for r in records)
    with_instances = 0
    for frame, record in zip(frames, records):
        assert (frame.position, frame.removed) == (record.position, record.removed)
        assert frame.metadata == record.metadata, record.position
        assert sorted(frame.tensors) == sorted(record.tensors), record.position
        for name, expected in record.tensors.items():
            got = frame.tensors[name]
            assert (got.dtype, got.shape) == (expected.dtype, expected.shape), (record.position, name)
            assert np.array_equal(got, expected), (record.position, name)
        assert frame.image_bytes == record.image_bytes
        if record.removed:
            continue
        with_instances += len(record.tensors["labels"]) > 0
        a, b = make_sample(frame), make_sample(record)
        assert sorted(a) == sorted(b)
        for key, value in b.items():
            if isinstance(value, np.ndarray):
                assert np.array_equal(a[key], value) and a[key].dtype == value.dtype, key
            elif key != "image":
                assert a[key] == value, key
    return with_instances
