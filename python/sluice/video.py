"""One sample per annotated frame of a dataset's videos, decoded with PyAV (the `video` extra).

A video's record carries its instances with their `frames` and `tracks` (DESIGN.md "Tensors")
but not the video's bytes: those are read once from `/files/{id}/media` into a cache directory
(content-addressed, shared by the DataLoader workers of a machine) and decoded from there,
each worker seeking to the first frame it owns and decoding forward. Files of type `frame`
(a video kept as frame images) are samples of their own, as images are.
"""

from __future__ import annotations

import os
import re
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Dict, Iterator, List, Optional, Sequence, Tuple

import numpy as np

from .records import Record
from .sample import FileInfo, build_sample

#: The per-instance keys a frame's sample subsets (the ragged polygon keys are rebuilt).
_PER_INSTANCE = ("boxes", "labels", "label_ids", "area", "iscrowd", "keypoints", "frames", "tracks")


@dataclass(frozen=True)
class FrameRef:
    """One annotated frame: the position of its video in the dataset and its frame number."""

    position: int
    frame: int


def default_cache_dir() -> Path:
    return Path(os.environ.get("SLUICE_VIDEO_CACHE") or Path(tempfile.gettempdir()) / "sluice-video-cache")


def subset_instances(tensors: Dict[str, np.ndarray], keep: np.ndarray) -> Dict[str, np.ndarray]:
    """The standard tensors of the instances at indices `keep`, polygons included."""
    out = {key: tensors[key][keep] for key in _PER_INSTANCE if key in tensors}
    offsets, rings, xy = tensors["polygon_offsets"], tensors["polygon_ring_offsets"], tensors["polygon_xy"]
    new_offsets, new_rings, points = [0], [0], []
    for i in keep:
        for ring in range(int(offsets[i]), int(offsets[i + 1])):
            points.append(xy[int(rings[ring]):int(rings[ring + 1])])
            new_rings.append(new_rings[-1] + len(points[-1]))
        new_offsets.append(len(new_rings) - 1)
    out["polygon_xy"] = np.concatenate(points).astype(np.float32) if points else np.zeros((0, 2), np.float32)
    out["polygon_ring_offsets"] = np.asarray(new_rings, dtype=np.int64)
    out["polygon_offsets"] = np.asarray(new_offsets, dtype=np.int64)
    out["image_id"] = tensors["image_id"]
    return out


def annotated_frames(record: Record) -> Dict[int, np.ndarray]:
    """Frame number → the indices of the record's instances on that frame."""
    frames = record.tensors.get("frames")
    if frames is None or len(frames) == 0:
        return {}
    order = np.argsort(frames, kind="stable")
    numbers, starts = np.unique(frames[order], return_index=True)
    bounds = list(starts[1:]) + [len(order)]
    return {int(n): order[s:e] for n, s, e in zip(numbers, starts, bounds) if n >= 0}


def decode_frames(path: str, frames: Sequence[int]) -> Iterator[Tuple[int, np.ndarray]]:
    """The RGB pixels (H×W×3 uint8) of `frames` (ascending) of the video at `path`: one seek to
    the keyframe before the first, then decoding forward."""
    import av

    if not frames:
        return
    with av.open(path) as container:
        stream = container.streams.video[0]
        stream.thread_type = "AUTO"
        rate = stream.average_rate or stream.guessed_rate
        if not rate:
            raise ValueError(f"{path}: the video stream has no frame rate")
        base = stream.time_base
        start = stream.start_time or 0
        if frames[0] > 0:
            container.seek(start + int(frames[0] / rate / base), stream=stream, backward=True)
        wanted = iter(frames)
        target = next(wanted)
        for frame in container.decode(stream):
            if frame.pts is None:
                continue
            number = round((frame.pts - start) * base * rate)
            if number < target:
                continue
            if number > target:
                raise ValueError(f"{path}: frame {target} was not found (the decoder went from before it to {number})")
            yield number, frame.to_ndarray(format="rgb24")
            target = next(wanted, None)
            if target is None:
                return
        raise ValueError(f"{path}: the video ends before frame {target}")


class VideoFrames:
    """The annotated frames of a dataset (or slice), and their samples."""

    def __init__(self, dataset: Any, cache_dir: Optional[os.PathLike] = None):
        self.dataset = dataset
        self.cache_dir = Path(cache_dir) if cache_dir is not None else default_cache_dir()
        self._records: Optional[Dict[int, Record]] = None

    @property
    def records(self) -> Dict[int, Record]:
        """Position → record of every video in the dataset (annotations only, no bytes)."""
        if self._records is None:
            self._records = {r.position: r for r in self.dataset.records() if r.metadata.get("type") == "video"}
        return self._records

    def refs(self) -> List[FrameRef]:
        """Every annotated frame, by position then frame number: the epoch of a frame dataset."""
        return [FrameRef(position, frame) for position, record in sorted(self.records.items())
                for frame in sorted(annotated_frames(record))]

    def video_path(self, record: Record) -> str:
        """The video's bytes in the cache, read from the server the first time (written to a
        temporary name and renamed, so concurrent workers never read half a file)."""
        sha = record.metadata.get("sha256") or ""
        # The name of a file in the cache: only a SHA-256, whatever a server sends.
        if not re.fullmatch(r"[0-9a-f]{64}", sha):
            raise ValueError(f"file {record.metadata.get('name')!r} has no video bytes on the server")
        self.cache_dir.mkdir(parents=True, exist_ok=True)
        path = self.cache_dir / sha
        if not path.exists():
            connection = self.dataset.connection
            partial = self.cache_dir / f".{sha}.{os.getpid()}.partial"
            with open(partial, "wb") as out:
                for chunk in connection.iter_stream(f"/api/v1/files/{record.metadata['file_id']}/media", {}, 1 << 20):
                    out.write(chunk)
            os.replace(partial, path)
        return str(path)

    def samples(self, refs: Sequence[FrameRef]) -> Iterator[Dict[str, Any]]:
        """The samples of `refs` (grouped by video, each video decoded forward once)."""
        index = 0
        while index < len(refs):
            position = refs[index].position
            end = index
            while end < len(refs) and refs[end].position == position:
                end += 1
            record = self.records[position]
            by_frame = annotated_frames(record)
            names = record.label_names
            for number, pixels in decode_frames(self.video_path(record), [r.frame for r in refs[index:end]]):
                yield frame_sample(record, number, pixels, by_frame[number], names)
            index = end


def frame_sample(record: Record, frame: int, pixels: np.ndarray, keep: np.ndarray, names: Sequence[str]
                 ) -> Dict[str, Any]:
    """A frame's sample: the keys of `make_sample` with `image` the frame's pixels (H×W×3
    uint8) and the tensors of the instances on that frame, plus `frame` and `tracks`. `names`
    are the record's label names, parsed once per video by the caller. Numpy arrays."""
    tensors = subset_instances(record.tensors, keep)
    info = FileInfo.from_record(record)
    info.image = {**info.image, "frame": frame}
    sample = build_sample(info, tensors, [names[int(i)] for i in keep] if len(names) else [], pixels)
    sample["frame"] = frame
    sample["tracks"] = tensors.get("tracks")
    return sample


def shard_range(count: int, shard: int, shards: int) -> range:
    """Shard `shard`'s contiguous part of `count` frames: contiguous, so each worker decodes its
    stretch of a video forward once instead of every frame of it."""
    return range(count * shard // shards, count * (shard + 1) // shards)
