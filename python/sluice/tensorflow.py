"""A `tf.data.Dataset` over a Sluice dataset or slice."""

from __future__ import annotations

from typing import Any, Dict, Iterator, Optional

import numpy as np
import tensorflow as tf


def output_signature() -> Dict[str, tf.TensorSpec]:
    """Every element's structure. The instance dimension (N) and the keypoints per instance (K)
    are None: they vary from item to item, so batch with `padded_batch` or `ragged_batch`
    (or map to fixed shapes, then `batch`).

    A text file's element has its UTF-8 text in `text` and an empty `image`; its spans are
    `spans` ([S, 2] start and end offsets in Unicode characters, end exclusive: what
    `tf.strings.substr(text, start, end - start, unit="UTF8_CHAR")` cuts) and `span_labels`
    ([S] label indices). An image's `text` is empty and its `spans` [0, 2]."""
    return {
        "image": tf.TensorSpec(shape=(), dtype=tf.string),
        "text": tf.TensorSpec(shape=(), dtype=tf.string),
        "spans": tf.TensorSpec(shape=(None, 2), dtype=tf.int64),
        "span_labels": tf.TensorSpec(shape=(None,), dtype=tf.int64),
        "file_id": tf.TensorSpec(shape=(), dtype=tf.int64),
        "position": tf.TensorSpec(shape=(), dtype=tf.int64),
        "name": tf.TensorSpec(shape=(), dtype=tf.string),
        "width": tf.TensorSpec(shape=(), dtype=tf.int32),
        "height": tf.TensorSpec(shape=(), dtype=tf.int32),
        "image_id": tf.TensorSpec(shape=(), dtype=tf.int64),
        "boxes": tf.TensorSpec(shape=(None, 4), dtype=tf.float32),
        "labels": tf.TensorSpec(shape=(None,), dtype=tf.int64),
        "label_ids": tf.TensorSpec(shape=(None,), dtype=tf.int64),
        "label_names": tf.TensorSpec(shape=(None,), dtype=tf.string),
        "area": tf.TensorSpec(shape=(None,), dtype=tf.float32),
        "iscrowd": tf.TensorSpec(shape=(None,), dtype=tf.int64),
        "keypoints": tf.TensorSpec(shape=(None, None, 3), dtype=tf.float32),
    }


def _element(record: Any) -> Dict[str, Any]:
    t, m = record.tensors, record.metadata
    is_text = m.get("type") == "text"
    spans, span_labels = t.get("spans"), t.get("span_labels")
    return {
        "image": b"" if is_text else (record.image_bytes or b""),
        "text": bytes(record.image_bytes or b"") if is_text else b"",
        "spans": spans if spans is not None else np.zeros((0, 2), dtype=np.int64),
        "span_labels": span_labels if span_labels is not None else np.zeros((0,), dtype=np.int64),
        "file_id": np.int64(m["file_id"]),
        "position": np.int64(m["position"]),
        "name": m.get("name", "").encode(),
        "width": np.int32(m.get("width", 0)),
        "height": np.int32(m.get("height", 0)),
        "image_id": np.int64(t["image_id"][0]),
        "boxes": t["boxes"],
        "labels": t["labels"],
        "label_ids": t["label_ids"],
        "label_names": np.array([name.encode() for name in record.label_names], dtype=object).reshape(-1),
        "area": t["area"],
        "iscrowd": t["iscrowd"],
        "keypoints": t["keypoints"],
    }


def decode_image(element: Dict[str, tf.Tensor], channels: int = 3) -> Dict[str, tf.Tensor]:
    """Replaces the encoded `image` with its pixels (uint8, [H, W, channels]), in TensorFlow; a
    text file's empty `image` becomes a [0, 0, channels] array."""
    encoded = element["image"]
    decoded = tf.cond(
        tf.strings.length(encoded) > 0,
        lambda: tf.io.decode_image(encoded, channels=channels, expand_animations=False),
        lambda: tf.zeros((0, 0, channels), dtype=tf.uint8))
    return {**element, "image": decoded}


def to_tensorflow(dataset: Any, decode: bool = False, shuffle_seed: Optional[int] = None, epoch: int = 0,
                  block_size: Optional[int] = None, rank: int = 0, world_size: int = 1, tail: str = "keep",
                  prefetch: int = 64, range_size: int = 256) -> tf.data.Dataset:
    """The dataset's tensor records as a `tf.data.Dataset` (see `output_signature`).

    The stream options are those of `Dataset.records`. With `decode=True` the images are
    decoded by TensorFlow (`decode_image`, parallel); otherwise `image` holds the encoded bytes.
    """

    def generate() -> Iterator[Dict[str, Any]]:
        records = dataset.records(
            shuffle_seed=shuffle_seed, epoch=epoch, block_size=block_size, rank=rank, world_size=world_size,
            tail=tail, prefetch=prefetch, range_size=range_size)
        for record in records:
            yield _element(record)

    out = tf.data.Dataset.from_generator(generate, output_signature=output_signature())
    if decode:
        out = out.map(decode_image, num_parallel_calls=tf.data.AUTOTUNE)
    return out
