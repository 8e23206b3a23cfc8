"""End-to-end benchmark of issue 4: streaming training data from Sluice against the
static-file way, WebDataset, MosaicML Streaming and Hugging Face datasets, on the same data in
the same run: items/s and MB/s with annotations only and with media, time to the first item,
client peak RSS; and Sluice's media throughput against curl downloading the same bytes as one
file over loopback.

Set-up, once (torch is the CPU wheel in /opt/wheels: an unpinned torch pulls CUDA):

    python3 -m venv .venv-bench
    .venv-bench/bin/pip install --find-links /opt/wheels -r bench/requirements.txt

Run (the peers run under .venv-bench/bin/python when it exists, else under this interpreter):

    python3 bench/streaming.py                      # 20,000 images of ~100 KB (~2 GB)
    python3 bench/streaming.py --files 2000         # a quick check
    python3 bench/streaming.py --image-bytes 0      # annotations only, no media, no curl

Uses the release build of sluice. Everything it makes is kept in --work, in a directory named
by the dataset's parameters, and reused by the next run: the generated COCO data and images,
the store (datasets D and, for curl, BIG: one image as large as all of D's media together),
and each peer's converted copy (WebDataset shards, MDS shards, JSON lines, parquet). Disk: about
seven times the media size (2 GB of media: ~14 GB); `sluice generate` of BIG holds about three
times its size in memory. The default run takes roughly 8 minutes on 2 cores the first time
(generation and conversions; estimated from --files 2000), about half that when reused;
--repeat 3 keeps the fastest of three runs of each reader, for steadier numbers.

Every reader's files are read once before it is measured, so each finds them in the page cache
(as a second epoch would). Each reader is its own process, so its wall time and peak RSS
(wait4's ru_maxrss) are its own; the curl comparison also prints the CPU each side spends.
Time to the first item counts from the start of the process, imports and opening the dataset
included (for Sluice: connecting, looking up the dataset and making the epoch; the fresh server
first gets one unmeasured `--limit 1` stream, as a running server would have). Rates count
from the opened dataset to the last item, as `sluice stream` does. MB/s is what each reader
took in: Sluice's wire bytes (its binary item frames, plus media), the peers' bytes on disk (shards,
JSON lines, the parquet column chunks read). No reader decodes an image.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from foundation import (  # noqa: E402
    ROOT, add_dataset_arguments, process_cpu, run, run_measured, start_listening, start_server, step)

PEERS = Path(__file__).resolve().parent / "peers.py"
#: The media stream's bars (issue 19): a rate of at least this share of curl's for the same
#: bytes from the same server, and a client CPU per item of at most this multiple of curl's.
MEDIA_BAR = 0.7
CLIENT_BAR = 2.0
SYSTEMS = ("static", "wds", "mds", "hf", "curl")
STREAM_LINE = re.compile(
    r"received (\d+) items in ([\d.]+) s · (\d+) items/s · first item after ([\d.]+) ms "
    r"\(([\d.]+) s in all\) · ([\d.]+) MB · ([\d.]+) MB/s")


def stop(process: subprocess.Popen) -> None:
    process.terminate()
    try:
        process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


class Bench:
    def __init__(self, args: argparse.Namespace) -> None:
        self.args = args
        self.sluice = args.sluice
        self.python = args.python
        self.media = args.image_bytes > 0
        suffix = f"-img{args.image_bytes}" if self.media else ""
        self.data = Path(args.work) / f"gen-{args.files}-{args.instances_per_file}-{args.labels}{suffix}"
        self.store = self.data / "store"
        self.peers = self.data / "peers"

    # Data -------------------------------------------------------------------------------------

    def generate(self) -> None:
        """`sluice generate` into the data directory, unless a previous run finished it."""
        done = self.data / ".generated"
        if done.exists():
            print(f"    reusing {self.data}", file=sys.stderr)
            return
        shutil.rmtree(self.data, ignore_errors=True)
        cmd = [self.sluice, "generate", "--files", str(self.args.files),
               "--instances-per-file", str(self.args.instances_per_file), "--labels", str(self.args.labels),
               "--out", str(self.data)]
        if self.media:
            cmd += ["--image-bytes", str(self.args.image_bytes)]
        run(cmd)
        done.touch()

    def media_bytes(self) -> int:
        return sum(entry.stat().st_size for entry in os.scandir(self.data / "images")) if self.media else 0

    def import_store(self) -> tuple[int, int]:
        """Dataset D (with its images) in the store; returns files and instances."""
        done = self.data / ".store-D"
        if not done.exists():
            shutil.rmtree(self.store, ignore_errors=True)
            (self.data / ".store-BIG").unlink(missing_ok=True)
            cmd = [self.sluice, "import", "coco", str(self.data / "annotations.json"), "--project", "bench",
                   "--dataset", "D", "--data", str(self.store)]
            if self.media:
                cmd += ["--images", str(self.data / "images")]
            _, err, wall, _ = run(cmd)
            imported = re.search(r"imported (\d+) files, (\d+) instances", err)
            assert imported, err
            done.write_text(f"{imported.group(1)} {imported.group(2)}\n")
        else:
            print(f"    reusing {self.store}", file=sys.stderr)
        files, instances = map(int, done.read_text().split())
        return files, instances

    def big_file(self, total: int) -> Path:
        """One image of `total` bytes (what the media stream carries), generated and imported as
        dataset BIG of the same store: curl downloads it from the server's media route."""
        big = self.data / f"big-{total}"
        done = self.data / ".store-BIG"
        if not (big / ".generated").exists():
            shutil.rmtree(big, ignore_errors=True)
            run([self.sluice, "generate", "--files", "1", "--image-bytes", str(total), "--out", str(big)])
            (big / ".generated").touch()
            done.unlink(missing_ok=True)
        if not done.exists():
            run([self.sluice, "import", "coco", str(big / "annotations.json"), "--images", str(big / "images"),
                 "--project", "bench", "--dataset", "BIG", "--data", str(self.store)])
            done.touch()
        else:
            print(f"    reusing {big}", file=sys.stderr)
        return big

    def convert(self, system: str, media: bool) -> Path:
        """The peer's own copy of the data, written by its own writer (peers.py write)."""
        out = self.peers / f"{system}-{'media' if media else 'ann'}"
        if out.exists():
            print(f"    reusing {out}", file=sys.stderr)
            return out
        partial = out.with_name(out.name + ".partial")
        shutil.rmtree(partial, ignore_errors=True)
        cmd = [self.python, str(PEERS), "write", system, "--coco", str(self.data), "--out", str(partial)]
        run(cmd + (["--media"] if media else []))
        partial.rename(out)
        return out

    # Readers ----------------------------------------------------------------------------------

    def best(self, measure: Any) -> dict[str, Any]:
        """The run with the most items/s of --repeat runs."""
        results = [measure() for _ in range(self.args.repeat)]
        return max(results, key=lambda r: r["items_per_s"])

    def sluice_stream(self, host: str, server_pid: int, *, media: bool, seed: int | None,
                      binary: str | None = None) -> dict[str, Any]:
        cmd = [binary or self.sluice, "stream", "--host", host, "--project", "bench", "--dataset", "D",
               "--prefetch", str(self.args.prefetch)]
        if self.args.range_size:
            cmd += ["--range-size", str(self.args.range_size)]
        if media:
            cmd += ["--media"]
        if seed is not None:
            cmd += ["--seed", str(seed)]
        server_before = process_cpu(server_pid)
        _, err, wall, rss, cpu = run_measured(cmd)
        server_cpu = process_cpu(server_pid) - server_before
        m = STREAM_LINE.search(err.strip().splitlines()[-1])
        assert m, err
        items, seconds, first_ms, total, mb = (int(m.group(1)), float(m.group(2)), float(m.group(4)),
                                               float(m.group(5)), float(m.group(6)))
        # "(T s in all)" is the whole command's time, connecting included; the stream's own
        # clock starts after the dataset look-up and the epoch, so those come before its first item.
        opening = max(total - seconds, 0)
        return {"items": items, "items_per_s": items / seconds if seconds else 0,
                "mb_per_s": mb / seconds if seconds else 0, "mb": mb,
                "first_s": opening + first_ms / 1000, "first_note": f"connect {opening * 1000:,.0f} ms",
                "rss": rss, "wall": wall, "seconds": seconds, "client_cpu": cpu, "server_cpu": server_cpu}

    def peer_read(self, system: str, path: Path, media: bool) -> dict[str, Any]:
        cmd = [self.python, str(PEERS), "read", system, "--path", str(path)] + (["--media"] if media else [])
        os.environ["BENCH_SPAWNED_AT"] = repr(time.time())
        out, _, wall, rss = run(cmd)
        r = json.loads(out.strip().splitlines()[-1])
        return {"items": r["items"], "instances": r["instances"], "items_per_s": r["items_per_s"],
                "mb_per_s": r["mb_per_s"], "mb": r["bytes_on_disk"] / 1e6, "media_mb": r["media_bytes"] / 1e6,
                "first_s": r["first_item_s"], "first_note": f"imports {r['import_s']:,.1f} s",
                "rss": rss, "wall": wall}

    def static_json(self) -> dict[str, Any]:
        annotations = self.data / "annotations.json"
        out, _, wall, rss = run([self.python, str(ROOT / "bench/static_coco.py"), str(annotations)])
        r = json.loads(out)
        total = r["load_seconds"] + r["build_seconds"]
        size = annotations.stat().st_size / 1e6
        return {"items": r["items"], "instances": r["instances"], "items_per_s": r["items_per_second"],
                "mb_per_s": size / total if total else 0, "mb": size, "first_s": r["first_item_ms"] / 1000,
                "first_note": "load + group all", "rss": rss, "wall": wall}

    def curl(self, url: str, server_pid: int) -> list[dict[str, float]]:
        """curl's downloads, --curl-repeat times: MB/s, wall seconds and the CPU seconds of
        curl and of the server."""
        runs = []
        for _ in range(self.args.curl_repeat):
            server_before = process_cpu(server_pid)
            out, _, wall, _, cpu = run_measured(
                ["curl", "-s", "-f", "-o", "/dev/null", "-w", "%{size_download} %{speed_download}", url])
            server_cpu = process_cpu(server_pid) - server_before
            size_text, speed_text = out.split()
            size, speed = int(size_text), float(speed_text)
            runs.append({"mb_per_s": speed / 1e6, "wall": wall, "client_cpu": cpu, "server_cpu": server_cpu})
            print(f"    curl {url}: {size / 1e6:,.0f} MB at {speed / 1e6:,.0f} MB/s", file=sys.stderr, flush=True)
        return runs


def warm(*paths: Path) -> None:
    """Reads every file under `paths` once, so that the reader measured next finds its data in
    the page cache, as a second epoch does: otherwise whichever reader follows the conversions
    (which push older files out) is measured on the disk instead."""
    started, total = time.perf_counter(), 0
    for path in paths:
        files = [path] if path.is_file() else [Path(root) / name for root, _, names in os.walk(path) for name in names]
        for file in files:
            with open(file, "rb", buffering=0) as f:
                while chunk := f.read(1 << 20):
                    total += len(chunk)
    print(f"    page cache warmed: {total / 1e6:,.0f} MB read in {time.perf_counter() - started:,.1f} s",
          file=sys.stderr, flush=True)


def format_seconds(s: float) -> str:
    return f"{s * 1000:,.0f} ms" if s < 1 else f"{s:,.2f} s"


def table(title: str, rows: list[tuple[str, str, dict[str, Any]]], bases: dict[str, dict[str, Any]]) -> None:
    """rows: (system, order, result); each is compared with the Sluice run of the same order."""

    def ratio(a: float, b: float, word: str = "") -> str:
        if not a or not b:
            return "–"
        value = a / b
        text = f"{value:,.1f}×" if value < 10 else f"{value:,.0f}×"
        return f"{text} {word}".strip()

    print()
    print(f"**{title}**")
    print()
    print("| system | items/s | MB/s | KB read per item | first item (from process start) | peak RSS "
          "| Sluice items/s ÷ this | Sluice MB/s ÷ this | this first item ÷ Sluice's | this RSS ÷ Sluice's |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    for name, order, r in rows:
        base = bases.get(order)
        is_base = base is r
        cells = ["–"] * 4 if is_base or base is None else [
            ratio(base["items_per_s"], r["items_per_s"]), ratio(base["mb_per_s"], r["mb_per_s"]),
            ratio(r["first_s"], base["first_s"], "(Sluice sooner)" if r["first_s"] > base["first_s"] else ""),
            ratio(r["rss"], base["rss"])]
        per_item = r["mb"] * 1000 / r["items"] if r["items"] else 0
        print(f"| {name} | {r['items_per_s']:,.0f} | {r['mb_per_s']:,.1f} | {per_item:,.1f} "
              f"| {format_seconds(r['first_s'])} ({r['first_note']}) | {r['rss']:,.0f} MB | "
              + " | ".join(cells) + " |")


def cpu_per_item(r: dict[str, float], items: int) -> tuple[float, float]:
    """Server and client CPU µs per item of a run."""
    return r["server_cpu"] / items * 1e6, r["client_cpu"] / items * 1e6


def print_curl_comparison(curl: dict[str, list[dict[str, float]]], ann: list, med: list, files: int, repeat: int,
                          total_media: int) -> None:
    """The media-throughput bar, and the CPU each side spends per item: on a machine whose
    cores both runs keep busy, the rate is the cores divided by the CPU per item."""
    sluice_media = next(r for name, order, r in med if order == "in order" and name.startswith("**Sluice**"))
    sluice_ann = next(r for name, order, r in ann if order == "in order" and name.startswith("**Sluice**"))
    print()
    print(f"**Media throughput against curl** (one {total_media / 1e6:,.0f} MB file over 127.0.0.1, "
          f"median of {repeat} downloads; bars: Sluice ≥ {MEDIA_BAR:.0%} of curl, "
          f"its client's CPU per item ≤ {CLIENT_BAR:g}× curl's)")
    print()
    print("| run | MB/s | all runs | Sluice ÷ this | CPU per item (per image's bytes for curl): server + client "
          "| cores busy |")
    print("|---|---|---|---|---|---|")

    def row(name: str, mb_per_s: float, runs: str, percent: str, r: dict[str, float], seconds: float) -> None:
        server, client = cpu_per_item(r, files)
        cores = (r["server_cpu"] + r["client_cpu"]) / seconds if seconds else 0
        print(f"| {name} | {mb_per_s:,.0f} | {runs} | {percent} | {server:,.0f} + {client:,.0f} = "
              f"**{server + client:,.0f} µs** | {cores:,.2f} |")

    row("Sluice stream --media (in order)", sluice_media["mb_per_s"], "–", "–", sluice_media, sluice_media["seconds"])
    row("Sluice stream, annotations only (in order)", sluice_ann["mb_per_s"], "–", "–", sluice_ann,
        sluice_ann["seconds"])
    medians = {}
    for source, runs in curl.items():
        middle = sorted(runs, key=lambda r: r["mb_per_s"])[len(runs) // 2]
        medians[source] = middle
        percent = sluice_media["mb_per_s"] / middle["mb_per_s"] * 100 if middle["mb_per_s"] else 0
        row(f"curl from the {source}", middle["mb_per_s"], ", ".join(f"{r['mb_per_s']:,.0f}" for r in runs),
            f"**{percent:,.0f}%**", middle, middle["wall"])
    route = medians.get("Sluice media route")
    if route is None:
        return
    # At the bar, Sluice's rate is MEDIA_BAR of curl's: with c cores busy, the CPU per item it may
    # spend is c ÷ (MEDIA_BAR × curl's items/s).
    curl_items_per_s = route["mb_per_s"] * 1e6 / (total_media / files)
    sluice_cores = (sluice_media["server_cpu"] + sluice_media["client_cpu"]) / sluice_media["seconds"]
    budget = sluice_cores / (MEDIA_BAR * curl_items_per_s) * 1e6
    curl_bytes = sum(cpu_per_item(route, files))
    annotations = sum(cpu_per_item(sluice_ann, files))
    spent = sum(cpu_per_item(sluice_media, files))
    print()
    print(f"At {MEDIA_BAR:.0%} of curl, with the {sluice_cores:,.2f} cores Sluice keeps busy, an item may cost {budget:,.0f} µs "
          f"of CPU in all. Moving its image's bytes costs {curl_bytes:,.0f} µs through curl and the media route, "
          f"and its annotations alone cost {annotations:,.0f} µs (the annotations-only stream): {curl_bytes + annotations:,.0f} µs "
          f"before the two are combined. Sluice spends {spent:,.0f} µs.")
    client, curl_client = cpu_per_item(sluice_media, files)[1], cpu_per_item(route, files)[1]
    if curl_client:
        print(f"Sluice's client spends {client:,.0f} µs per media item, {client / curl_client:,.1f}× curl's "
              f"{curl_client:,.0f} µs for the same bytes (bar: {CLIENT_BAR:g}×).")


def print_before_after(before: dict[bool, dict[str, Any]], ann: list, med: list, files: int) -> None:
    """This build against --before on the same store, in order: rate and CPU per item."""
    print()
    print("**Before and after** (in order; CPU per item: server + client)")
    print()
    print("| stream | before items/s | after items/s | after ÷ before | before CPU µs/item | after CPU µs/item |")
    print("|---|---|---|---|---|---|")
    for with_media, rows in ((False, ann), (True, med)):
        if with_media not in before:
            continue
        after = next(r for name, order, r in rows if order == "in order" and name.startswith("**Sluice**"))
        b = before[with_media]
        bs, bc = cpu_per_item(b, files)
        as_, ac = cpu_per_item(after, files)
        print(f"| {'with media' if with_media else 'annotations only'} | {b['items_per_s']:,.0f} "
              f"| {after['items_per_s']:,.0f} | {after['items_per_s'] / b['items_per_s']:,.2f}× "
              f"| {bs:,.0f} + {bc:,.0f} = {bs + bc:,.0f} | {as_:,.0f} + {ac:,.0f} = {as_ + ac:,.0f} |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    add_dataset_arguments(parser)
    parser.set_defaults(files=20_000)
    parser.add_argument("--image-bytes", type=int, default=100_000, help="size of each image (0: no media)")
    parser.add_argument("--prefetch", type=int, default=4, help="sluice stream --prefetch")
    parser.add_argument("--range-size", type=int, help="sluice stream --range-size (default: the client's)")
    parser.add_argument("--seed", type=int, default=1, help="shuffle seed of the shuffled runs")
    parser.add_argument("--repeat", type=int, default=1, help="runs of each reader; the fastest is kept")
    parser.add_argument("--curl-repeat", type=int, default=3, help="curl downloads of each URL; the median is kept")
    parser.add_argument("--systems", default=",".join(SYSTEMS),
                        help=f"comma-separated subset of {','.join(SYSTEMS)} "
                             "(Sluice, the base of every ratio, always runs)")
    parser.add_argument("--before", default=None, metavar="SLUICE",
                        help="an earlier build of sluice: its server and client stream the same store in order "
                             "(annotations, then media) after this build's, and a before/after table is printed")
    parser.add_argument("--python", default=None,
                        help="interpreter of the peers (default: .venv-bench/bin/python if present, else this one)")
    args = parser.parse_args()
    systems = set(args.systems.split(","))
    unknown = systems - set(SYSTEMS)
    if unknown:
        parser.error(f"unknown systems: {', '.join(sorted(unknown))}")
    if args.python is None:
        venv = ROOT / ".venv-bench/bin/python"
        args.python = str(venv) if venv.exists() else sys.executable
    if not Path(args.sluice).exists():
        raise SystemExit(f"{args.sluice} not found: "
                         "swift build -c release --product sluice --scratch-path .build-release")
    needed = {"wds": ["webdataset"], "mds": ["streaming"], "hf": ["datasets", "pyarrow"], "curl": ["aiohttp"]}
    modules = [m for s, names in needed.items() if s in systems for m in names]
    # By spec, not by import: `import streaming` needs a work-around (peers.import_streaming).
    probe = f"import importlib.util, sys; sys.exit(any(importlib.util.find_spec(m) is None for m in {modules!r}))"
    if subprocess.run([args.python, "-c", probe]).returncode != 0:
        raise SystemExit(f"{args.python} lacks one of {', '.join(modules)}: python3 -m venv .venv-bench && "
                         ".venv-bench/bin/pip install --find-links /opt/wheels -r bench/requirements.txt")
    if "curl" in systems and not shutil.which("curl"):
        raise SystemExit("curl not found (apt-get install curl), or leave it out of --systems")

    bench = Bench(args)
    media = bench.media
    os.environ.update({"PYTHONWARNINGS": "ignore", "HF_HUB_OFFLINE": "1", "HF_DATASETS_OFFLINE": "1",
                       "HF_HOME": str(Path(args.work) / "hf-home"), "TOKENIZERS_PARALLELISM": "false"})
    started = time.perf_counter()
    converters = [s for s in ("wds", "mds", "hf") if s in systems]
    total_steps = 6 + ("curl" in systems and media)
    n = 0

    def next_step(text: str) -> None:
        nonlocal n
        n += 1
        step(n, total_steps, text, started)

    size = f"{args.files:,} images" + (f" of {args.image_bytes / 1e3:,.0f} KB" if media else "")
    next_step(f"generate {size}, {args.instances_per_file} instances each")
    bench.generate()
    total_media = bench.media_bytes()

    next_step(f"sluice import coco{' with images' if media else ''} into one store")
    files, instances = bench.import_store()
    big = bench.big_file(total_media) if media and "curl" in systems else None

    next_step(f"convert for {', '.join(converters) or 'no peer'} (each peer's own writer)")
    paths: dict[tuple[str, bool], Path] = {}
    for system in converters:
        for with_media in (False, True) if media else (False,):
            paths[system, with_media] = bench.convert(system, with_media)

    ann: list[tuple[str, str, dict[str, Any]]] = []
    med: list[tuple[str, str, dict[str, Any]]] = []
    curl: dict[str, list[dict[str, float]]] = {}

    next_step("sluice serve; sluice stream: annotations, then with media; in order, then shuffled")
    server, host = start_server(bench.sluice, bench.store)
    try:
        # Unmeasured: a fresh server's first request pays one-time costs (a running server's would not).
        print("    warm-up: sluice stream --limit 1", file=sys.stderr, flush=True)
        warm(bench.store)
        run([bench.sluice, "stream", "--host", host, "--project", "bench", "--dataset", "D", "--limit", "1"])
        cases = [(False, None), (False, args.seed)] + ([(True, None), (True, args.seed)] if media else [])
        for with_media, seed in cases:
            order = "shuffled" if seed is not None else "in order"
            print(f"    sluice stream{' --media' if with_media else ''}{f' --seed {seed}' if seed is not None else ''}",
                  file=sys.stderr, flush=True)
            result = bench.best(lambda: bench.sluice_stream(host, server.pid, media=with_media, seed=seed))
            assert result["items"] == files, (result, files)
            (med if with_media else ann).append((f"**Sluice** ({order})", order, result))

        if big is not None:
            next_step(f"curl: one {total_media / 1e6:,.0f} MB file over 127.0.0.1")
            warm(big)
            out, _, _, _ = run([bench.sluice, "stream", "--host", host, "--project", "bench", "--dataset", "BIG",
                                "--output", "ndjson"])
            file_id = json.loads(out.splitlines()[0])["file"]["id"]
            curl["Sluice media route"] = bench.curl(f"{host}/api/v1/files/{file_id}/media", server.pid)
    finally:
        stop(server)
    before: dict[bool, dict[str, Any]] = {}
    if args.before:
        print(f"    before: {args.before} serve; stream in order, annotations then media", file=sys.stderr, flush=True)
        server, host = start_server(args.before, bench.store)
        try:
            run([args.before, "stream", "--host", host, "--project", "bench", "--dataset", "D", "--limit", "1"])
            for with_media in (False, True) if media else (False,):
                before[with_media] = bench.best(lambda: bench.sluice_stream(
                    host, server.pid, media=with_media, seed=None, binary=args.before))
        finally:
            stop(server)
    if big is not None:
        static, url = start_listening([args.python, str(PEERS), "serve-static", "--dir", str(big / "images")])
        try:
            name = json.loads((big / "annotations.json").read_text())["images"][0]["file_name"]
            curl["static file server (aiohttp, sendfile)"] = bench.curl(f"{url}/{name}", static.pid)
        finally:
            stop(static)

    next_step("the static-file way: json.load + per-image lists" if "static" in systems else "static way: skipped")
    if "static" in systems:
        warm(bench.data / "annotations.json")
        result = bench.best(bench.static_json)
        assert result["items"] == files and result["instances"] == instances, (result, files, instances)
        ann.append(("static COCO JSON (json.load)", "in order", result))

    next_step("peers: read every sample, each reader in its own process")
    readers = [
        ("wds", "WebDataset", "wds", "in order"),
        ("wds", "WebDataset (shard + 1,000-sample buffer shuffle)", "wds-shuffled", "shuffled"),
        ("mds", "MosaicML Streaming (MDS)", "mds", "in order"),
        ("mds", "MosaicML Streaming (MDS, shuffled)", "mds-shuffled", "shuffled"),
        ("hf", "HF datasets, JSON lines", "hf-json", "in order"),
        ("hf", "HF datasets, parquet", "hf-parquet", "in order"),
    ]
    for system, name, reader, order in readers:
        if system not in systems:
            continue
        for with_media in (False, True) if media else (False,):
            if reader == "hf-json" and with_media:
                continue  # the media case of HF is the parquet file
            if reader == "hf-parquet" and not media:
                continue  # annotations only: the parquet file's non-image columns; needs the media copy
            path = paths[system, with_media or reader == "hf-parquet"]
            label = name + (" (json, id columns only)" if reader == "hf-parquet" and not with_media else "")
            print(f"    {label}{' with media' if with_media else ''}", file=sys.stderr, flush=True)
            warm(path)
            result = bench.best(lambda: bench.peer_read(reader, path, with_media))
            assert result["items"] == files and result["instances"] == instances, (reader, result, files, instances)
            (med if with_media else ann).append((label, order, result))

    def bases(rows: list[tuple[str, str, dict[str, Any]]]) -> dict[str, dict[str, Any]]:
        return {order: r for name, order, r in rows if name.startswith("**Sluice**")}

    print()
    print(f"Dataset: {files:,} images, {instances:,} instances, {args.labels} labels"
          + (f", media {total_media / 1e6:,.0f} MB ({total_media / files / 1e3:,.0f} KB per image)" if media else "")
          + f"; machine: {os.cpu_count()} cores; sluice stream --prefetch {args.prefetch}"
          + (f" --range-size {args.range_size}" if args.range_size else " (default range size)")
          + f"; shuffled runs: seed {args.seed}; best of {args.repeat} run{'s' if args.repeat > 1 else ''} each. "
          + "Ratios compare each row with the Sluice run of the same order (in order, or shuffled).")
    table("Annotations only", ann, bases(ann))
    if before:
        print_before_after(before, ann, med, files)
    if media:
        table("With media (image bytes delivered, not decoded)", med, bases(med))
    print()
    print("KB read per item: Sluice's wire bytes (its binary item frames; with media, the image bytes too), the peers' bytes on disk; without media, MB/s compares encodings as much as speed. "
          "First item counts from the start of the reader's process: the peers' Python imports (torch, for "
          "WebDataset and MosaicML) are shown apart, Sluice's connect is its dataset look-up and epoch.")
    if curl:
        print_curl_comparison(curl, ann, med, files, args.curl_repeat, total_media)
    print()
    print(f"Total time {time.perf_counter() - started:,.0f} s.", file=sys.stderr)


if __name__ == "__main__":
    main()
