"""`to_pytorch()` against a live server: every tensor equals the pycocotools and torchvision
`CocoDetection` readings of the same COCO files; workers and ranks split epochs exactly once."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image
from pycocotools.coco import COCO
from sluice import Project
from torch.utils.data import DataLoader
from torchvision.datasets import CocoDetection
from torchvision.transforms import functional as F

from conftest import ROOT


def expected_tensors(coco: COCO, image_id: int, label_names: list) -> dict:
    """The standard tensors of an image as pycocotools reads its annotations: the objects are
    the annotations with a box, in file order."""
    anns = [a for a in coco.imgToAnns[image_id] if "bbox" in a]
    boxes = np.array([[x, y, x + w, y + h] for x, y, w, h in (a["bbox"] for a in anns)], dtype=np.float64)
    names = [coco.cats[a["category_id"]]["name"] for a in anns]
    k = max([len(a.get("keypoints", [])) // 3 for a in anns], default=0)
    keypoints = np.zeros((len(anns), k, 3), dtype=np.float32)
    rings, ring_offsets, offsets = [], [0], [0]
    for n, a in enumerate(anns):
        kp = np.array(a.get("keypoints", []), dtype=np.float32).reshape(-1, 3)
        keypoints[n, :len(kp)] = kp
        segmentation = a.get("segmentation")
        for ring in segmentation if isinstance(segmentation, list) else []:
            rings.extend(ring)
            ring_offsets.append(len(rings) // 2)
        offsets.append(len(ring_offsets) - 1)
    return {
        "boxes": boxes.astype(np.float32).reshape(-1, 4),
        "labels": np.array([label_names.index(name) for name in names], dtype=np.int64),
        "names": names,
        "area": [a.get("area") for a in anns],
        "iscrowd": np.array([a.get("iscrowd", 0) for a in anns], dtype=np.int64),
        "keypoints": keypoints,
        "polygon_xy": np.array(rings, dtype=np.float32).reshape(-1, 2),
        "polygon_ring_offsets": np.array(ring_offsets, dtype=np.int64),
        "polygon_offsets": np.array(offsets, dtype=np.int64),
    }


def test_every_tensor_equals_the_pycocotools_reading(fixtures_server: tuple) -> None:
    url, sets = fixtures_server
    checked_objects = 0
    for project_id, annotations, images in sets:
        project = Project(project_id, host=url)
        labels = project.labels()
        label_names = [label["name"] for label in labels]
        label_ids = {label["name"]: label["id"] for label in labels}
        ds = project.directory.get(name="Default").to_pytorch()
        coco = COCO(str(annotations))
        detection = CocoDetection(str(images), str(annotations))
        image_ids = [image["id"] for image in json.loads(annotations.read_text())["images"]]
        assert len(ds) == len(image_ids), project_id
        for position, image_id in enumerate(image_ids):
            sample = ds[position]
            expected = expected_tensors(coco, image_id, label_names)
            where = f"{annotations.name} image {image_id}"
            assert sample["image_id"].tolist() == [image_id], where
            assert sample["diffgram_file"].name == coco.imgs[image_id]["file_name"], where
            assert sample["diffgram_file"].width == coco.imgs[image_id]["width"], where
            for key in ("boxes", "labels", "iscrowd", "keypoints", "polygon_xy", "polygon_ring_offsets",
                        "polygon_offsets"):
                actual = sample[key].numpy()
                assert actual.dtype == expected[key].dtype, (where, key)
                assert actual.shape == expected[key].shape, (where, key)
                assert np.array_equal(actual, expected[key]), (where, key)
            assert sample["label_ids"].tolist() == [label_ids[name] for name in expected["names"]], where
            assert sample["label_name_list"] == expected["names"], where
            assert sample["label_id_list"] == sample["label_ids"].tolist(), where
            boxes = sample["boxes"].numpy()
            for column, key in enumerate(("x_min_list", "y_min_list", "x_max_list", "y_max_list")):
                assert np.array_equal(sample[key].numpy(), boxes[:, column]), (where, key)
            for actual, area, box in zip(sample["area"].tolist(), expected["area"], expected["boxes"]):
                # COCO's own area where the file has one; the box's where it has none (CrowdPose).
                wanted = np.float32(area) if area is not None else np.float32((box[2] - box[0]) * (box[3] - box[1]))
                assert np.isclose(actual, wanted, rtol=1e-6) and (area is None or np.float32(actual) == wanted), where

            # torchvision's reading: the same image (bytes and pixels) and the same boxes.
            picture, target = detection[detection.ids.index(image_id)]
            file_bytes = (Path(images) / coco.imgs[image_id]["file_name"]).read_bytes()
            assert sample["image"].fp.getvalue() == file_bytes, where
            assert np.array_equal(np.asarray(sample["image"].convert("RGB")), np.asarray(picture)), where
            boxed = [t for t in target if "bbox" in t]
            assert np.array_equal(
                boxes, np.array([[x, y, x + w, y + h] for x, y, w, h in (t["bbox"] for t in boxed)],
                                dtype=np.float64).astype(np.float32).reshape(-1, 4)), where
            checked_objects += len(boxed)
    assert checked_objects == 14 + 5 + 5 + 1 + 2 + 1 + 2 + 1 + 2


class AdjustForRCNN:
    """A transform as the Diffgram walkthrough writes one: sample dict → (image, target)."""

    def __call__(self, sample: dict) -> tuple:
        image = F.to_tensor(sample["image"])
        boxes = torch.stack(
            [sample["x_min_list"], sample["y_min_list"], sample["x_max_list"], sample["y_max_list"]], dim=1)
        target = {"boxes": boxes, "labels": torch.tensor(sample["label_id_list"], dtype=torch.int64)}
        return image, target


def collate(batch: list) -> tuple:
    return tuple(zip(*batch))


def test_a_diffgram_style_transform_works_unchanged(server: str) -> None:
    ds = Project("coco-dataset", host=server).directory.get(name="Default")
    loader = DataLoader(ds.to_pytorch(transform=AdjustForRCNN()), batch_size=4, collate_fn=collate)
    count = 0
    for images, targets in loader:
        for image, target in zip(images, targets):
            assert image.dtype == torch.float32 and image.shape[0] == 3
            assert target["boxes"].shape == (len(target["labels"]), 4)
            assert (target["boxes"][:, 2] >= target["boxes"][:, 0]).all()
            count += 1
    assert count == len(ds) == 9


def file_ids(loader: DataLoader) -> list:
    return [sample["diffgram_file"].id for batch in loader for sample in batch]


def test_a_map_style_dataset_in_forked_workers_reads_each_item_once(server: str) -> None:
    ds = Project("coco-dataset", host=server).directory.get(name="Default")
    mapped = ds.to_pytorch()
    assert mapped[0]["diffgram_file"].position == 0  # the parent's session exists before the fork
    loader = DataLoader(mapped, batch_size=3, shuffle=True, num_workers=2, collate_fn=list,
                        multiprocessing_context="fork", generator=torch.Generator().manual_seed(5))
    seen = file_ids(loader)
    assert sorted(seen) == sorted(ds[i]["file"]["id"] for i in range(len(ds)))


def test_streaming_workers_and_ranks_cover_the_epoch_exactly_once(server: str) -> None:
    ds = Project("coco-dataset", host=server).directory.get(name="Default")
    every = sorted(ds[i]["file"]["id"] for i in range(len(ds)))
    for seed in (None, 11):
        seen = []
        for rank in range(2):
            streaming = ds.to_pytorch(streaming=True, shuffle_seed=seed, epoch=2, rank=rank, world_size=2)
            loader = DataLoader(streaming, batch_size=2, num_workers=2, collate_fn=list,
                                multiprocessing_context="fork")
            seen += file_ids(loader)
        assert sorted(seen) == every, seed


def test_set_epoch_reshuffles_deterministically(server: str) -> None:
    ds = Project("coco-dataset", host=server).directory.get(name="Default")
    streaming = ds.to_pytorch(streaming=True, shuffle_seed=3)
    orders = []
    for epoch in (0, 1, 0):
        streaming.set_epoch(epoch)
        orders.append([sample["diffgram_file"].id for sample in streaming])
    assert orders[0] == orders[2] and orders[0] != orders[1]
    assert sorted(orders[0]) == sorted(orders[1])


DDP_RANK = textwrap.dedent("""
    import json, sys, types
    sys.modules["torchvision._meta_registrations"] = types.ModuleType("torchvision._meta_registrations")
    import torch.distributed as dist
    from torch.utils.data import DataLoader
    from sluice import Project
    dist.init_process_group("gloo")
    ds = Project("coco-dataset", host=sys.argv[1]).directory.get(name="Default").slice("labels.person > 0")
    loader = DataLoader(ds.to_pytorch(streaming=True, shuffle_seed=9), batch_size=2, num_workers=2,
                        collate_fn=list, multiprocessing_context="fork")
    ids = [sample["diffgram_file"].id for batch in loader for sample in batch]
    print(json.dumps({"rank": dist.get_rank(), "ids": ids}))
    dist.destroy_process_group()
""")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_torch_distributed_ranks_with_workers_split_a_slice_exactly_once(server: str) -> None:
    port = free_port()
    processes = []
    for rank in range(2):
        env = {**os.environ, "RANK": str(rank), "WORLD_SIZE": "2", "MASTER_ADDR": "127.0.0.1",
               "MASTER_PORT": str(port), "PYTHONPATH": str(ROOT / "tests" / "python")}
        processes.append(subprocess.Popen([sys.executable, "-c", DDP_RANK, server], env=env,
                                          stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True))
    results = []
    for process in processes:
        out, err = process.communicate(timeout=120)
        assert process.returncode == 0, err[-2000:]
        results.append(json.loads(out.strip().splitlines()[-1]))
    assert sorted(r["rank"] for r in results) == [0, 1]
    sliced = Project("coco-dataset", host=server).directory.get(name="Default").slice("labels.person > 0")
    ids = [i for r in results for i in r["ids"]]
    assert all(r["ids"] for r in results), "both ranks got work"
    assert sorted(ids) == sorted(sliced[i]["file"]["id"] for i in range(len(sliced)))
