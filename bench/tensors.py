"""End-to-end benchmark of issue 5: samples/s into a PyTorch DataLoader (num_workers 0 and 2)
from a Sluice server (`to_pytorch()`, streaming and map-style) against torchvision's
`CocoDetection` reading the same JPEGs from local disk, WebDataset shards and MosaicML
Streaming (MDS) shards of the same data, in the same run; ratios to CocoDetection printed.

Set-up, once (as for bench/streaming.py, plus the Sluice package):

    python3 -m venv .venv-bench
    .venv-bench/bin/pip install --find-links /opt/wheels -r bench/requirements.txt ./python

Run (uses the release build of sluice; the readers run under .venv-bench/bin/python):

    python3 bench/tensors.py                 # 2,000 real photographs, 2 epochs per reader
    python3 bench/tensors.py --files 500     # a quick check
    python3 bench/tensors.py --paired 8      # CocoDetection and Sluice streaming (2 workers) in turns
    python3 bench/tensors.py --sample-cost   # CPU per sample each reader costs a worker, beside the decode

The data: the 9 photographs of the bundled sample with their COCO annotations, cycled to
--files images. Each copy gets a few unique bytes after the JPEG's end marker (decoders ignore
them) so that Sluice's content-addressed store keeps every copy, as the other readers do.

Every reader does the same work per sample: decode the JPEG to RGB pixels (PIL), and make a
uint8 image tensor and a float32 box tensor; batches of 16 with a list collate. Rates count
from the first batch asked for to the last one received (the DataLoader's worker start-up
included), the best of --repeat epochs. The data sits in the page cache for every reader
(a warm-up epoch runs first), so the comparison is of the readers, not of the disk. Every
reader runs --rounds times, taking turns, and keeps its best: the machine's speed drifts
over minutes (on a shared host, by 20% and more), and taking turns spreads the drift over all.
"""

from __future__ import annotations

import argparse
import io
import itertools
import json
import subprocess
import sys
import tarfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from foundation import ROOT, process_cpu, run, start_server, step  # noqa: E402
from peers import import_streaming  # noqa: E402  (takes this directory off sys.path: bench/streaming.py)

FIXTURES = ROOT / "Tests" / "Fixtures" / "coco"
SAMPLE = [
    ("val2017-persons/person_keypoints_val2017.json", "val2017-persons/images"),
    ("crowdpose/test_crowdpose.json", "crowdpose"),
    ("ochuman/test_ochuman.json", "ochuman"),
]
SYSTEMS = ("cocodetection", "sluice-stream", "sluice-map", "wds", "mds")
#: The readers of --sample-cost: "sluice-stream-records" is Sluice streaming as the Python
#: package read it before binary item frames (safetensors records, `format=tensors`).
COST_SYSTEMS = ("sluice-stream", "sluice-stream-records", "sluice-map", "cocodetection", "wds", "mds")
BATCH = 16


# Data ----------------------------------------------------------------------------------------

def build_coco(out: Path, files: int) -> Path:
    """`files` images cycling the sample's photographs, with their annotations."""
    annotations_path = out / "annotations.json"
    if annotations_path.exists():
        return annotations_path
    sources = []
    categories = None
    for annotations, images in SAMPLE:
        coco = json.loads((FIXTURES / annotations).read_text())
        categories = categories or coco["categories"]
        by_image: dict[int, list] = {}
        for a in coco["annotations"]:
            by_image.setdefault(a["image_id"], []).append(a)
        for image in coco["images"]:
            sources.append((image, (FIXTURES / images / image["file_name"]).read_bytes(), by_image.get(image["id"], [])))
    (out / "images").mkdir(parents=True, exist_ok=True)
    images, anns = [], []
    for i in range(files):
        image, data, source_anns = sources[i % len(sources)]
        name = f"{i + 1:08d}.jpg"
        (out / "images" / name).write_bytes(data + i.to_bytes(8, "little"))
        images.append({"id": i + 1, "file_name": name, "width": image["width"], "height": image["height"]})
        for a in source_anns:
            anns.append({**a, "id": len(anns) + 1, "image_id": i + 1})
    annotations_path.write_text(json.dumps({"images": images, "annotations": anns, "categories": categories}))
    return annotations_path


def write_wds(coco: dict, images: Path, out: Path) -> None:
    by_image: dict[int, list] = {}
    for a in coco["annotations"]:
        by_image.setdefault(a["image_id"], []).append(a)
    out.mkdir(parents=True, exist_ok=True)
    per_shard = 500
    for start in range(0, len(coco["images"]), per_shard):
        with tarfile.open(out / f"shard-{start // per_shard:06d}.tar", "w") as tar:
            for image in coco["images"][start:start + per_shard]:
                key = f"{image['id']:08d}"
                for suffix, data in (("jpg", (images / image["file_name"]).read_bytes()),
                                     ("json", json.dumps(by_image.get(image["id"], [])).encode())):
                    info = tarfile.TarInfo(f"{key}.{suffix}")
                    info.size = len(data)
                    tar.addfile(info, io.BytesIO(data))


def write_mds(coco: dict, images: Path, out: Path) -> None:
    streaming = import_streaming()
    by_image: dict[int, list] = {}
    for a in coco["annotations"]:
        by_image.setdefault(a["image_id"], []).append(a)
    with streaming.MDSWriter(out=str(out), columns={"jpg": "bytes", "json": "json"}) as writer:
        for image in coco["images"]:
            writer.write({"jpg": (images / image["file_name"]).read_bytes(), "json": by_image.get(image["id"], [])})


# Readers -------------------------------------------------------------------------------------

def coco_boxes(anns: list) -> list:
    return [[x, y, x + w, y + h] for x, y, w, h in (a["bbox"] for a in anns)]


def box_tensor(anns: list) -> Any:
    import torch
    return torch.tensor(coco_boxes(anns), dtype=torch.float32).reshape(-1, 4)


def lazy_image(jpeg: bytes) -> Any:
    """A PIL image over the bytes, its header read and its pixels not decoded."""
    from PIL import Image
    return Image.open(io.BytesIO(jpeg))


def pixels(image: Any) -> Any:
    import numpy as np
    import torch
    return torch.from_numpy(np.asarray(image.convert("RGB")))


class Decoded:
    """What every reader does per sample in the main table: the JPEG decoded to an RGB tensor,
    the boxes a float32 tensor. One method per shape a reader gives its samples in."""

    coco_loads_images = True  # CocoDetection's own loader opens and decodes the file

    def coco(self, image: Any, target: list) -> tuple:
        import numpy as np
        import torch
        return torch.from_numpy(np.asarray(image)), box_tensor(target)

    def sluice(self, sample: dict) -> tuple:
        return pixels(sample["image"]), sample["boxes"]

    def jpeg(self, jpeg: bytes, anns: list) -> tuple:
        return pixels(lazy_image(jpeg)), box_tensor(anns)


class Opened(Decoded):
    """--sample-cost: the same work but the decode: the image opened (header read), as Sluice's
    samples hold it, so that every reader stops at the same point."""

    coco_loads_images = False

    def coco(self, image: Any, target: list) -> tuple:
        return image, box_tensor(target)

    def sluice(self, sample: dict) -> tuple:
        return sample["image"], sample["boxes"]

    def jpeg(self, jpeg: bytes, anns: list) -> tuple:
        return lazy_image(jpeg), box_tensor(anns)


def make_dataset(system: str, work: Path, host: str, per_sample: Decoded = Decoded()) -> Any:
    if system == "cocodetection":
        import types
        sys.modules.setdefault("torchvision._meta_registrations", types.ModuleType("torchvision._meta_registrations"))
        from torchvision.datasets import CocoDetection

        class Opening(CocoDetection):
            def _load_image(self, id: int) -> Any:
                return lazy_image((Path(self.root) / self.coco.loadImgs(id)[0]["file_name"]).read_bytes())

        reader = CocoDetection if per_sample.coco_loads_images else Opening
        return reader(str(work / "images"), str(work / "annotations.json"), transforms=per_sample.coco)
    if system.startswith("sluice"):
        from sluice import Project
        if system == "sluice-stream-records":
            from sluice import records
            opened = records.OrderReader.__init__

            def records_only(self: Any, *args: Any, **kwargs: Any) -> None:
                opened(self, *args, **kwargs)
                self.frames = False

            records.OrderReader.__init__ = records_only
        ds = Project("bench", host=host).directory.get(name="Default")
        if system == "sluice-map":
            return ds.to_pytorch(transform=per_sample.sluice)
        return ds.to_pytorch(streaming=True, transform=per_sample.sluice)
    if system == "wds":
        import webdataset as wds
        urls = [str(p) for p in sorted((work / "wds").glob("*.tar"))]
        return wds.WebDataset(urls, shardshuffle=False, nodesplitter=wds.split_by_node,
                              workersplitter=wds.split_by_worker).map(
            lambda sample: per_sample.jpeg(sample["jpg"], json.loads(sample["json"])))
    if system == "mds":
        streaming = import_streaming()
        from streaming.base.util import clean_stale_shared_memory
        clean_stale_shared_memory()

        class Samples(streaming.StreamingDataset):
            def __getitem__(self, index: int) -> tuple:
                sample = super().__getitem__(index)
                return per_sample.jpeg(sample["jpg"], sample["json"])

        return Samples(local=str(work / "mds"), shuffle=False, batch_size=BATCH)
    raise SystemExit(f"unknown system {system}")


def read(system: str, workers: int, work: Path, host: str, repeat: int) -> dict:
    from torch.utils.data import DataLoader
    dataset = make_dataset(system, work, host)
    best = None
    for epoch in range(repeat + 1):  # the first epoch warms the page cache up
        loader = DataLoader(dataset, batch_size=BATCH, num_workers=workers, collate_fn=list,
                            persistent_workers=False)
        started = time.perf_counter()
        samples = pixels = 0
        for batch in loader:
            samples += len(batch)
            pixels += sum(int(image.numel()) for image, _ in batch)
        seconds = time.perf_counter() - started
        if epoch > 0 and (best is None or seconds < best["seconds"]):
            best = {"samples": samples, "seconds": seconds, "samples_per_s": samples / seconds, "pixels": pixels}
    assert best is not None
    return {"system": system, "workers": workers, **best}


def paired(pairs: int, workers: int, work: Path, host: str) -> None:
    """CocoDetection and Sluice streaming epochs in turns, the DataLoaders' workers kept alive
    between epochs: each pair ran within seconds of each other, so the machine's drift hits
    both alike. Prints each pair's ratio and the median."""
    import statistics
    from torch.utils.data import DataLoader
    loaders = {system: DataLoader(make_dataset(system, work, host), batch_size=BATCH, num_workers=workers,
                                  collate_fn=list, persistent_workers=workers > 0)
               for system in ("cocodetection", "sluice-stream")}

    def rate(loader: Any) -> float:
        started = time.perf_counter()
        return sum(len(batch) for batch in loader) / (time.perf_counter() - started)

    for loader in loaders.values():
        rate(loader)  # warms the page cache and starts the workers
    ratios = []
    for n in range(pairs):
        # Who goes first alternates, so neither always follows the other.
        order = list(loaders) if n % 2 == 0 else list(reversed(loaders))
        rates = {system: rate(loaders[system]) for system in order}
        ratios.append(rates["sluice-stream"] / rates["cocodetection"])
        print(f"    pair {n + 1}: CocoDetection {rates['cocodetection']:.0f}/s, Sluice streaming "
              f"{rates['sluice-stream']:.0f}/s: {ratios[-1]:.3f}", file=sys.stderr, flush=True)
    print(f"\nSluice streaming ÷ CocoDetection, {workers} workers, {pairs} interleaved pairs of epochs: "
          f"median {statistics.median(ratios):.3f} (min {min(ratios):.3f}, max {max(ratios):.3f})")


# What a reader costs a worker ----------------------------------------------------------------

def reader_cost(system: str, work: Path, host: str, repeat: int) -> dict:
    """CPU seconds (every thread of this process) per sample of a DataLoader's loop over
    `system` without workers: the loop a worker runs, in this process, so the clock is the
    worker's. A Sluice server's CPU is its own process's and is not counted here."""
    from torch.utils.data import DataLoader
    dataset = make_dataset(system, work, host, Opened())
    best = None
    for epoch in range(repeat + 1):  # the first epoch warms the page cache and the server up
        loader = DataLoader(dataset, batch_size=BATCH, num_workers=0, collate_fn=list)
        cpu = time.process_time()
        samples = sum(len(batch) for batch in loader)
        cpu = time.process_time() - cpu
        if epoch > 0 and (best is None or cpu < best):
            best = cpu
    assert best is not None
    return {"system": system, "samples": samples, "cpu_us": best / samples * 1e6}


def decode_cost(work: Path, files: int) -> dict:
    """CPU per sample of the decode every reader of the main table does (JPEG to RGB pixels,
    into a tensor), over the same images, best of 3 passes."""
    jpegs = [p.read_bytes() for p in sorted((work / "images").iterdir())[:min(files, 500)]]
    best = None
    for _ in range(3):
        cpu = time.process_time()
        for jpeg in jpegs:
            pixels(lazy_image(jpeg))
        cpu = time.process_time() - cpu
        best = cpu if best is None else min(best, cpu)
    assert best is not None
    return {"system": "decode", "samples": len(jpegs), "cpu_us": best / len(jpegs) * 1e6}


def print_sample_costs(costs: dict, files: int) -> None:
    decode = costs["decode"]["cpu_us"]
    print(f"\nCPU per sample in the process that runs the reader's loop (a DataLoader worker's), {files} "
          f"photographs, the JPEG decode left out; a Sluice server's CPU is in the last column, its own process\n")
    print("| reader | worker CPU per sample, µs | ÷ the JPEG decode | server CPU per sample, µs |")
    print("|---|---:|---:|---:|")
    for system in [s for s in COST_SYSTEMS if s in costs]:
        r = costs[system]
        server = f"{r['server_us']:.0f}" if "server_us" in r else "–"
        print(f"| {system} | {r['cpu_us']:.0f} | {r['cpu_us'] / decode:.1%} | {server} |")
    print(f"| (the JPEG decode to an RGB tensor) | {decode:.0f} | 100% | – |")


# Driver --------------------------------------------------------------------------------------

def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--files", type=int, default=2000)
    parser.add_argument("--repeat", type=int, default=2, help="measured epochs per reader (the best is kept)")
    parser.add_argument("--work", default="/tmp/sluice-bench")
    parser.add_argument("--sluice", default=str(ROOT / ".build-release/release/sluice"))
    parser.add_argument("--python", default=None, help="interpreter of the readers (default: .venv-bench's)")
    parser.add_argument("--systems", default=",".join(SYSTEMS))
    parser.add_argument("--rounds", type=int, default=2,
                        help="run every reader this many times, in turn, and keep each one's best: "
                             "a machine's speed drifts over minutes, and rounds spread the drift over all readers")
    parser.add_argument("--workers", default="0,2")
    parser.add_argument("--paired", type=int, default=0, metavar="N",
                        help="instead of the table: N interleaved pairs of epochs, CocoDetection and Sluice "
                             "streaming, with the first of --workers (the steadiest ratio on a drifting machine)")
    parser.add_argument("--sample-cost", action="store_true",
                        help="instead of the table: each reader's CPU per sample in the worker's loop, the JPEG "
                             "decode left out, beside the decode's own cost (and Sluice's server's)")
    parser.add_argument("--reader", help=argparse.SUPPRESS)
    parser.add_argument("--host", help=argparse.SUPPRESS)
    args = parser.parse_args()
    work = Path(args.work) / f"tensors-{args.files}"

    if args.reader == "paired":
        paired(args.paired, int(args.workers), work, args.host)
        return
    if args.reader and args.reader.startswith("cost:"):
        system = args.reader.removeprefix("cost:")
        cost = decode_cost(work, args.files) if system == "decode" else reader_cost(system, work, args.host, args.repeat)
        print(json.dumps(cost))
        return
    if args.reader:
        print(json.dumps(read(args.reader, int(args.workers), work, args.host, args.repeat)))
        return

    python = args.python or str(ROOT / ".venv-bench/bin/python")
    systems = args.systems.split(",")
    started = time.perf_counter()
    total = 5
    step(1, total, f"photographs cycled to {args.files} images in {work}", started)
    work.mkdir(parents=True, exist_ok=True)
    annotations = build_coco(work, args.files)
    store = work / "store"
    if not (store / "sluice.sqlite").exists():
        step(2, total, "sluice import coco", started)
        run([args.sluice, "import", "coco", str(annotations), "--project", "bench", "--dataset", "Default",
             "--images", str(work / "images"), "--data", str(store)])
    coco = json.loads(annotations.read_text())
    if "wds" in systems and not (work / "wds").exists():
        step(3, total, "WebDataset shards", started)
        write_wds(coco, work / "images", work / "wds")
    if "mds" in systems and not (work / "mds").exists():
        step(3, total, "MDS shards", started)
        write_mds_in(python, work)
    step(4, total, "sluice serve", started)
    server, host = start_server(args.sluice, store)
    if args.paired:
        try:
            step(5, total, f"{args.paired} pairs of epochs", started)
            out = subprocess.run(
                [python, __file__, "--files", str(args.files), "--work", args.work, "--paired", str(args.paired),
                 "--reader", "paired", "--workers", args.workers.split(",")[-1], "--host", host])
            if out.returncode != 0:
                raise SystemExit("the paired run failed")
        finally:
            server.terminate()
            server.wait()
        return
    if args.sample_cost:
        try:
            costs = sample_costs(python, args, work, host, server.pid, started)
        finally:
            server.terminate()
            server.wait()
        print_sample_costs(costs, args.files)
        return
    best: dict = {}
    try:
        for round_, workers, system in itertools.product(range(args.rounds), args.workers.split(","), systems):
            step(5, total, f"{system}, {workers} workers" + (f", round {round_ + 1}" if args.rounds > 1 else ""),
                 started)
            out = subprocess.run(
                [python, __file__, "--files", str(args.files), "--work", args.work, "--reader", system,
                 "--workers", workers, "--host", host, "--repeat", str(args.repeat)],
                capture_output=True, text=True)
            if out.returncode != 0:
                raise SystemExit(f"{system} failed:\n{out.stderr[-3000:]}")
            result = json.loads(out.stdout.strip().splitlines()[-1])
            print(f"    {result['samples']} samples in {result['seconds']:.2f} s: "
                  f"{result['samples_per_s']:.0f} samples/s", file=sys.stderr)
            key = (system, int(workers))
            if key not in best or result["samples_per_s"] > best[key]["samples_per_s"]:
                best[key] = result
    finally:
        server.terminate()
        server.wait()

    print(f"\n{args.files} photographs (JPEG, {sum(i['width'] * i['height'] for i in coco['images']) / len(coco['images']) / 1e3:.0f} kpixels "
          f"on average), decoded to RGB tensors with their boxes, batches of {BATCH}; each reader's best of {args.repeat} epochs × {args.rounds} rounds\n")
    print("| reader | workers | samples/s | × CocoDetection |")
    print("|---|---:|---:|---:|")
    for workers in args.workers.split(","):
        base = best.get(("cocodetection", int(workers)))
        for r in (best[system, int(workers)] for system in systems):
            ratio = f"{r['samples_per_s'] / base['samples_per_s']:.2f}" if base else "–"
            print(f"| {r['system']} | {workers} | {r['samples_per_s']:,.0f} | {ratio} |")


def sample_costs(python: str, args: argparse.Namespace, work: Path, host: str, server_pid: int,
                 started: float) -> dict:
    """--sample-cost: each reader in its own process, in turns over --rounds, each one's lowest
    CPU per sample kept; the server's CPU over a Sluice reader's run, per sample read."""
    costs: dict = {}
    systems = ["decode"] + [s for s in COST_SYSTEMS if s in args.systems.split(",") or s == "sluice-stream-records"]
    for round_, system in itertools.product(range(args.rounds), systems):
        step(5, 5, f"{system}'s CPU per sample" + (f", round {round_ + 1}" if args.rounds > 1 else ""), started)
        server_cpu = process_cpu(server_pid)
        out = subprocess.run(
            [python, __file__, "--files", str(args.files), "--work", args.work, "--reader", f"cost:{system}",
             "--host", host, "--repeat", str(args.repeat)],
            capture_output=True, text=True)
        if out.returncode != 0:
            raise SystemExit(f"{system} failed:\n{out.stderr[-3000:]}")
        result = json.loads(out.stdout.strip().splitlines()[-1])
        if system.startswith("sluice"):
            # Every epoch the reader ran (its warm-up included) went through the server.
            result["server_us"] = (process_cpu(server_pid) - server_cpu) / (result["samples"] * (args.repeat + 1)) * 1e6
        print(f"    {result['cpu_us']:.0f} µs per sample", file=sys.stderr)
        if system not in costs or result["cpu_us"] < costs[system]["cpu_us"]:
            costs[system] = result
    return costs


def write_mds_in(python: str, work: Path) -> None:
    """MDS's writer lives in the bench environment: run it there."""
    code = ("import json, sys; sys.path.insert(0, %r); import tensors; from pathlib import Path; "
            "w = Path(%r); tensors.write_mds(json.loads((w / 'annotations.json').read_text()), w / 'images', w / 'mds')"
            % (str(Path(__file__).resolve().parent), str(work)))
    subprocess.run([python, "-c", code], check=True)


if __name__ == "__main__":
    main()
