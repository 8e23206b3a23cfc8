"""Projects, datasets and slices: the positional API over HTTP."""

from __future__ import annotations

import json
from typing import Any, Dict, Iterator, List, Optional
from urllib.parse import quote

from ._connection import Connection
from .errors import SluiceError
from .epoch import Epoch, EpochState, resume
from .records import OrderReader, Record
from .sample import make_sample
from .writes import (ProjectWrites, add_dataset_tags, append_files, copy_files, dataset_tags, remove_dataset_tag,
                     remove_file)


class Project(ProjectWrites):
    """A project on a Sluice server: `Project("coco-dataset", host="http://127.0.0.1:8085")`.

    `host` defaults to `$SLUICE_HOST`, `api_key` to `$SLUICE_API_KEY`. A key is the
    `client_id:secret` token that `sluice keys create` prints; a public project reads without one.
    """

    def __init__(self, id: str, host: Optional[str] = None, api_key: Optional[str] = None, timeout: float = 30.0):
        self.connection = Connection(host, api_key, timeout=timeout)
        self.id = id
        self.info = self.connection.get_json(f"/api/v1/projects/{quote(id, safe='')}")
        self.directory = Directory(self)
        #: The name Sluice's Swift SDK uses; `directory` is the Diffgram SDK's.
        self.datasets = self.directory

    @property
    def name(self) -> str:
        return self.info["name"]

    def resume(self, tokens: Any, rank: Optional[int] = None, world_size: Optional[int] = None) -> Epoch:
        """The epoch a state token left off (from this package or the Swift SDK), or, from the
        tokens of every rank of a stopped run, this rank's part of what they had not delivered
        (`rank`, `world_size`: the new run's, which may differ from the stopped one's)."""
        return resume(self.connection, tokens, rank=rank, world_size=world_size)

    def labels(self) -> List[Dict[str, Any]]:
        """The project's labels, ordered by id; each one's `index` is its value in the `labels`
        tensor (the same as its place in this list until a label is deleted)."""
        return self.connection.get_json(f"/api/v1/projects/{quote(self.id, safe='')}/labels")

    def class_names(self) -> List[Optional[str]]:
        """Label names by their value in the `labels` tensor, `None` at a deleted label's
        place: `class_names()[sample["labels"][i]]` names object i."""
        labels = self.labels()
        names: List[Optional[str]] = [None] * (max((label["index"] for label in labels), default=-1) + 1)
        for label in labels:
            names[label["index"]] = label["name"]
        return names


class Directory:
    """The datasets of a project, looked up by name."""

    def __init__(self, project: Project):
        self.project = project

    def get(self, name: str) -> "Dataset":
        matches = self.project.connection.get_json(
            f"/api/v1/projects/{quote(self.project.id, safe='')}/datasets", params={"name": name})
        if not matches:
            raise SluiceError("not_found", f"project '{self.project.id}' has no dataset named '{name}'", 404)
        return Dataset(self.project, matches[0])

    def list(self) -> List["Dataset"]:
        listed = self.project.connection.get_json(f"/api/v1/projects/{quote(self.project.id, safe='')}/datasets")
        return [Dataset(self.project, info) for info in listed]


class Dataset:
    """A dataset, or a slice of one: an ordered, positional collection of items.

    `len(ds)` is the count when the handle was made (a slice is pinned to the version it was
    made at; a dataset handle is refreshed with `refresh()`). `ds[i]` fetches one item as its
    JSON; iteration streams them. `to_pytorch()` and `to_tensorflow()` read tensor records.
    """

    def __init__(self, project: Project, info: Dict[str, Any], query: Optional[str] = None,
                 pinned_version: Optional[int] = None):
        self.project = project
        self.info = info
        self.query = query
        self.connection = project.connection
        #: The version this handle reads, from `at()` (or a slice made on such a handle); None
        #: for the dataset as it is now.
        self.pinned_version = pinned_version
        if query is None:
            self.route = f"/api/v1/datasets/{info['id']}"
            self.dataset_id = info["id"]
            self._pin: Dict[str, Any] = {} if pinned_version is None else {"version": pinned_version}
        else:
            self.route = f"/api/v1/slices/{quote(info['id'], safe='')}"
            self.dataset_id = info["dataset_id"]
            # A slice's epoch reads the version it was made at, even if the dataset moves on.
            self._pin = {"version": info["version"]}
        self._count = int(info["count"])

    @property
    def name(self) -> str:
        return self.info.get("name", self.query or "")

    def append(self, files: Any, create_labels: bool = False) -> List[Dict[str, Any]]:
        """Appends files with their instances, all or none (see `sluice.writes.append_files`);
        returns where each landed. Call `refresh()` for the new count."""
        self._require_plain("appended to")
        return append_files(self.connection, self.project.id, self.dataset_id, files, create_labels=create_labels)

    def remove(self, file_id: int) -> Dict[str, Any]:
        """Removes a file from the dataset. Its position stays and reads as removed: `len()`
        keeps it, iteration skips it, `ds[i]` there raises (410), versions before keep it."""
        self._require_plain("removed from")
        return remove_file(self.connection, self.dataset_id, file_id)

    def copy(self, file_ids: List[int], move_from: Optional["Dataset"] = None) -> List[Dict[str, Any]]:
        """Appends files of the project held by other datasets (shared, not duplicated); with
        `move_from`, removes them from that dataset in the same transaction."""
        self._require_plain("copied into")
        return copy_files(self.connection, self.dataset_id, file_ids,
                          None if move_from is None else move_from.dataset_id)

    # Tags belong to the dataset, whatever the handle (a slice, a pinned version): they are
    # not versioned. A query tests them as `dataset.tag` (Diffgram's `dataset_tag.tag`).

    def tags(self) -> List[str]:
        """The dataset's tags, in byte order."""
        return dataset_tags(self.connection, self.dataset_id)

    def add_tags(self, *tags: str) -> List[str]:
        """Adds tags (an editor key); returns all the dataset's tags."""
        return add_dataset_tags(self.connection, self.dataset_id, tags)

    def remove_tag(self, tag: str) -> List[str]:
        """Removes one tag (an editor key); returns the tags left."""
        return remove_dataset_tag(self.connection, self.dataset_id, tag)

    def _require_plain(self, what: str) -> None:
        if self.query is not None or self.pinned_version is not None:
            raise SluiceError("invalid", f"files are {what} the dataset itself, not a slice or a pinned version")

    def __len__(self) -> int:
        return self._count

    def __repr__(self) -> str:
        what = f"slice {self.query!r}" if self.query else f"dataset {self.name!r}"
        at = f" at version {self.pinned_version}" if self.pinned_version is not None else ""
        return f"<sluice {what} of {self.project.id!r}{at}: {self._count} items>"

    def refresh(self) -> "Dataset":
        """Re-reads the count (a dataset grows as files are added; a pinned version does not)."""
        self._count = int(self.connection.get_json(f"{self.route}/count", params=self._pin or None)["count"])
        return self

    def at(self, version: Any) -> "Dataset":
        """This dataset as it was at `version`: a snapshot name (`"v1"`) or a version number.
        `len`, `[i]`, iteration, records, epochs, slices and `to_pytorch()` of the handle read
        that version's items, the same bytes whatever is written later."""
        if self.query is not None:
            raise SluiceError("invalid_argument", "a slice is pinned to its own version; "
                                                  "take the slice of the version instead: ds.at(v).slice(query)")
        text = str(version)
        if text.isdigit():
            number = int(text)
            count = self.connection.get_json(f"{self.route}/count", params={"version": number})["count"]
        else:
            snapshots = self.connection.get_json(f"{self.route}/snapshots")
            match = next((s for s in snapshots if s["name"] == text), None)
            if match is None:
                raise SluiceError("not_found", f"dataset '{self.name}' has no snapshot named '{text}'", 404)
            number, count = int(match["version"]), int(match["count"])
        return Dataset(self.project, {**self.info, "version": number, "count": count}, pinned_version=number)

    def __getitem__(self, position: int) -> Dict[str, Any]:
        if not isinstance(position, int):
            raise TypeError(f"positions are integers, not {type(position).__name__}")
        if position < 0:
            position += self._count
        if not 0 <= position < self._count:
            raise IndexError(f"position {position} outside 0..<{self._count}")
        return self.connection.get_json(f"{self.route}/items/{position}", params=self._pin or None)

    def __iter__(self) -> Iterator[Dict[str, Any]]:
        """The items in order, as JSON objects, streamed; removed positions are skipped."""
        for line in self._ndjson_lines():
            item = json.loads(line)
            if not item.get("removed"):
                yield item

    def _ndjson_lines(self) -> Iterator[bytes]:
        response = self.connection.open_stream(f"{self.route}/stream", {**self._pin, "format": "ndjson"})
        with response:
            yield from response.iter_lines()

    def slice(self, query: str) -> "Dataset":
        """The items matching `query` (the slice language); on a slice, both queries must hold."""
        if self.query is not None:
            query = f"({self.query}) and ({query})"
        body: Dict[str, Any] = {"query": query}
        if self.pinned_version is not None:
            body["version"] = str(self.pinned_version)
        info = self.connection.post_json(f"/api/v1/datasets/{self.dataset_id}/slices", body)
        return Dataset(self.project, info, query=query, pinned_version=self.pinned_version)

    # MARK: Tensor records

    def record(self, position: int) -> Record:
        """The tensor record of one position."""
        if position < 0:
            position += self._count
        if not 0 <= position < self._count:
            raise IndexError(f"position {position} outside 0..<{self._count}")
        record = next(OrderReader(self.connection, self.route, self._pin).read(position, position + 1))
        if record.removed:
            raise SluiceError("removed", f"the file at position {position} was removed from the dataset", 410)
        return record

    def records_in(self, start: int, end: int) -> Iterator[Record]:
        """The tensor records of positions `[start, end)`, in one request (resumed if it drops);
        removed positions are skipped."""
        return (r for r in OrderReader(self.connection, self.route, self._pin).read(start, end) if not r.removed)

    def epoch(self) -> Epoch:
        """An epoch over the items now (a dataset's current count and version; a slice's own),
        in position order until shuffled or sharded."""
        if self.query is None and self.pinned_version is not None:
            return Epoch(self.connection, EpochState(self.dataset_id, None, self.pinned_version, self._count, pinned=True))
        if self.query is None:
            info = self.connection.get_json(self.route)
            return Epoch(self.connection, EpochState(self.dataset_id, None, info["version"], info["count"]))
        return Epoch(self.connection, EpochState(self.dataset_id, self.info["id"], self.info["version"], self._count))

    def records(self, shuffle_seed: Optional[int] = None, epoch: int = 0, block_size: Optional[int] = None,
                rank: int = 0, world_size: int = 1, tail: str = "keep", prefetch: int = 64,
                range_size: int = 256) -> Iterator[Record]:
        """The tensor records of an epoch's order (or of one shard of it), streamed.

        `shuffle_seed` and `epoch` pick a deterministic permutation (the same on any machine);
        `rank`/`world_size` a disjoint, near-equal strided shard, `tail` how shards of
        unequal length end (`keep`, `drop` or `pad`). Records are fetched `range_size` at a
        time, up to `prefetch` ahead of the consumer; a dropped connection resumes at the
        first record not yet delivered. For a resumable state token, use `epoch()`.
        """
        order = self.epoch()
        if shuffle_seed is not None:
            order = order.shuffled(shuffle_seed, epoch, block_size or 0)
        if world_size != 1 or rank != 0 or tail != "keep":
            order = order.sharded(rank, world_size, tail)
        return order.records(prefetch=prefetch, range_size=range_size)

    def samples(self, **options: Any) -> Iterator[Dict[str, Any]]:
        """The samples (`make_sample`) of `records(**options)`, with numpy arrays."""
        for record in self.records(**options):
            yield make_sample(record)

    def to_pytorch(self, transform: Any = None, streaming: bool = False, frames: bool = False, **options: Any) -> Any:
        """A `torch.utils.data.Dataset` of samples (map-style: random access by position), or
        with `streaming=True` an `IterableDataset` that splits the epoch across DataLoader
        workers and distributed ranks (options: `shuffle_seed`, `epoch`, `block_size`,
        `tail`, `prefetch`, `range_size`, `rank`, `world_size`).

        `frames=True`: one sample per annotated frame of the dataset's videos, the frame decoded
        with PyAV (`pip install sluice[video]`; options `cache_dir`, and when streaming `rank`,
        `world_size`); see `sluice.video`."""
        from .pytorch import SluiceIterableDataset, SluiceMapDataset, SluiceVideoFrameMap, SluiceVideoFrames

        if frames:
            return (SluiceVideoFrames(self, transform=transform, **options) if streaming
                    else SluiceVideoFrameMap(self, transform=transform, **options))
        if streaming:
            return SluiceIterableDataset(self, transform=transform, **options)
        if options:
            raise TypeError(f"map-style datasets take only transform=, not {sorted(options)}")
        return SluiceMapDataset(self, transform=transform)

    def to_tensorflow(self, **options: Any) -> Any:
        """A `tf.data.Dataset` of the records' tensors with a declared `output_signature` (the
        instance dimension is None); see `sluice.tensorflow.to_tensorflow`."""
        from .tensorflow import to_tensorflow

        return to_tensorflow(self, **options)
