"""Tensor frames: the server's binary item frames (`format=frames&tensors=true`), read into
numpy views with no per-field Python objects (docs/http-api.md "Item frames").

A response is a preamble (the magic `SLFRAME1`, a u32 length, a JSON object with the label
table) and then one frame per item: a u32 length, a 40-byte header, a table of 16-byte section
entries, the sections' data (8-byte aligned) and the media bytes.
"""

from __future__ import annotations

import json
import struct
from collections import deque
from typing import Any, Deque, Dict, Iterable, Iterator, List, Optional, Tuple

import numpy as np

from .errors import SluiceError

MAGIC = b"SLFRAME1"
_HEADER = struct.Struct("<qqqIHBBII")
_ENTRY = struct.Struct("<HBBIII")
_HEADER_SIZE = 40
_MAX_FRAME = 1 << 31
_MAX_PREAMBLE = 64 << 20
_REMOVED, _MEDIA, _TENSORS = 1, 2, 4
_DTYPES = {1: np.dtype("u1"), 2: np.dtype("<u4"), 3: np.dtype("<i8"), 4: np.dtype("<f8"), 5: np.dtype("<f4")}

# File sections.
_FILE_NUMBERS, _FRAME_RATE, _NAME, _SHA256, _MIME_TYPE = 1, 2, 3, 5, 6
_FILE_TYPES = ("image", "video", "frame", "text")

#: Tensor sections: key -> (name, element type, shape with -1 for the count).
TENSOR_SECTIONS = {
    64: ("boxes", 5, (-1, 4)), 65: ("labels", 3, (-1,)), 66: ("label_ids", 3, (-1,)), 67: ("area", 5, (-1,)),
    68: ("iscrowd", 3, (-1,)), 69: ("image_id", 3, (-1,)), 70: ("polygon_xy", 5, (-1, 2)),
    71: ("polygon_ring_offsets", 3, (-1,)), 72: ("polygon_offsets", 3, (-1,)), 73: ("keypoints", 5, None),
    74: ("frames", 3, (-1,)), 75: ("tracks", 3, (-1,)), 76: ("spans", 3, (-1, 2)), 77: ("span_labels", 3, (-1,)),
}
_ELEMENT_TYPES = {1: 3, 2: 4, 3: 1, 4: 1, 5: 1, 6: 1, 7: 1, **{key: spec[1] for key, spec in TENSOR_SECTIONS.items()}}
#: What an absent standard section stands for: no values, in its shape.
_EMPTY = {name: np.zeros((0, 0, 3) if shape is None else tuple(max(d, 0) for d in shape), dtype=_DTYPES[kind])
          for name, kind, shape in TENSOR_SECTIONS.values()}


def _malformed(reason: str) -> SluiceError:
    return SluiceError("malformed_frame", f"an item frame {reason}")


class LabelTable:
    """A frames response's label table, sent once per response: names by label id and by
    tensor index (the `labels` values)."""

    __slots__ = ("names", "by_index")

    def __init__(self, names: Dict[int, str], by_index: Dict[int, str]):
        self.names = names
        self.by_index = by_index

    @classmethod
    def decode(cls, data: bytes) -> "LabelTable":
        try:
            labels = json.loads(data)["labels"]
            return cls({int(label["id"]): str(label["name"]) for label in labels},
                       {int(label["index"]): str(label["name"]) for label in labels})
        except (ValueError, KeyError, TypeError) as error:
            raise _malformed(f"preamble is not a label table: {error}") from None


class FrameRecord:
    """One item of a tensors frame stream, in the shape of `records.Record`: `tensors` (numpy
    views of the frame, the media as `image`), `removed`, `position`, `label_names`, and
    `metadata` (built only when asked for)."""

    __slots__ = ("position", "file_id", "revision", "removed", "count", "_data", "_sections", "_media", "_labels",
                 "_tensors", "_metadata")

    def __init__(self) -> None:
        self._tensors: Optional[Dict[str, np.ndarray]] = None
        self._metadata: Optional[Dict[str, str]] = None

    @classmethod
    def decode(cls, data: bytearray, labels: LabelTable) -> "FrameRecord":
        """The frame in `data` (without its length prefix), its layout checked: every section
        inside the data area, of its key's element type, and the frame a tensor frame."""
        if len(data) < _HEADER_SIZE:
            raise _malformed(f"of {len(data)} bytes is shorter than its {_HEADER_SIZE}-byte header")
        position, file_id, revision, count, sections, flags, _, media, data_length = _HEADER.unpack_from(data)
        start = _HEADER_SIZE + sections * _ENTRY.size
        if start + data_length + media != len(data):
            raise _malformed(f"of {len(data)} bytes is not its header's {start} + {data_length} + {media}")
        if not flags & _TENSORS:
            raise _malformed("holds no tensors (ask for tensors=true)")
        table = {}
        for key, kind, _, offset, length, _ in _ENTRY.iter_unpack(memoryview(data)[_HEADER_SIZE:start]):
            if offset + length > data_length:
                raise _malformed(f"section {key} spans [{offset}, {offset + length}) of {data_length} bytes")
            expected = _ELEMENT_TYPES.get(key)
            if expected is not None and (kind != expected or length % _DTYPES[kind].itemsize):
                raise _malformed(f"section {key} has element type {kind} and {length} bytes")
            table[key] = (start + offset, length, kind)
        record = cls()
        record.position, record.file_id, record.revision, record.count = position, file_id, revision, count
        record.removed = bool(flags & _REMOVED)
        record._data, record._sections, record._labels = data, table, labels
        record._media = (start + data_length, media) if flags & _MEDIA else None
        return record

    def _array(self, key: int) -> Optional[np.ndarray]:
        found = self._sections.get(key)
        if found is None:
            return None
        offset, length, kind = found
        dtype = _DTYPES[kind]
        return np.frombuffer(self._data, dtype=dtype, count=length // dtype.itemsize, offset=offset)

    def _text(self, key: int) -> Optional[str]:
        found = self._sections.get(key)
        return None if found is None else bytes(self._data[found[0]:found[0] + found[1]]).decode("utf-8")

    @property
    def tensors(self) -> Dict[str, np.ndarray]:
        if self._tensors is None and self.removed:
            self._tensors = {}  # a removed position's marker holds none, as its record does
        if self._tensors is None:
            n = self.count
            tensors: Dict[str, np.ndarray] = {}
            for key, (name, _, shape) in TENSOR_SECTIONS.items():
                array = self._array(key)
                if array is None:
                    if key < 74:
                        tensors[name] = _EMPTY[name]
                    continue
                if shape is None:  # keypoints [N, K, 3]
                    shape = (n, array.size // (3 * n) if n else 0, 3)
                try:
                    tensors[name] = array.reshape(shape)
                except ValueError:
                    raise _malformed(f"tensor '{name}' of {array.size} values is not of shape {shape}") from None
            if len(tensors["labels"]) != n or len(tensors["boxes"]) != n or len(tensors["polygon_offsets"]) != n + 1:
                raise _malformed(f"has tensors that disagree with its {n} instances")
            if self._media is not None:
                tensors["image"] = np.frombuffer(self._data, dtype=np.uint8, count=self._media[1],
                                                 offset=self._media[0])
            self._tensors = tensors
        return self._tensors

    @property
    def image_bytes(self) -> Optional[bytes]:
        if self._media is None:
            return None
        offset, length = self._media
        return bytes(memoryview(self._data)[offset:offset + length])

    @property
    def label_names(self) -> List[str]:
        names = self._labels.names
        ids = self._array(66)
        return [] if ids is None else [names.get(i, "") for i in ids.tolist()]

    @property
    def span_label_names(self) -> List[str]:
        indices = self._array(77)
        by_index = self._labels.by_index
        return [] if indices is None else [by_index.get(i, "") for i in indices.tolist()]

    def file_numbers(self) -> Tuple[int, ...]:
        numbers = self._array(_FILE_NUMBERS)
        if numbers is None or numbers.size != 8:
            raise _malformed("has no file numbers")
        return tuple(numbers.tolist())

    def file_fields(self) -> Dict[str, Any]:
        """The file's name, type, size and MIME type (what `FileInfo` needs)."""
        _, _, _, width, height, _, kind, _ = self.file_numbers()
        return {"name": self._text(_NAME) or "", "type": _FILE_TYPES[kind] if 0 <= kind < 4 else "image",
                "width": None if width < 0 else width, "height": None if height < 0 else height,
                "mime_type": self._text(_MIME_TYPE)}

    @property
    def metadata(self) -> Dict[str, str]:
        """The metadata a `records.Record` of the item has (built on first use)."""
        if self._metadata is None and self.removed:
            self._metadata = {"file_id": str(self.file_id), "position": str(self.position), "removed": "true"}
        if self._metadata is None:
            _, _, _, width, height, frame_count, kind, _ = self.file_numbers()
            fields = self.file_fields()
            metadata = {"file_id": str(self.file_id), "revision": str(self.revision), "position": str(self.position),
                        "name": fields["name"], "type": fields["type"],
                        "label_names": json.dumps(self.label_names, ensure_ascii=False, separators=(",", ":"))}
            if self.removed:
                metadata["removed"] = "true"
            if 77 in self._sections:
                metadata["span_label_names"] = json.dumps(self.span_label_names, ensure_ascii=False, separators=(",", ":"))
            if width >= 0:
                metadata["width"] = str(width)
            if height >= 0:
                metadata["height"] = str(height)
            if fields["mime_type"] is not None:
                metadata["mime_type"] = fields["mime_type"]
            if frame_count >= 0:
                metadata["frame_count"] = str(frame_count)
            rate = self._array(_FRAME_RATE)
            if rate is not None and rate.size == 1:
                metadata["frame_rate"] = repr(float(rate[0]))
            sha = self._text(_SHA256)
            if sha is not None and fields["type"] == "video":
                metadata["sha256"] = sha
            self._metadata = metadata
        return self._metadata


class _Received:
    """The bytes received and not yet cut, as views of the chunks they came in: a frame is
    copied once, from its chunks into its own bytearray (not into a growing buffer first)."""

    __slots__ = ("views", "size")

    def __init__(self) -> None:
        self.views: Deque[memoryview] = deque()
        self.size = 0

    def add(self, chunk: bytes) -> None:
        if chunk:
            self.views.append(memoryview(chunk))
            self.size += len(chunk)

    def take(self, n: int) -> bytearray:
        """The next `n` bytes (at most `size`) as a bytearray of their own."""
        self.size -= n
        first = self.views[0] if self.views else memoryview(b"")
        if len(first) >= n:  # the usual case: inside one chunk
            if len(first) == n and n:
                self.views.popleft()
            elif n:
                self.views[0] = first[n:]
            return bytearray(first[:n])
        parts = []
        while n:
            view = self.views[0]
            if len(view) <= n:
                parts.append(self.views.popleft())
                n -= len(view)
            else:
                parts.append(view[:n])
                self.views[0] = view[n:]
                n = 0
        return bytearray().join(parts)


def split_frames(chunks: Iterable[bytes]) -> Iterator[Tuple[LabelTable, bytearray]]:
    """The frames of a frames response body, each its own bytearray (writable, so the arrays
    over it are too), with the response's label table."""
    received = _Received()
    labels: Optional[LabelTable] = None
    # What the next `want` bytes are: the preamble's head (magic and length), the preamble's
    # JSON, a frame's length, or the frame.
    part, want = "head", 12
    for chunk in chunks:
        received.add(chunk)
        while received.size >= want:
            data = received.take(want)
            if part == "head":
                if bytes(data[:8]) != MAGIC:
                    raise _malformed("stream does not begin with the frames preamble")
                want = int.from_bytes(data[8:12], "little")
                if want > _MAX_PREAMBLE:
                    raise _malformed(f"preamble of {want} bytes")
                part = "preamble"
            elif part == "preamble":
                labels = LabelTable.decode(bytes(data))
                part, want = "length", 4
            elif part == "length":
                want = int.from_bytes(data, "little")
                if want > _MAX_FRAME:
                    raise _malformed(f"of {want} bytes")
                part = "frame"
            else:
                assert labels is not None
                yield labels, data
                part, want = "length", 4
    if received.size or part in ("preamble", "frame"):
        raise ShortBody(f"{received.size} bytes of an unfinished {'preamble' if part == 'preamble' else 'frame'}")


class ShortBody(Exception):
    """A response that ended inside an element: read again from the first one missing."""
