"""Trains a small box-regression detector for a few steps on a Sluice dataset via `to_pytorch()`.

    python examples/pytorch_detection.py --host http://127.0.0.1:8085 --steps 20

The model is a small CNN that predicts each image's largest object box (normalised to the
image size): enough to show samples flowing from the server into a training loop with
DataLoader workers, a shuffled streaming epoch and a Diffgram-style transform.
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import torch
from sluice import Project
from torch import nn
from torch.utils.data import DataLoader

SIZE = 128


class LargestBoxTarget:
    """sample → (image [3, SIZE, SIZE] float, box [4] normalised x_min, y_min, x_max, y_max)."""

    def __call__(self, sample: dict) -> tuple:
        image = sample["image"].convert("RGB")
        width, height = image.size
        pixels = np.asarray(image.resize((SIZE, SIZE)), dtype=np.float32) / 255.0
        boxes = torch.stack(
            [sample["x_min_list"], sample["y_min_list"], sample["x_max_list"], sample["y_max_list"]], dim=1)
        if len(boxes) == 0:
            box = torch.zeros(4)
        else:
            largest = ((boxes[:, 2] - boxes[:, 0]) * (boxes[:, 3] - boxes[:, 1])).argmax()
            box = boxes[largest] / torch.tensor([width, height, width, height], dtype=torch.float32)
        return torch.from_numpy(pixels).permute(2, 0, 1), box


def model() -> nn.Module:
    def block(inputs: int, outputs: int) -> nn.Module:
        return nn.Sequential(nn.Conv2d(inputs, outputs, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2))

    return nn.Sequential(
        block(3, 16), block(16, 32), block(32, 64), block(64, 64),
        nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(64, 4), nn.Sigmoid())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default=None, help="server URL (default $SLUICE_HOST or http://127.0.0.1:8085)")
    parser.add_argument("--project", default="coco-dataset")
    parser.add_argument("--dataset", default="Default")
    parser.add_argument("--query", default="labels.any > 0")
    parser.add_argument("--steps", type=int, default=20)
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()

    torch.manual_seed(0)
    ds = Project(args.project, host=args.host).directory.get(name=args.dataset).slice(args.query)
    train = ds.to_pytorch(streaming=True, shuffle_seed=0, transform=LargestBoxTarget())
    net = model()
    optimiser = torch.optim.Adam(net.parameters(), lr=3e-3)
    step, epoch, started, losses = 0, 0, time.monotonic(), []
    while step < args.steps:
        train.set_epoch(epoch)
        for images, boxes in DataLoader(train, batch_size=4, num_workers=args.workers):
            loss = nn.functional.l1_loss(net(images), boxes)
            optimiser.zero_grad()
            loss.backward()
            optimiser.step()
            losses.append(loss.item())
            step += 1
            print(f"epoch {epoch} step {step}: L1 loss {loss.item():.4f}", flush=True)
            if step == args.steps:
                break
        epoch += 1
    print(f"trained {step} steps on {len(ds)} items in {time.monotonic() - started:.1f} s; "
          f"loss {np.mean(losses[:3]):.4f} → {np.mean(losses[-3:]):.4f}")


if __name__ == "__main__":
    main()
