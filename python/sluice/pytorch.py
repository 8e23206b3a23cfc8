"""PyTorch datasets over a Sluice dataset or slice."""

from __future__ import annotations

import os
from typing import Any, Callable, Dict, Iterator, List, Optional

import numpy as np
import torch
import torch.distributed
from torch.utils.data import Dataset as TorchDataset
from torch.utils.data import IterableDataset, get_worker_info

from .sample import make_sample


def _to_tensor(array: np.ndarray) -> torch.Tensor:
    # Records decoded from bytes (not a bytearray) are read-only; torch wants memory it may write.
    return torch.from_numpy(array if array.flags.writeable else array.copy())


class SluiceMapDataset(TorchDataset):
    """Map-style: `len()` and `[i]`, any sampler (shuffling DataLoaders included).

    Each `[i]` is one small request; `__getitems__` (what a DataLoader asks for a batch)
    reads runs of consecutive positions as one stream request each.
    """

    def __init__(self, dataset: Any, transform: Optional[Callable[[Dict[str, Any]], Any]] = None):
        # Removed positions hold no sample (docs/writes.md): over a dataset that has some,
        # `[i]` indexes a slice of every file it still holds, dense from 0.
        if dataset.query is None and int(dataset.info.get("removed", 0)) > 0:
            dataset = dataset.slice("labels.any >= 0")
        self.dataset = dataset
        self.transform = transform

    def __len__(self) -> int:
        return len(self.dataset)

    def __getitem__(self, index: Any) -> Any:
        if torch.is_tensor(index):
            index = index.tolist()
        return self._finish(self.dataset.record(int(index)))

    def __getitems__(self, indices: List[int]) -> List[Any]:
        out: List[Any] = [None] * len(indices)
        order = sorted(range(len(indices)), key=lambda i: indices[i])
        run: List[int] = []

        def flush() -> None:
            if not run:
                return
            first = indices[run[0]]
            records = self.dataset.records_in(first, indices[run[-1]] + 1)
            by_position = {record.position: record for record in records}
            for slot in run:
                out[slot] = self._finish(by_position[indices[slot]])
            run.clear()

        for slot in order:
            if run and indices[slot] > indices[run[-1]] + 1:
                flush()
            run.append(slot)
        flush()
        return out

    def _finish(self, record: Any) -> Any:
        sample = make_sample(record, to_tensor=_to_tensor)
        return self.transform(sample) if self.transform else sample


def distributed_rank() -> tuple:
    """(rank, world size) of `torch.distributed` when initialised, else of the environment
    variables torchrun sets, else (0, 1)."""
    if torch.distributed.is_available() and torch.distributed.is_initialized():
        return torch.distributed.get_rank(), torch.distributed.get_world_size()
    return int(os.environ.get("RANK", 0)), int(os.environ.get("WORLD_SIZE", 1))


class SluiceIterableDataset(IterableDataset):
    """Streaming: each DataLoader worker of each rank reads its own disjoint part of the epoch.

    The world the epoch is split over is ranks × workers: worker `w` of rank `r` reads shard
    `r * workers + w` of `world_size * workers`, so the union over every rank and worker is the
    epoch, each item exactly once (with `tail="keep"`; `drop`/`pad` give equal lengths).
    Call `set_epoch(e)` before each epoch for a new shuffle.
    """

    def __init__(self, dataset: Any, transform: Optional[Callable[[Dict[str, Any]], Any]] = None,
                 shuffle_seed: Optional[int] = None, epoch: int = 0, block_size: Optional[int] = None,
                 tail: str = "keep", prefetch: int = 64, range_size: int = 256,
                 rank: Optional[int] = None, world_size: Optional[int] = None):
        self.dataset = dataset
        self.transform = transform
        self.shuffle_seed = shuffle_seed
        self.epoch = epoch
        self.block_size = block_size
        self.tail = tail
        self.prefetch = prefetch
        self.range_size = range_size
        self.rank = rank
        self.world_size = world_size

    def set_epoch(self, epoch: int) -> None:
        self.epoch = epoch

    def shard(self) -> tuple:
        """(shard, shards) this process reads: its rank and worker in the flattened world."""
        rank, world_size = distributed_rank()
        if self.rank is not None:
            rank = self.rank
        if self.world_size is not None:
            world_size = self.world_size
        worker = get_worker_info()
        workers, worker_id = (worker.num_workers, worker.id) if worker else (1, 0)
        return rank * workers + worker_id, world_size * workers

    def __iter__(self) -> Iterator[Any]:
        shard, shards = self.shard()
        records = self.dataset.records(
            shuffle_seed=self.shuffle_seed, epoch=self.epoch, block_size=self.block_size,
            rank=shard, world_size=shards, tail=self.tail, prefetch=self.prefetch, range_size=self.range_size)
        try:
            for record in records:
                sample = make_sample(record, to_tensor=_to_tensor)
                yield self.transform(sample) if self.transform else sample
        finally:
            close = getattr(records, "close", None)
            if close:
                close()


class SluiceVideoFrames(IterableDataset):
    """One sample per annotated frame of the dataset's videos (`to_pytorch(frames=True,
    streaming=True)`), split across ranks and DataLoader workers like `SluiceIterableDataset`:
    shard `s` of `S` takes the `s`-th contiguous stretch of the annotated frames, so a worker
    seeks once into a video and decodes forward. Every annotated frame is read once per epoch.
    Samples: `image` (H×W×3 uint8), `frame`, `tracks` and the standard tensors of the instances
    on that frame (see `sluice.video`), as numpy arrays: the DataLoader's collate makes them
    tensors in the main process. A worker that sends torch tensors shares each through shared
    memory, which costs about a millisecond per sample more than sending small arrays by value
    (measured: 10,000 frames of 64×48 with 2 workers in batches of 32, 15.7 s as tensors, 5.5 s
    as arrays). Batch the loader (`batch_size=32, collate_fn=list` when frames hold different
    numbers of instances): one sample at a time costs PyTorch's worker round trip per frame."""

    def __init__(self, dataset: Any, transform: Optional[Callable[[Dict[str, Any]], Any]] = None,
                 cache_dir: Optional[str] = None, rank: Optional[int] = None, world_size: Optional[int] = None):
        from .video import VideoFrames

        self.frames = VideoFrames(dataset, cache_dir=cache_dir)
        self.transform = transform
        self.rank = rank
        self.world_size = world_size

    shard = SluiceIterableDataset.shard

    def __iter__(self) -> Iterator[Any]:
        from .video import shard_range

        shard, shards = self.shard()
        refs = self.frames.refs()
        mine = [refs[i] for i in shard_range(len(refs), shard, shards)]
        for sample in self.frames.samples(mine):
            yield self.transform(sample) if self.transform else sample


class SluiceVideoFrameMap(TorchDataset):
    """Map-style: `[i]` is the `i`-th annotated frame (by position, then frame number), decoded
    on its own (a seek and the frames from the keyframe before it); numpy arrays, as
    `SluiceVideoFrames` gives."""

    def __init__(self, dataset: Any, transform: Optional[Callable[[Dict[str, Any]], Any]] = None,
                 cache_dir: Optional[str] = None):
        from .video import VideoFrames

        self.frames = VideoFrames(dataset, cache_dir=cache_dir)
        self.refs = self.frames.refs()
        self.transform = transform

    def __len__(self) -> int:
        return len(self.refs)

    def __getitem__(self, index: Any) -> Any:
        if torch.is_tensor(index):
            index = index.tolist()
        sample = next(self.frames.samples([self.refs[int(index)]]))
        return self.transform(sample) if self.transform else sample
