"""The peers of bench/streaming.py: converters that write a generated COCO dataset in each
peer's own format with its own writer, readers that iterate it the way a training loop would,
and a static file server for the curl baseline. Each runs as its own process, started by
bench/streaming.py, so that its peak RSS and its wall time are its own:

    python bench/peers.py write wds|mds|hf --coco DIR --out DIR [--media]
    python bench/peers.py read wds|wds-shuffled|mds|mds-shuffled|hf-json|hf-parquet --path DIR [--media]
    python bench/peers.py serve-static --dir DIR

One sample per image: `json` holds the image record and its annotations
({"image": {...}, "annotations": [...]}) and, with --media, `png` the image file's bytes as
stored (never decoded: Sluice does not decode either). A reader prints one JSON line on
stdout: items, payload bytes, bytes on disk, and its times measured inside the process, from
the moment the parent started it ($BENCH_SPAWNED_AT) to the first sample, imports and opening
the dataset included.
"""

from __future__ import annotations

import time

STARTED = time.time()  # before any import of a peer library: their import time is part of opening

import argparse  # noqa: E402
import json  # noqa: E402
import os  # noqa: E402
import sys  # noqa: E402
from collections import defaultdict  # noqa: E402
from pathlib import Path  # noqa: E402
from typing import Any, Iterator  # noqa: E402

# bench/streaming.py would shadow MosaicML's `streaming` package: this directory is not a source
# of imports here.
HERE = Path(__file__).resolve().parent
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != HERE]


class Progress:
    """A progress line on stderr every few seconds: count, rate, ETA."""

    def __init__(self, label: str, total: int, every: float = 2.0) -> None:
        self.label, self.total, self.every = label, total, every
        self.started = self.last = time.perf_counter()

    def update(self, done: int, *, final: bool = False) -> None:
        now = time.perf_counter()
        if not final and now - self.last < self.every:
            return
        self.last = now
        rate = done / (now - self.started) if now > self.started else 0
        eta = (self.total - done) / rate if rate else 0
        print(f"{self.label} · {done:,}/{self.total:,} · {rate:,.0f}/s · ETA {eta:,.0f} s",
              file=sys.stderr, flush=True)


def coco_samples(coco: Path, media: bool) -> tuple[int, Iterator[tuple[int, dict[str, Any], bytes | None]]]:
    """The images of DIR/annotations.json in file order, each with its annotations and (with
    media) the bytes of DIR/images/<file_name>."""
    with open(coco / "annotations.json", "rb") as f:
        document = json.load(f)
    by_image: dict[int, list[dict[str, Any]]] = defaultdict(list)
    for annotation in document.get("annotations", []):
        by_image[annotation["image_id"]].append(annotation)
    images = document["images"]

    def samples() -> Iterator[tuple[int, dict[str, Any], bytes | None]]:
        for image in images:
            record = {"image": image, "annotations": by_image.get(image["id"], [])}
            png = (coco / "images" / image["file_name"]).read_bytes() if media else None
            yield image["id"], record, png

    return len(images), samples()


def import_streaming() -> Any:
    """`import streaming`, which imports torchvision (for streaming.vision). The torchvision
    wheel on PyPI is built against CUDA torch; with the CPU torch its C ops do not load and
    its fake-kernel registrations fail at import (`operator torchvision::nms does not exist`).
    MDS reading and writing need none of it, so those registrations are left out."""
    import types
    sys.modules.setdefault("torchvision._meta_registrations", types.ModuleType("torchvision._meta_registrations"))
    import streaming
    return streaming


# Writers ------------------------------------------------------------------------------------

def write_wds(coco: Path, out: Path, media: bool) -> None:
    import webdataset as wds
    total, samples = coco_samples(coco, media)
    progress = Progress(f"webdataset ShardWriter{' + png' if media else ''}", total)
    out.mkdir(parents=True, exist_ok=True)
    # Shards of about 64 MB (the size MDS uses by default), or 10,000 samples without media.
    with wds.ShardWriter(str(out / "shard-%06d.tar"), maxcount=10_000, maxsize=64e6, verbose=0) as sink:
        for n, (image_id, record, png) in enumerate(samples, 1):
            sample: dict[str, Any] = {"__key__": f"{image_id:012d}", "json": record}
            if png is not None:
                sample["png"] = png
            sink.write(sample)
            progress.update(n)
    progress.update(total, final=True)


def write_mds(coco: Path, out: Path, media: bool) -> None:
    streaming = import_streaming()
    total, samples = coco_samples(coco, media)
    progress = Progress(f"streaming MDSWriter{' + png' if media else ''}", total)
    columns = {"json": "json", "png": "bytes"} if media else {"json": "json"}
    with streaming.MDSWriter(out=str(out), columns=columns, size_limit=1 << 26) as sink:
        for n, (_, record, png) in enumerate(samples, 1):
            sink.write({"json": record, "png": png} if media else {"json": record})
            progress.update(n)
    progress.update(total, final=True)


def write_hf(coco: Path, out: Path, media: bool) -> None:
    """JSON lines (one record per line) for annotations; with media, a parquet file with the
    record as a JSON string column and the image bytes as a binary column, in row groups of
    100 rows (what `datasets` itself uses for image data)."""
    total, samples = coco_samples(coco, media)
    out.mkdir(parents=True, exist_ok=True)
    progress = Progress(f"hf {'parquet + png' if media else 'json lines'}", total)
    if not media:
        with open(out / "data.jsonl", "w") as f:
            for n, (_, record, _) in enumerate(samples, 1):
                f.write(json.dumps(record) + "\n")
                progress.update(n)
        progress.update(total, final=True)
        return
    import pyarrow as pa
    import pyarrow.parquet as pq
    schema = pa.schema([("id", pa.int64()), ("json", pa.string()), ("png", pa.binary())])
    rows: dict[str, list[Any]] = {"id": [], "json": [], "png": []}
    with pq.ParquetWriter(str(out / "data.parquet"), schema) as writer:
        def flush() -> None:
            writer.write_table(pa.table(rows, schema=schema), row_group_size=100)
            for column in rows.values():
                column.clear()
        for n, (image_id, record, png) in enumerate(samples, 1):
            rows["id"].append(image_id)
            rows["json"].append(json.dumps(record))
            rows["png"].append(png)
            if len(rows["id"]) == 100:
                flush()
            progress.update(n)
        if rows["id"]:
            flush()
    progress.update(total, final=True)


# Readers ------------------------------------------------------------------------------------

def files_under(path: Path, suffixes: tuple[str, ...]) -> list[Path]:
    return sorted(p for p in path.rglob("*") if p.is_file() and p.name.endswith(suffixes))


def read(system: str, path: Path, media: bool) -> dict[str, Any]:
    """Opens the dataset, iterates every sample (decoding its JSON, not its image) and returns
    the counts and times."""
    spawned = float(os.environ.get("BENCH_SPAWNED_AT", STARTED))
    if system.startswith("wds"):
        import webdataset as wds
        imported = time.time()
        shards = files_under(path, (".tar",))
        on_disk = sum(p.stat().st_size for p in shards)
        urls = [str(p) for p in shards]
        if system == "wds-shuffled":
            # WebDataset's shuffle: shard order, then a buffer of samples (not a global permutation).
            dataset = wds.WebDataset(urls, shardshuffle=len(urls), seed=1).shuffle(1000, seed=1)
        else:
            dataset = wds.WebDataset(urls, shardshuffle=False)
        samples = ((json.loads(s["json"]), s.get("png")) for s in dataset)
    elif system.startswith("mds"):
        streaming = import_streaming()
        from streaming.base.util import clean_stale_shared_memory
        imported = time.time()
        clean_stale_shared_memory()
        on_disk = sum(p.stat().st_size for p in files_under(path, (".mds", ".mds.zstd")))
        if system == "mds-shuffled":
            dataset = streaming.StreamingDataset(local=str(path), shuffle=True, shuffle_seed=1, batch_size=1)
        else:
            dataset = streaming.StreamingDataset(local=str(path), shuffle=False, batch_size=1)
        # The json column comes back decoded already (MDS's json encoding).
        samples = ((s["json"], s.get("png")) for s in dataset)
    elif system.startswith("hf"):
        import datasets
        datasets.disable_progress_bars()
        imported = time.time()
        if system == "hf-json":
            files = [str(path / "data.jsonl")]
            dataset = datasets.load_dataset("json", data_files=files, split="train", streaming=True)
            samples = ((s, None) for s in dataset)  # the JSON builder hands out parsed records
        else:
            files = [str(path / "data.parquet")]
            columns = ["id", "json", "png"] if media else ["id", "json"]
            dataset = datasets.load_dataset("parquet", data_files=files, split="train", streaming=True,
                                            columns=columns)
            samples = ((json.loads(s["json"]), s.get("png")) for s in dataset)
        if system == "hf-json":
            on_disk = sum(os.path.getsize(f) for f in files)
        else:  # the column chunks read, not the whole file
            import pyarrow.parquet as pq
            metadata = pq.ParquetFile(files[0]).metadata
            on_disk = sum(metadata.row_group(g).column(c).total_compressed_size
                          for g in range(metadata.num_row_groups) for c in range(metadata.num_columns)
                          if metadata.schema.column(c).name in columns)
    else:
        raise SystemExit(f"unknown system {system}")

    opened = time.time()
    first = None
    items = instances = payload = 0
    for record, png in samples:
        if first is None:
            first = time.time()
        items += 1
        instances += len(record["annotations"])
        if png is not None:
            payload += len(png)
    ended = time.time()
    if media and payload == 0 and items:
        raise SystemExit(f"{system}: no media bytes in the samples")
    seconds = ended - opened
    return {
        "system": system, "items": items, "instances": instances,
        "media_bytes": payload, "bytes_on_disk": on_disk,
        "start_s": STARTED - spawned, "import_s": imported - STARTED, "open_s": opened - imported,
        "first_item_s": (first or ended) - spawned, "seconds": seconds,
        "items_per_s": items / seconds if seconds > 0 else 0,
        "mb_per_s": on_disk / 1e6 / seconds if seconds > 0 else 0,
    }


# Static file server --------------------------------------------------------------------------

def serve_static(directory: Path) -> None:
    """aiohttp's static route: files go out with sendfile(2), so the server is not what limits
    curl over loopback (python's http.server copies through Python and would be)."""
    import socket
    from aiohttp import web
    app = web.Application()
    app.router.add_static("/", str(directory))
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    print(f"static files of {directory} on http://127.0.0.1:{port}", file=sys.stderr, flush=True)
    web.run_app(app, sock=sock, print=None, access_log=None)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="mode", required=True)
    write = sub.add_parser("write")
    write.add_argument("system", choices=["wds", "mds", "hf"])
    write.add_argument("--coco", type=Path, required=True, help="directory with annotations.json and images/")
    write.add_argument("--out", type=Path, required=True)
    write.add_argument("--media", action="store_true")
    reader = sub.add_parser("read")
    reader.add_argument("system", choices=["wds", "wds-shuffled", "mds", "mds-shuffled", "hf-json", "hf-parquet"])
    reader.add_argument("--path", type=Path, required=True)
    reader.add_argument("--media", action="store_true")
    static = sub.add_parser("serve-static")
    static.add_argument("--dir", type=Path, required=True)
    args = parser.parse_args()

    if args.mode == "write":
        {"wds": write_wds, "mds": write_mds, "hf": write_hf}[args.system](args.coco, args.out, args.media)
    elif args.mode == "read":
        print(json.dumps(read(args.system, args.path, args.media)), flush=True)
    else:
        serve_static(args.dir)


if __name__ == "__main__":
    main()
