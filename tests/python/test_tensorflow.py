"""`to_tensorflow()` against a live server: a declared signature, the records' values, and
the usual tf.data pipelines (padded and ragged batches, decode + resize + batch, prefetch)."""

from __future__ import annotations

import numpy as np
import tensorflow as tf
from sluice import Project
from sluice.tensorflow import output_signature


def default(server: str):
    return Project("coco-dataset", host=server).directory.get(name="Default")


def test_elements_have_the_declared_signature_and_the_records_values(server: str) -> None:
    ds = default(server)
    tf_ds = ds.to_tensorflow()
    assert tf_ds.element_spec == output_signature()
    count = 0
    for position, element in enumerate(tf_ds):
        record = ds.record(position)
        assert int(element["position"]) == position
        assert int(element["file_id"]) == int(record.metadata["file_id"])
        assert element["image"].numpy() == record.image_bytes
        for key in ("boxes", "labels", "label_ids", "area", "iscrowd", "keypoints"):
            assert np.array_equal(element[key].numpy(), record.tensors[key]), key
        assert [n.decode() for n in element["label_names"].numpy()] == record.label_names
        assert int(element["width"]) == int(record.metadata["width"])
        count += 1
    assert count == len(ds)


def test_padded_and_ragged_batches(server: str) -> None:
    tf_ds = default(server).to_tensorflow()
    padded = list(tf_ds.padded_batch(4))
    assert [int(batch["boxes"].shape[0]) for batch in padded] == [4, 4, 1]
    most = max(int(e["boxes"].shape[0]) for e in tf_ds)
    assert max(int(batch["boxes"].shape[1]) for batch in padded) == most
    ragged = next(iter(tf_ds.ragged_batch(4)))
    assert isinstance(ragged["boxes"], tf.RaggedTensor)
    assert ragged["boxes"].shape[0] == 4


def test_decode_resize_batch_prefetch(server: str) -> None:
    def resize(element: dict) -> tuple:
        image = tf.image.resize(element["image"], (64, 64)) / 255.0
        return image, tf.shape(element["boxes"])[0]

    pipeline = (default(server).to_tensorflow(decode=True).map(resize).batch(3)
                .prefetch(tf.data.AUTOTUNE))
    batches = list(pipeline)
    assert len(batches) == 3
    images, counts = batches[0]
    assert images.shape == (3, 64, 64, 3) and images.dtype == tf.float32
    assert float(tf.reduce_max(images)) <= 1.0
    assert int(tf.reduce_sum([tf.reduce_sum(c) for _, c in batches])) == 24


def test_shards_cover_a_shuffled_epoch_once(server: str) -> None:
    ds = default(server)
    seen = []
    for rank in range(3):
        shard = ds.to_tensorflow(shuffle_seed=4, epoch=1, rank=rank, world_size=3)
        seen += [int(e["position"]) for e in shard]
    assert sorted(seen) == list(range(len(ds)))
