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
from sluice.errors import SluiceError
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
        loaded = safetensors.numpy.load(bytes(data))  # the reference reader validates the layout
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
        # Sluice's own reader (views, not copies) gives what the reference reader gives.
        decoded = Record.decode(data)
        assert decoded.tensors.keys() == loaded.keys()
        for name, array in loaded.items():
            assert decoded.tensors[name].dtype == array.dtype, name
            assert decoded.tensors[name].shape == array.shape and np.array_equal(decoded.tensors[name], array), name
        assert decoded.metadata == metadata
        assert decoded.tensors["boxes"].flags.writeable, "views of the bytearray: torch takes them without a copy"


def _record(header: dict, data: bytes) -> bytes:
    text = json.dumps(header).encode()
    return len(text).to_bytes(8, "little") + text + data


@pytest.mark.parametrize("header, data, fault", [
    ({"a": {"dtype": "F32", "shape": [2], "data_offsets": [0, 8]}}, b"\0" * 4, "spans [0, 8) of 4 bytes"),
    ({"a": {"dtype": "F32", "shape": [3], "data_offsets": [0, 8]}}, b"\0" * 8, "for shape [3]"),
    ({"a": {"dtype": "Q7", "shape": [1], "data_offsets": [0, 1]}}, b"\0", "tensor 'a' is described as"),
    ({"a": {"dtype": "U8", "shape": [1], "data_offsets": [1, 2]}}, b"\0\0", "starts at 1, not at 0"),
    ({"a": {"dtype": "U8", "shape": [1], "data_offsets": [0, 1]}}, b"\0\0", "has 2 bytes of data, its tensors 1"),
])
def test_a_malformed_record_is_refused_naming_its_fault(header: dict, data: bytes, fault: str) -> None:
    with pytest.raises(SluiceError) as error:
        Record.decode(_record(header, data))
    assert fault in str(error.value)
    # The reference reader refuses each of them too.
    with pytest.raises(Exception):
        safetensors.numpy.load(_record(header, data))


def test_a_record_decodes_misaligned_tensors_by_copying_them() -> None:
    data = np.array([7], dtype="<u1").tobytes() + np.array([1.5, -2.0], dtype="<f4").tobytes()
    header = {"a": {"dtype": "U8", "shape": [1], "data_offsets": [0, 1]},
              "b": {"dtype": "F32", "shape": [2], "data_offsets": [1, 9]}, "__metadata__": {"k": "v"}}
    record = Record.decode(bytearray(_record(header, data)))
    assert record.metadata == {"k": "v"}
    assert record.tensors["a"].tolist() == [7] and record.tensors["b"].tolist() == [1.5, -2.0]
    assert record.tensors["b"].flags.aligned
    assert np.array_equal(record.tensors["b"], safetensors.numpy.load(_record(header, data))["b"])


def test_a_bad_format_is_a_400_naming_the_choices(server: str) -> None:
    ds = Project("coco-dataset", host=server).directory.get(name="Default")
    with pytest.raises(Exception) as error:
        ds.connection.get_json(f"{ds.route}/stream", {"format": "pickle"})
    assert "ndjson, records, tensors or frames" in str(error.value)


def test_tensor_frames_are_the_records_of_every_coco_fixture(fixtures_server) -> None:
    """Captions, image labels, keypoints, polygons, RLE crowds: whatever each fixture holds,
    its frames and its records agree."""
    from conftest import assert_frames_are_the_records

    url, sets = fixtures_server
    covered = 0
    for project, _, _ in sets:
        covered += assert_frames_are_the_records(Project(project, host=url).directory.get(name="Default"))
    assert covered >= 15, "the fixtures hold 15 images with instances a detector trains on"


@pytest.mark.parametrize("data, fault", [
    (b"SLFRAME1" + (9).to_bytes(4, "little") + b'{"labels"' , "preamble is not a label table"),
    (b"NOTFRAME" + (2).to_bytes(4, "little") + b"{}", "does not begin with the frames preamble"),
    (b"SLFRAME1" + (13).to_bytes(4, "little") + b'{"labels":[]}' + (12).to_bytes(4, "little") + bytes(12),
     "shorter than its 40-byte header"),
])
def test_a_malformed_frame_stream_is_refused_naming_its_fault(data: bytes, fault: str) -> None:
    from sluice.frames import FrameRecord, split_frames

    with pytest.raises(SluiceError) as error:
        for labels, frame in split_frames([data[:5], data[5:]]):
            FrameRecord.decode(frame, labels)
    assert fault in str(error.value)


def test_frames_are_cut_the_same_wherever_the_chunks_end(server: str) -> None:
    """A body cut into chunks of any sizes (a preamble, a length or a frame split across them,
    or several in one) gives the same frames, each its own writable bytearray; a body that
    ends inside the preamble, a length or a frame is a short body, one that ends between
    frames is not."""
    import random

    from sluice.frames import ShortBody, split_frames

    ds = Project("coco-dataset", host=server).directory.get(name="Default")
    with ds.connection.open_stream(f"{ds.route}/stream", {"format": "frames", "tensors": "true"}) as response:
        body = response.content
    whole = [(labels.names, bytes(frame)) for labels, frame in split_frames([body])]
    assert len(whole) == len(ds) == 9
    lengths = [len(frame) for _, frame in whole]
    preamble = len(body) - sum(4 + n for n in lengths)
    assert body[preamble:preamble + 4] == lengths[0].to_bytes(4, "little")

    rng = random.Random(7)
    for sizes in ([1] * 40 + [len(body)], [3, 5, 4, 11], [preamble, 2, 2], [65536], [len(body)]):
        chunks, at, turn = [], 0, 0
        while at < len(body):
            chunks.append(body[at:at + sizes[turn % len(sizes)]])
            at += len(chunks[-1])
            turn += 1
        cut = list(split_frames(chunks))
        assert [(labels.names, bytes(frame)) for labels, frame in cut] == whole, sizes
        assert all(isinstance(frame, bytearray) for _, frame in cut)
    for _ in range(20):
        cuts = sorted(rng.sample(range(1, len(body)), 30))
        chunks = [body[a:b] for a, b in zip([0] + cuts, cuts + [len(body)])]
        assert [(labels.names, bytes(frame)) for labels, frame in split_frames(chunks)] == whole

    ends = [preamble + sum(4 + n for n in lengths[:k]) for k in range(len(lengths) + 1)]
    for end in ends:
        assert len(list(split_frames([body[:end]]))) == ends.index(end)
    for end in (5, 12, preamble - 1, preamble + 2, preamble + 4 + 39, ends[3] + 1, len(body) - 1):
        with pytest.raises(ShortBody):
            list(split_frames([body[:end // 2], body[end // 2:end]]))
