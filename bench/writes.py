"""Benchmark of issue 14, writes over the network, on this machine:

1. saves: W concurrent writers, each doing S read-modify-write saves with the revision check
   (If-Match) on F shared files, while two epochs stream and a follower reads the change feed.
   Checks that no update was lost (the final state of each file is its last accepted save),
   that the follower saw every accepted save once, and that a snapshot taken before reads
   byte-identical after; prints saves/s and p50/p99 save latency.
2. import: `sluice import coco --host` of a generated file against `--data` of the same file,
   alone; then again while another dataset (20,000 files) streams, for the stream's rate during
   the import against its idle rate; and the server's peak RSS.

    python3 bench/writes.py                       # 32 writers × 500 saves on 50 files; 100k-file import
    python3 bench/writes.py --files 1000000       # the issue's 1M-file / 7M-instance import

Uses the release build (`swift build -c release --product sluice --scratch-path .build-release`).
"""

from __future__ import annotations

import argparse
import json
import re
import shutil
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path

import requests

sys.path.insert(0, str(Path(__file__).resolve().parent))
from foundation import ROOT, add_dataset_arguments, dataset_paths, run, start_server, step  # noqa: E402


def key(sluice: str, store: Path, *args: str) -> str:
    out, _, _, _ = run([sluice, "keys", "create", *args, "--data", str(store)])
    return re.search(r"^api_key: (\S+)$", out, re.M).group(1)


def progress(label: str, done: int, total: int, started: float) -> None:
    elapsed = time.perf_counter() - started
    rate = done / elapsed if elapsed > 0 else 0
    left = (total - done) / rate if rate > 0 else 0
    print(f"\r    {label}: {done:,}/{total:,} · {rate:,.0f}/s · ETA {left:,.0f} s", end="", file=sys.stderr, flush=True)


def saves(args: argparse.Namespace, sluice: str, work: Path) -> dict:
    """Part 1 on a store of the sample dataset grown to `--save-files` files."""
    store = work / "saves-store"
    shutil.rmtree(store, ignore_errors=True)
    gen = work / "saves-gen"
    if not (gen / "annotations.json").exists():
        run([sluice, "generate", "--files", str(max(args.save_files, 200)), "--instances-per-file", "3",
             "--labels", "5", "--out", str(gen)])
    run([sluice, "import", "coco", str(gen / "annotations.json"), "--project", "bench", "--dataset", "D",
         "--data", str(store)])
    editor = key(sluice, store, "--project", "bench", "--role", "editor")
    server, host = start_server(sluice, store)
    session = requests.Session()
    session.headers["Authorization"] = f"Bearer {editor}"
    try:
        dataset = session.get(f"{host}/api/v1/projects/bench/datasets", params={"name": "D"}).json()[0]
        page = session.get(f"{host}/api/v1/datasets/{dataset['id']}/items",
                           params={"start": 0, "end": args.save_files}).json()
        files = [item["file"]["id"] for item in page["items"]][: args.save_files]
        label = page["items"][0]["instances"][0]["label"]
        session.post(f"{host}/api/v1/datasets/{dataset['id']}/snapshots", json={"name": "before"}).raise_for_status()
        def export_before(name: str) -> bytes:
            out = work / name
            subprocess.run([sluice, "export", "--project", "bench", "--dataset", "D", "--format", "sluice-json",
                            "--version", "before", "--host", host, "--api-key", editor, str(out)],
                           capture_output=True, check=True)
            return out.read_bytes()

        before = export_before("before.json")
        cursor = session.get(f"{host}/api/v1/datasets/{dataset['id']}/changes").json()["cursor"]

        accepted: list[tuple[int, int, float, float]] = []  # file, revision, marker, seconds
        conflicts = [0]
        lock = threading.Lock()
        done = threading.Event()
        total = args.writers * args.saves_each
        started = time.perf_counter()

        def writer(index: int) -> None:
            own = requests.Session()
            own.headers["Authorization"] = f"Bearer {editor}"
            for save in range(args.saves_each):
                file = files[(index * 7 + save) % len(files)]
                marker = float(index * 100_000 + save)
                while True:
                    current = own.get(f"{host}/api/v1/files/{file}/instances")
                    revision = current.json()["file"]["revision"]
                    body = {"instances": [{"label": label, "kind": "box", "bbox": [marker, 0, marker + 1, 1]}]}
                    sent = time.perf_counter()
                    reply = own.put(f"{host}/api/v1/files/{file}/instances", json=body,
                                    headers={"If-Match": f'"{revision}"'})
                    took = time.perf_counter() - sent
                    if reply.status_code == 412:
                        with lock:
                            conflicts[0] += 1
                        continue
                    reply.raise_for_status()
                    with lock:
                        accepted.append((file, reply.json()["file"]["revision"], marker, took))
                        if len(accepted) % 200 == 0:
                            progress("saves", len(accepted), total, started)
                    break

        followed = []

        def follower() -> None:
            since = cursor
            own = requests.Session()
            own.headers["Authorization"] = f"Bearer {editor}"
            while not (done.is_set() and len(followed) >= len(accepted)):
                page = own.get(f"{host}/api/v1/datasets/{dataset['id']}/changes",
                               params={"since": since, "wait": 1, "limit": 1000}).json()
                for change in page["changes"]:
                    followed.extend(range(change["start"], change["end"]))
                since = page["cursor"]
                if done.is_set() and not page["changes"]:
                    break

        streams_run = [0]

        def streamer() -> None:
            while not done.is_set():
                subprocess.run([sluice, "stream", "--project", "bench", "--dataset", "D", "--host", host,
                                "--api-key", editor], capture_output=True, check=True)
                streams_run[0] += 1

        threads = [threading.Thread(target=writer, args=(i,)) for i in range(args.writers)]
        others = [threading.Thread(target=streamer), threading.Thread(target=streamer), threading.Thread(target=follower)]
        for thread in others + threads:
            thread.start()
        for thread in threads:
            thread.join()
        wall = time.perf_counter() - started
        print(file=sys.stderr)
        done.set()
        for thread in others:
            thread.join(timeout=120)

        lost = 0
        for file in files:
            mine = [a for a in accepted if a[0] == file]
            if not mine:
                continue
            last = max(mine, key=lambda a: a[1])
            now = session.get(f"{host}/api/v1/files/{file}/instances").json()
            if [i["bbox"][0] for i in now["instances"]] != [last[2]]:
                lost += 1
        after = export_before("after.json")
        latencies = sorted(a[3] for a in accepted)
        return {
            "writers": args.writers, "saves": len(accepted), "files": len(files), "conflicts": conflicts[0],
            "wall": wall, "rate": len(accepted) / wall,
            "p50_ms": 1000 * statistics.median(latencies),
            "p99_ms": 1000 * latencies[min(len(latencies) - 1, int(0.99 * len(latencies)))],
            "lost": lost, "followed": len(followed), "snapshot_identical": before == after,
            "epochs_streamed": streams_run[0],
        }
    finally:
        server.terminate()
        server.wait(timeout=30)


def peak_rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return 0.0


def stream_rate(sluice: str, host: str, key: str, dataset: str, limit: int) -> float:
    _, err, _, _ = run([sluice, "stream", "--host", host, "--api-key", key, "--project", "bench", "--dataset",
                        dataset, "--limit", str(limit)])
    return float(re.search(r"· (\d+) items/s", err).group(1))


def imports(args: argparse.Namespace, sluice: str) -> dict:
    """Part 2: the generated file through the server against --data; then again through the
    server while another dataset streams, for the stream's rate during an import."""
    annotations, _ = dataset_paths(args)
    work = Path(args.work)
    local = work / "import-data"
    shutil.rmtree(local, ignore_errors=True)
    _, err, data_wall, _ = run([sluice, "import", "coco", str(annotations), "--project", "bench", "--dataset", "D",
                                "--data", str(local)])
    instances = int(re.search(r"imported \d+ files, (\d+) instances", err).group(1))
    shutil.rmtree(local, ignore_errors=True)

    remote = work / "import-host"
    shutil.rmtree(remote, ignore_errors=True)
    # A dataset to stream meanwhile, large enough that a stream of it is not its start-up.
    other = work / f"other-gen-{args.other_files}"
    if not (other / "annotations.json").exists():
        run([sluice, "generate", "--files", str(args.other_files), "--instances-per-file", "3", "--labels", "5",
             "--out", str(other)])
    run([sluice, "import", "coco", str(other / "annotations.json"), "--project", "bench",
         "--dataset", "Other", "--data", str(remote)])
    editor = key(sluice, remote, "--project", "bench", "--role", "editor")
    server, host = start_server(sluice, remote)

    def import_through_server(dataset: str) -> float:
        started = time.perf_counter()
        process = subprocess.Popen([sluice, "import", "coco", str(annotations), "--project", "bench", "--dataset",
                                    dataset, "--host", host, "--api-key", editor], stderr=subprocess.PIPE, text=True)
        lines = [line for line in process.stderr]
        process.wait()
        if process.returncode != 0:
            raise SystemExit("".join(lines[-5:]))
        return time.perf_counter() - started

    try:
        idle = statistics.median(stream_rate(sluice, host, editor, "Other", args.other_files) for _ in range(3))
        host_wall = import_through_server("D")
        during: list[float] = []
        importing = threading.Event()
        importing.set()

        def measure() -> None:
            while importing.is_set():
                during.append(stream_rate(sluice, host, editor, "Other", args.other_files))

        watcher = threading.Thread(target=measure)
        watcher.start()
        loaded_wall = import_through_server("D2")
        importing.clear()
        watcher.join()
        server_rss = peak_rss_mb(server.pid)
    finally:
        server.terminate()
        server.wait(timeout=60)
    return {
        "instances": instances, "data_rate": instances / data_wall, "host_rate": instances / host_wall,
        "host_rate_streaming": instances / loaded_wall, "server_rss": server_rss, "idle_stream": idle,
        "stream_during": statistics.median(during) if during else 0.0, "streams_during": len(during),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    add_dataset_arguments(parser)
    parser.set_defaults(files=100_000)
    parser.add_argument("--writers", type=int, default=32)
    parser.add_argument("--saves-each", type=int, default=500)
    parser.add_argument("--save-files", type=int, default=50)
    parser.add_argument("--skip-import", action="store_true")
    parser.add_argument("--other-files", type=int, default=20_000, help="files of the dataset streamed during the import")
    args = parser.parse_args()
    sluice = args.sluice
    if not Path(sluice).exists():
        raise SystemExit(f"{sluice} not found: swift build -c release --product sluice --scratch-path .build-release")
    work = Path(args.work)
    work.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    step(1, 2, f"{args.writers} writers × {args.saves_each} saves on {args.save_files} files", started)
    s = saves(args, sluice, work)
    print(json.dumps(s), file=sys.stderr)
    i = None
    if not args.skip_import:
        step(2, 2, f"import of {args.files:,} generated files, --host against --data", started)
        i = imports(args, sluice)
        print(json.dumps(i), file=sys.stderr)
    print()
    print(f"Machine: 2 cores; release build; loopback. Saves: {s['writers']} writers, {s['saves']:,} accepted saves on "
          f"{s['files']} shared files, two epochs streaming ({s['epochs_streamed']} runs) and a follower meanwhile.")
    print()
    print("| measure | result |")
    print("|---|---|")
    print(f"| accepted saves/s | {s['rate']:,.0f} ({s['conflicts']:,} refused with 412 and redone) |")
    print(f"| save latency p50 / p99 | {s['p50_ms']:.1f} ms / {s['p99_ms']:.1f} ms |")
    print(f"| lost updates | {s['lost']} |")
    print(f"| follower: changes seen / saves accepted | {s['followed']:,} / {s['saves']:,} |")
    print(f"| snapshot taken before, byte-identical after | {'yes' if s['snapshot_identical'] else 'NO'} |")
    if i:
        print(f"| import --host / --data ({i['instances']:,} instances) | {i['host_rate']:,.0f} / {i['data_rate']:,.0f} "
              f"instances/s = {i['host_rate'] / i['data_rate']:.0%} |")
        print(f"| import --host while another dataset streams | {i['host_rate_streaming']:,.0f} instances/s "
              f"= {i['host_rate_streaming'] / i['data_rate']:.0%} of --data |")
        print(f"| server peak RSS (both imports) | {i['server_rss']:,.0f} MB |")
        print(f"| {args.other_files:,}-file dataset streamed during / idle ({i['streams_during']} runs) | "
              f"{i['stream_during']:,.0f} / {i['idle_stream']:,.0f} items/s = {i['stream_during'] / i['idle_stream']:.0%} |")


if __name__ == "__main__":
    main()
