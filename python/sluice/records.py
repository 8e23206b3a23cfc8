"""Tensor records: the server's length-prefixed safetensors stream, read with resume."""

from __future__ import annotations

import json
import math
import queue
import threading
import time
from dataclasses import dataclass
from typing import Any, Callable, Dict, Iterable, Iterator, List, Mapping, Optional, Union

import numpy as np
import requests

from ._connection import Connection
from .errors import SluiceError
from .frames import FrameRecord, ShortBody, split_frames


#: safetensors dtypes (the spec's names) as little-endian numpy dtypes.
_DTYPES = {
    name: np.dtype(code) for name, code in {
        "BOOL": "?", "U8": "u1", "I8": "i1", "U16": "<u2", "I16": "<i2", "F16": "<f2", "U32": "<u4",
        "I32": "<i4", "F32": "<f4", "U64": "<u8", "I64": "<i8", "F64": "<f8",
    }.items()
}


def _malformed(reason: str) -> SluiceError:
    return SluiceError("malformed_record", f"a tensor record {reason}")


@dataclass
class Record:
    """One item as tensors: the standard keys (DESIGN.md "Tensors") and the header metadata."""

    metadata: Dict[str, str]
    tensors: Dict[str, np.ndarray]

    @classmethod
    def decode(cls, data: Union[bytes, bytearray]) -> "Record":
        """The record in `data`, a safetensors blob, checked as the reference reader checks it
        (known dtypes, sizes that match the shapes, tensors that tile the data exactly).

        The arrays are views of `data`, not copies: a bytearray (what `split_records` yields)
        gives arrays torch can take as they are. A tensor that is not aligned for its dtype
        is copied.
        """
        if len(data) < 8:
            raise _malformed("shorter than its 8-byte header length")
        header_length = int.from_bytes(data[:8], "little")
        base = 8 + header_length
        if base > len(data):
            raise _malformed(f"header of {header_length} bytes is longer than the record")
        try:
            header = json.loads(bytes(data[8:base]))
        except ValueError as error:
            raise _malformed(f"header is not JSON: {error}") from None
        metadata = header.pop("__metadata__", None) or {}
        tensors: Dict[str, np.ndarray] = {}
        spans = []
        for name, spec in header.items():
            try:
                dtype, shape, (begin, end) = _DTYPES[spec["dtype"]], spec["shape"], spec["data_offsets"]
                count = math.prod(shape)
            except (KeyError, TypeError, ValueError):
                raise _malformed(f"tensor '{name}' is described as {spec!r}") from None
            if not 0 <= begin <= end <= len(data) - base or end - begin != count * dtype.itemsize:
                raise _malformed(f"tensor '{name}' spans [{begin}, {end}) of {len(data) - base} bytes "
                                 f"for shape {shape} of {dtype}")
            spans.append((begin, end, name))
            array = np.frombuffer(data, dtype=dtype, count=count, offset=base + begin).reshape(shape)
            tensors[name] = array if (base + begin) % dtype.itemsize == 0 else array.copy()
        covered = 0
        for begin, end, name in sorted(spans):
            if begin != covered:
                raise _malformed(f"tensor '{name}' starts at {begin}, not at {covered} where the one before ended")
            covered = end
        if covered != len(data) - base:
            raise _malformed(f"has {len(data) - base} bytes of data, its tensors {covered}")
        return cls(metadata=metadata, tensors=tensors)

    @property
    def removed(self) -> bool:
        """The position's file was removed from the dataset: a marker that holds no tensors,
        which iteration skips (docs/writes.md)."""
        return self.metadata.get("removed") == "true"

    @property
    def position(self) -> int:
        return int(self.metadata["position"])

    @property
    def image_bytes(self) -> Optional[bytes]:
        image = self.tensors.get("image")
        return None if image is None else image.tobytes()

    @property
    def label_names(self) -> list:
        return json.loads(self.metadata.get("label_names", "[]"))

    @property
    def span_label_names(self) -> list:
        return json.loads(self.metadata.get("span_label_names", "[]"))


def split_records(chunks: Iterable[bytes]) -> Iterator[bytearray]:
    """The records of a byte stream of `u64 little-endian length + record` frames, each its
    own bytearray (writable, so the arrays `Record.decode` makes over it are too)."""
    buffer = bytearray()
    for chunk in chunks:
        buffer += chunk
        offset = 0
        while len(buffer) - offset >= 8:
            length = int.from_bytes(buffer[offset:offset + 8], "little")
            if len(buffer) - offset - 8 < length:
                break
            yield buffer[offset + 8:offset + 8 + length]
            offset += 8 + length
        if offset:
            del buffer[:offset]
    if buffer:
        raise ShortBody(f"{len(buffer)} bytes of an unfinished record")


_DROPS = (requests.ConnectionError, requests.Timeout, requests.exceptions.ChunkedEncodingError, ShortBody)


class OrderReader:
    """Reads indices `[start, end)` of an epoch's order as records, resuming after a drop.

    A dropped connection, a short body or a server restart costs a new request from the first
    index not yet delivered: no record is lost or repeated. Up to `retries` failures in a row
    are tolerated; any progress resets the count.

    Records come as tensor frames (`FrameRecord`, no JSON per record); from a server that
    does not know frames (it refuses the `format`), as safetensors records (`Record`).
    """

    def __init__(self, connection: Connection, route: str, params: Mapping[str, Any], retries: int = 8):
        self.connection = connection
        self.route = route
        self.params = {k: v for k, v in params.items() if v is not None}
        self.retries = retries
        self.length: Optional[int] = None
        self.frames = True

    def _open(self, params: Dict[str, Any]) -> requests.Response:
        if self.frames:
            try:
                return self.connection.open_stream(f"{self.route}/stream",
                                                   {**params, "format": "frames", "tensors": "true"})
            except SluiceError as error:
                if error.status != 400 or (error.detail or {}).get("parameter") != "format":
                    raise
                self.frames = False
        return self.connection.open_stream(f"{self.route}/stream", {**params, "format": "tensors"})

    def _decoded(self, chunks: Iterable[bytes]) -> Iterator[Union[Record, FrameRecord]]:
        if self.frames:
            for labels, data in split_frames(chunks):
                yield FrameRecord.decode(data, labels)
        else:
            for data in split_records(chunks):
                yield Record.decode(data)

    def read(self, start: int, end: Optional[int]) -> Iterator[Union[Record, FrameRecord]]:
        index, failures, delay = start, 0, 0.05
        while end is None or index < end:
            params: Dict[str, Any] = {**self.params, "start": index}
            if end is not None:
                params["end"] = end
            try:
                with self._open(params) as response:
                    self.length = int(response.headers["Sluice-Length"])
                    stop = self.length if end is None else min(end, self.length)
                    if index >= stop:
                        return
                    for record in self._decoded(response.iter_content(chunk_size=1 << 18)):
                        yield record
                        index += 1
                        failures, delay = 0, 0.05
                    if index >= stop:
                        return
                    raise ShortBody(f"the response ended at index {index} of {stop}")
            except _DROPS as error:
                failures += 1
                if failures > self.retries:
                    raise SluiceError("stream_failed", f"{self.route}/stream at index {index}: {error}") from error
                time.sleep(delay)
                delay = min(delay * 2, 2.0)


class Prefetcher:
    """Runs an iterator on a background thread, at most `window` elements ahead beside the two
    batches in hand (the one the consumer is taking from and the one being filled).

    Network reads and record decoding overlap with the consumer's work; memory is bounded by
    the window. Elements cross between the threads in batches, growing from 1 (the first
    element is handed over at once) to 16 (or the window, if smaller): a queue hand-off per
    element cost the consumer about 40 µs of CPU per record (two threads taking turns at the
    GIL and the queue's locks). Closing (or dropping) the prefetcher stops the thread at its
    next element.
    """

    _END = object()
    _BATCH = 16

    def __init__(self, source: Callable[[], Iterator[Any]], window: int):
        self._largest = max(1, min(self._BATCH, window))
        self._queue: "queue.Queue[Any]" = queue.Queue(maxsize=max(1, window // self._largest))
        self._stop = threading.Event()
        self._batch: List[Any] = []
        self._next = 0
        self._thread = threading.Thread(target=self._run, args=(source,), daemon=True)
        self._thread.start()

    def _run(self, source: Callable[[], Iterator[Any]]) -> None:
        try:
            batch: List[Any] = []
            size = 1
            for element in source():
                batch.append(element)
                if len(batch) < size:
                    continue
                while not self._put(batch):
                    if self._stop.is_set():
                        return
                if self._stop.is_set():
                    return
                batch, size = [], min(size * 2, self._largest)
            self._put_final(batch + [self._END])
        except BaseException as error:  # handed to the consumer (after what came before it), raised there
            self._put_final(batch + [error])

    def _put(self, batch: List[Any]) -> bool:
        try:
            self._queue.put(batch, timeout=0.1)
            return True
        except queue.Full:
            return False

    def _put_final(self, batch: List[Any]) -> None:
        while not self._stop.is_set() and not self._put(batch):
            pass

    def __iter__(self) -> "Prefetcher":
        return self

    def __next__(self) -> Any:
        if self._next == len(self._batch):
            self._batch, self._next = self._queue.get(), 0
        element = self._batch[self._next]
        self._next += 1
        if element is self._END:
            self._next -= 1  # stays at the end: a later next() raises again
            raise StopIteration
        if isinstance(element, BaseException):
            raise element
        return element

    def close(self) -> None:
        self._stop.set()

    def __del__(self) -> None:
        self.close()
