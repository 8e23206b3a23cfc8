"""Tensor records between Swift and the Python `safetensors` library, both directions.

Swift → Python: the server's tensor stream (written by `ItemTensors` in Swift) is read here by
`safetensors.numpy.load`, the reference reader. Python → Swift: `python-made.safetensors`
is written by `safetensors.numpy.save`; `SluiceTensorsTests` decodes it, and the test below
holds the committed file equal to what the library writes now.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np
import pytest
import safetensors.numpy
from sluice import Project, Record
from sluice.records import split_records

from conftest import ROOT

PYTHON_MADE = ROOT / "Tests" / "SluiceTensorsTests" / "Data" / "python-made.safetensors"


def python_made_inputs() -> tuple:
    tensors = {
        "boxes": np.array([[1.5, 2.25, 10.0, 20.0], [0.0, 0.0, 640.0, 480.0]], dtype=np.float32),
        "labels": np.array([0, 3], dtype=np.int64),
        "label_ids": np.array([11, 14], dtype=np.int64),
        "area": np.array([126.5, 307200.0], dtype=np.float32),
        "iscrowd": np.array([0, 1], dtype=np.int64),
        "image_id": np.array([397133], dtype=np.int64),
        "polygon_xy": np.array([[1.5, 2.25], [10.0, 2.25], [10.0, 20.0]], dtype=np.float32),
        "polygon_ring_offsets": np.array([0, 3], dtype=np.int64),
        "polygon_offsets": np.array([0, 1, 1], dtype=np.int64),
        "keypoints": np.arange(2 * 2 * 3, dtype=np.float32).reshape(2, 2, 3),
        "image": np.frombuffer(b"\xff\xd8\xff\xe0 not really a jpeg", dtype=np.uint8),
    }
    metadata = {"file_id": "7", "position": "3", "name": "a b.jpg", "label_names": json.dumps(["cat", "dog"])}
    return tensors, metadata


def test_the_committed_python_record_is_what_safetensors_wrote() -> None:
    # The library orders the header from a hash map, so its bytes differ from run to run:
    # the committed file is held to its content, read back by the library itself.
    tensors, metadata = python_made_inputs()
    if os.environ.get("SLUICE_WRITE_FIXTURES"):
        PYTHON_MADE.write_bytes(safetensors.numpy.save(tensors, metadata=metadata))
    with safetensors.safe_open(str(PYTHON_MADE), framework="numpy") as committed:
        assert committed.metadata() == metadata
        assert set(committed.keys()) == set(tensors)
        for name, array in tensors.items():
            loaded = committed.get_tensor(name)
            assert loaded.dtype == array.dtype and np.array_equal(loaded, array), name


def test_swift_records_load_with_the_safetensors_library(server: str) -> None:
    ds = Project("coco-dataset", host=server).directory.get(name="Default")
    raw = b"".join(ds.connection.iter_stream(f"{ds.route}/stream", {"format": "tensors"}))
    records = list(split_records([raw]))
    assert len(records) == len(ds)
    for position, data in enumerate(records):
        loaded = safetensors.numpy.load(data)  # the reference reader validates the layout
        header_length = int.from_bytes(data[:8], "little")
        header = json.loads(data[8:8 + header_length])
        assert header_length % 8 == 0
        metadata = header["__metadata__"]
        assert metadata["position"] == str(position)
        n = loaded["labels"].shape[0]
        assert loaded["boxes"].shape == (n, 4) and loaded["boxes"].dtype == np.float32
        assert loaded["keypoints"].shape[:1] == (n,) and loaded["keypoints"].shape[2] == 3
        assert loaded["polygon_offsets"].shape == (n + 1,)
        assert len(json.loads(metadata["label_names"])) == n
        item = ds[position]
        assert loaded["image"].tobytes() == ds.connection.get_bytes(f"/api/v1/files/{item['file']['id']}/media")
        assert Record.decode(data).tensors.keys() == loaded.keys()


def test_a_bad_format_is_a_400_naming_the_choices(server: str) -> None:
    ds = Project("coco-dataset", host=server).directory.get(name="Default")
    with pytest.raises(Exception) as error:
        ds.connection.get_json(f"{ds.route}/stream", {"format": "pickle"})
    assert "ndjson, records or tensors" in str(error.value)
