"""End-to-end benchmark of issue 2, Sluice against the static-file way, on the same data in
the same run: import rate, streaming rate over loopback, time to the first item, peak memory.

    python3 bench/foundation.py --files 1000000 --instances-per-file 7

Uses the release build (`swift build -c release --product sluice`), generates the dataset
with `sluice generate` (kept in --work between runs), and prints a Markdown table.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def run(cmd: list[str], *, capture: bool = True) -> tuple[str, str, float, float]:
    """Runs cmd; returns stdout, stderr, wall seconds and the child's peak RSS in MB."""
    out, err, wall, rss, _ = run_measured(cmd, capture=capture)
    return out, err, wall, rss


def _watch_peak_rss(pid: int, stop: threading.Event, peak: list[int]) -> None:
    """The child's own high-water RSS (VmHWM, in kB), read every 50 ms until it exits. wait4's
    ru_maxrss cannot be used for it: Linux carries the parent's peak across fork and exec, so a
    child of a Python holding a large JSON would report the Python's size."""
    status = Path(f"/proc/{pid}/status")
    while not stop.is_set():
        try:
            match = re.search(r"^VmHWM:\s+(\d+) kB", status.read_text(), re.M)
        except OSError:
            return
        if match:
            peak[0] = max(peak[0], int(match.group(1)))
        stop.wait(0.05)


def run_measured(cmd: list[str], *, capture: bool = True) -> tuple[str, str, float, float, float]:
    """`run`, and the child's CPU seconds (user + system) last."""
    started = time.perf_counter()
    # Popen returns once the child has exec'd, so /proc shows the command's own memory.
    process = subprocess.Popen(cmd, stdout=subprocess.PIPE if capture else None, stderr=subprocess.PIPE, text=True)
    stop, peak = threading.Event(), [0]
    watcher = threading.Thread(target=_watch_peak_rss, args=(process.pid, stop, peak), daemon=True)
    watcher.start()
    err_lines = []
    assert process.stderr is not None
    for line in process.stderr:
        err_lines.append(line)
        sys.stderr.write("    " + line)  # progress lines of the child pass through
    out = process.stdout.read() if process.stdout else ""
    # The last reading is taken while the child still exists (a zombie keeps no memory).
    stop.set()
    watcher.join()
    _, status, usage = os.wait4(process.pid, 0)
    process.returncode = os.waitstatus_to_exitcode(status)
    wall = time.perf_counter() - started
    if process.returncode != 0:
        raise SystemExit(f"failed ({process.returncode}): {' '.join(cmd)}\n{''.join(err_lines[-5:])}")
    rss_kb = peak[0] or usage.ru_maxrss
    return out, "".join(err_lines), wall, rss_kb / 1024, usage.ru_utime + usage.ru_stime


def process_cpu(pid: int) -> float:
    """The CPU seconds (user + system) a running process has used so far, from /proc."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    # Fields 14 and 15 of stat(5), counted after the command name's closing parenthesis.
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def cpu_seconds(pids: list[int]) -> float:
    """User + system CPU seconds the processes have used so far (from /proc)."""
    tick = os.sysconf("SC_CLK_TCK")
    total = 0.0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            total += (int(fields[11]) + int(fields[12])) / tick
        except (FileNotFoundError, ProcessLookupError, IndexError):
            pass
    return total


def start_server(sluice: str, store: Path) -> tuple[subprocess.Popen, str]:
    """`sluice serve` on a free port; returns the process and its base URL."""
    return start_listening([sluice, "serve", "--data", str(store), "--port", "0"])


def start_listening(cmd: list[str]) -> tuple[subprocess.Popen, str]:
    """Starts a server that reports `on http://127.0.0.1:PORT` on stderr; returns the process
    and that URL. Its stderr is drained afterwards, so its log never fills the pipe and stalls it."""
    # The request log (a line per request, on stdout) is written, as in production, and dropped.
    server = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    assert server.stderr is not None
    for line in server.stderr:
        match = re.search(r"on (http://127\.0\.0\.1:\d+)", line)
        if match:
            threading.Thread(target=lambda: [None for _ in server.stderr], daemon=True).start()
            return server, match.group(1)
    server.kill()
    raise SystemExit(f"{cmd[0]} did not start")


def add_dataset_arguments(parser: argparse.ArgumentParser) -> None:
    """The generated dataset, where it is kept, and the binary: shared by every bench script."""
    parser.add_argument("--files", type=int, default=1_000_000)
    parser.add_argument("--instances-per-file", type=int, default=7)
    parser.add_argument("--labels", type=int, default=80)
    parser.add_argument("--work", default="/tmp/sluice-bench")
    parser.add_argument("--sluice", default=str(ROOT / ".build-release/release/sluice"))


def dataset_paths(args: argparse.Namespace) -> tuple[Path, Path]:
    """The generated COCO file (written by `sluice generate` when missing) and the store
    directory that belongs to it."""
    if not Path(args.sluice).exists():
        raise SystemExit(f"{args.sluice} not found: swift build -c release --product sluice --scratch-path .build-release")
    data = Path(args.work) / f"gen-{args.files}-{args.instances_per_file}-{args.labels}"
    annotations = data / "annotations.json"
    if not annotations.exists():
        run([args.sluice, "generate", "--files", str(args.files), "--instances-per-file", str(args.instances_per_file),
             "--labels", str(args.labels), "--out", str(data)])
    return annotations, data / "store"


def import_coco(sluice: str, annotations: Path, store: Path) -> tuple[str, float, float]:
    """A fresh store with the file imported as bench/D; returns stderr, wall seconds, peak RSS MB."""
    shutil.rmtree(store, ignore_errors=True)
    _, err, wall, rss = run([sluice, "import", "coco", str(annotations), "--project", "bench",
                             "--dataset", "D", "--data", str(store)])
    return err, wall, rss


def step(n: int, total: int, text: str, started: float) -> None:
    print(f"[{n}/{total}] {text} (t+{time.perf_counter() - started:.0f} s)", file=sys.stderr, flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    add_dataset_arguments(parser)
    parser.add_argument("--prefetch", type=int, default=4)
    parser.add_argument("--page-size", type=int, default=1000)
    args = parser.parse_args()

    sluice = args.sluice
    started = time.perf_counter()
    total_steps = 6

    step(1, total_steps, f"generate {args.files:,} files × {args.instances_per_file} instances", started)
    annotations, store = dataset_paths(args)
    size_mb = annotations.stat().st_size / 1e6

    step(2, total_steps, f"sluice import coco ({size_mb:,.0f} MB)", started)
    err, import_wall, import_rss = import_coco(sluice, annotations, store)
    imported = re.search(r"imported (\d+) files, (\d+) instances", err)
    assert imported, err
    files, instances = int(imported.group(1)), int(imported.group(2))

    step(3, total_steps, "sluice serve", started)
    server, host = start_server(sluice, store)

    def stream(limit: int | None) -> dict[str, float]:
        cmd = [sluice, "stream", "--host", host, "--project", "bench", "--dataset", "D",
               "--prefetch", str(args.prefetch), "--page-size", str(args.page_size)]
        if limit:
            cmd += ["--limit", str(limit)]
        _, err, wall, rss = run(cmd)
        m = re.search(r"received (\d+) items in ([\d.]+) s · (\d+) items/s · first item after ([\d.]+) ms", err)
        assert m, err
        return {"items": int(m.group(1)), "rate": float(m.group(3)), "first_ms": float(m.group(4)), "rss": rss}

    try:
        step(4, total_steps, "sluice stream, first 100,000 items (memory flatness)", started)
        small = stream(min(100_000, files))
        step(5, total_steps, f"sluice stream, all {files:,} items", started)
        full = stream(None)
    finally:
        server.terminate()
        server.wait(timeout=30)

    step(6, total_steps, "static way: python json.load + per-image lists", started)
    out, _, static_wall, static_rss = run([sys.executable, str(ROOT / "bench/static_coco.py"), str(annotations)])
    static = json.loads(out)
    assert static["items"] == files and static["instances"] == instances

    def ratio(a: float, b: float) -> str:
        return f"{a / b:,.1f}×" if b else "–"

    print()
    print(f"Dataset: {files:,} files, {instances:,} instances, {args.labels} labels, COCO JSON {size_mb:,.0f} MB; "
          f"machine: {os.cpu_count()} cores; stream prefetch {args.prefetch} × {args.page_size} items")
    print()
    print("| measure | Sluice | static JSON (Python json) | Sluice advantage |")
    print("|---|---|---|---|")
    print(f"| time to first item | {full['first_ms']:.1f} ms | {static['first_item_ms'] / 1000:,.1f} s "
          f"| {ratio(static['first_item_ms'], full['first_ms'])} sooner |")
    print(f"| items/s, whole dataset | {full['rate']:,.0f} | {static['items_per_second']:,.0f} "
          f"| {ratio(full['rate'], static['items_per_second'])} |")
    print(f"| client peak RSS, all {files:,} items | {full['rss']:,.0f} MB | {static_rss:,.0f} MB "
          f"| {ratio(static_rss, full['rss'])} less |")
    print(f"| client peak RSS, first {small['items']:,} items | {small['rss']:,.0f} MB | (must load all) | |")
    print(f"| import (Sluice) / load (static) | {import_wall:,.1f} s, {instances / import_wall:,.0f} instances/s, "
          f"peak RSS {import_rss:,.0f} MB | {static['load_seconds']:,.1f} s load + {static['build_seconds']:,.1f} s lists | |")


if __name__ == "__main__":
    main()
