"""Samples: a record in the shape of the Diffgram SDK's `to_pytorch()` samples."""

from __future__ import annotations

import io
from dataclasses import dataclass, field
from typing import Any, Dict, Optional

import numpy as np

from .frames import FrameRecord
from .records import Record

#: The standard tensor keys of a record (DESIGN.md "Tensors"), as they appear in a sample.
TENSOR_KEYS = (
    "boxes", "labels", "label_ids", "area", "iscrowd", "image_id",
    "polygon_xy", "polygon_ring_offsets", "polygon_offsets", "keypoints",
)


@dataclass
class FileInfo:
    """What the Diffgram SDK's samples call `diffgram_file`: the file behind a sample."""

    id: int
    name: str
    type: str
    width: Optional[int]
    height: Optional[int]
    position: int
    mime_type: Optional[str] = None
    image: Dict[str, Any] = field(default_factory=dict)

    @classmethod
    def from_record(cls, record: Any) -> "FileInfo":
        if isinstance(record, FrameRecord):
            f = record.file_fields()
            return cls(id=record.file_id, name=f["name"], type=f["type"], width=f["width"], height=f["height"],
                       position=record.position, mime_type=f["mime_type"],
                       image={"width": f["width"], "height": f["height"], "original_filename": f["name"]})
        m = record.metadata
        width = int(m["width"]) if "width" in m else None
        height = int(m["height"]) if "height" in m else None
        return cls(
            id=int(m["file_id"]), name=m.get("name", ""), type=m.get("type", "image"), width=width,
            height=height, position=int(m["position"]), mime_type=m.get("mime_type"),
            # Diffgram's file objects keep the image's size and name under `image`.
            image={"width": width, "height": height, "original_filename": m.get("name", "")},
        )


def open_image(data: Optional[bytes]) -> Any:
    """A PIL image over the encoded bytes: PIL reads only the header until pixels are asked for."""
    if data is None:
        return None
    from PIL import Image

    return Image.open(io.BytesIO(data))


def make_sample(record: Any, to_tensor: Optional[Any] = None) -> Dict[str, Any]:
    """The sample of a record.

    Keys: `image` (a lazily decoded PIL image), `diffgram_file` (`FileInfo`), `type`,
    `x_min_list`, `y_min_list`, `x_max_list`, `y_max_list`, `label_id_list`,
    `label_name_list`, and the standard tensor keys. `to_tensor` maps numpy arrays to the
    framework's tensors (`torch.from_numpy`); numpy arrays are kept without it.

    A text file's sample has `text` (the decoded string) instead of an image, and its spans:
    `spans` ([S, 2] start and end offsets into `text`, end exclusive, so `text[start:end]` is
    the span), `span_labels` ([S] label indices) and `span_name_list` (their label names).
    """
    info = FileInfo.from_record(record)
    if info.type != "text":
        return build_sample(info, record.tensors, record.label_names, open_image(record.image_bytes), to_tensor)
    sample = build_sample(info, record.tensors, record.label_names, None, to_tensor)
    data = record.image_bytes
    sample["text"] = None if data is None else bytes(data).decode("utf-8")
    convert = to_tensor or (lambda array: array)
    spans = record.tensors.get("spans")
    sample["spans"] = convert(spans if spans is not None else np.zeros((0, 2), dtype=np.int64))
    labels = record.tensors.get("span_labels")
    sample["span_labels"] = convert(labels if labels is not None else np.zeros((0,), dtype=np.int64))
    sample["span_name_list"] = record.span_label_names
    return sample


def build_sample(info: FileInfo, tensors: Dict[str, Any], label_names: list, image: Any,
                 to_tensor: Optional[Any] = None) -> Dict[str, Any]:
    """A sample from its parts: what `make_sample` gives for a record, and `sluice.video` for
    one frame of a video (the frame's pixels, the tensors of its instances)."""
    convert = to_tensor or (lambda array: array)
    boxes = tensors["boxes"]
    sample: Dict[str, Any] = {
        "image": image,
        "diffgram_file": info,
        "type": info.type,
        "x_min_list": convert(boxes[:, 0].copy()),
        "y_min_list": convert(boxes[:, 1].copy()),
        "x_max_list": convert(boxes[:, 2].copy()),
        "y_max_list": convert(boxes[:, 3].copy()),
        "label_id_list": tensors["label_ids"].tolist(),
        "label_name_list": label_names,
    }
    for key in TENSOR_KEYS:
        sample[key] = convert(tensors[key])
    return sample
