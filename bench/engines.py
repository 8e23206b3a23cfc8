"""The storage engines side by side (issue 15): the same generated COCO file imported into the
embedded SQLite store and into PostgreSQL, then served and measured the same way in the same
run: import rate, slice counts (a rare label; a broad conjunction), first item, annotations-only
stream rate and the client's peak memory. Prints a Markdown table with PostgreSQL / SQLite.

    python3 bench/engines.py --files 1000000 --instances-per-file 7

PostgreSQL is a throwaway cluster started by scripts/postgres.sh (Debian's server, fsync off:
the numbers are the engine's, not a disk's), or --postgres URL for one of yours (a schema of
its own is made there and dropped after). Uses the release build, like every bench script.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from foundation import ROOT, add_dataset_arguments, cpu_seconds, dataset_paths, run, start_listening, step  # noqa: E402
from slices import request  # noqa: E402


def cluster() -> tuple[str, str | None]:
    """A PostgreSQL URL: --postgres, or a throwaway cluster (and its directory, to stop it)."""
    out = subprocess.run(["bash", str(ROOT / "scripts/postgres.sh"), "start"], check=True, capture_output=True,
                         text=True).stdout
    env = dict(re.findall(r"export (\w+)='([^']*)'", out))
    return env["SLUICE_TEST_POSTGRES"], env["SLUICE_PG_DIR"]


def postgres_pids() -> list[int]:
    """Every PostgreSQL server process on the machine (the cluster's backends among them)."""
    pids = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if (entry / "comm").read_text().strip() == "postgres":
                    pids.append(int(entry.name))
            except OSError:
                pass
    return pids


def measure(sluice: str, store_args: list[str], annotations: Path, files: int, queries: dict[str, str],
            args: argparse.Namespace) -> dict[str, float]:
    """Import, serve, slice, stream: the measures of one engine."""
    _, err, wall, import_rss = run([sluice, "import", "coco", str(annotations), "--project", "bench",
                                    "--dataset", "D", *store_args])
    imported = re.search(r"imported (\d+) files, (\d+) instances", err)
    assert imported, err
    instances = int(imported.group(2))
    server, host = start_listening([sluice, "serve", *store_args, "--port", "0"])
    try:
        datasets, _ = request(host, "/api/v1/projects/bench/datasets")
        dataset_id = next(d["id"] for d in datasets if d["name"] == "D")
        result: dict[str, float] = {"import_rate": instances / wall, "import_rss": import_rss}
        for name, query in queries.items():
            created, first_ms = request(host, f"/api/v1/datasets/{dataset_id}/slices", {"query": query})
            result[f"{name}_count"] = created["count"]
            result[f"{name}_ms"] = first_ms
        for label, limit in (("first", 1), ("all", None)):
            cmd = [sluice, "stream", "--host", host, "--project", "bench", "--dataset", "D",
                   "--prefetch", str(args.prefetch), "--page-size", str(args.page_size)]
            if limit:
                cmd += ["--limit", str(limit)]
            server_cpu, database_cpu = cpu_seconds([server.pid]), cpu_seconds(postgres_pids())
            _, err, _, rss = run(cmd)
            server_cpu, database_cpu = cpu_seconds([server.pid]) - server_cpu, cpu_seconds(postgres_pids()) - database_cpu
            m = re.search(r"received (\d+) items in ([\d.]+) s · (\d+) items/s · first item after ([\d.]+) ms", err)
            assert m, err
            if label == "first":
                result["first_ms"] = float(m.group(4))
            else:
                assert int(m.group(1)) == files
                result["rate"] = float(m.group(3))
                result["stream_rss"] = rss
                # CPU per streamed item: the server process, and the database's processes
                # (none for the embedded store, whose reads run inside the server).
                result["server_us"] = server_cpu / files * 1e6
                result["database_us"] = database_cpu / files * 1e6
        return result
    finally:
        server.terminate()
        server.wait(timeout=60)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    add_dataset_arguments(parser)
    parser.add_argument("--postgres", help="a PostgreSQL URL to use instead of a throwaway cluster")
    parser.add_argument("--prefetch", type=int, default=4)
    parser.add_argument("--page-size", type=int, default=1000)
    args = parser.parse_args()
    started = time.perf_counter()
    total = 4

    step(1, total, f"generate {args.files:,} files × {args.instances_per_file} instances", started)
    annotations, _ = dataset_paths(args)
    # The labels the slices test: the generator's first label is the most frequent, its last
    # the rarest (skewed frequencies); width ≥ 640 holds for part of the images.
    queries = {
        "rare": f"labels.label{args.labels - 1} > 0",
        "broad": "labels.label0 > 2 and labels.label1 = 0 and file.width >= 640",
    }

    work = Path(tempfile.mkdtemp(prefix="sluice-engines-", dir=args.work))
    url, cluster_dir = (args.postgres, None) if args.postgres else cluster()
    schema = "bench_" + uuid.uuid4().hex[:12]
    schema_url = url + ("&" if "?" in url else "?") + "schema=" + schema
    try:
        step(2, total, "SQLite: import, serve, slices, stream", started)
        sqlite = measure(args.sluice, ["--data", str(work / "store")], annotations, args.files, queries, args)
        step(3, total, "PostgreSQL: import, serve, slices, stream", started)
        postgres = measure(args.sluice, ["--postgres", schema_url, "--media", str(work / "media")], annotations,
                           args.files, queries, args)
    finally:
        if cluster_dir:
            subprocess.run(["bash", str(ROOT / "scripts/postgres.sh"), "stop", cluster_dir], check=False)
        elif args.postgres:
            subprocess.run(["psql", url.split("?")[0], "-qc", f"DROP SCHEMA {schema} CASCADE"], check=False)
        shutil.rmtree(work, ignore_errors=True)
    step(4, total, "done", started)

    for name in queries:
        assert sqlite[f"{name}_count"] == postgres[f"{name}_count"], (name, sqlite, postgres)

    def ratio(p: float, s: float) -> str:
        return f"{p / s:.2f}×" if s >= 0.5 else "–"

    print()
    print(f"Dataset: {args.files:,} files × {args.instances_per_file} instances, {args.labels} labels; "
          f"machine: {os.cpu_count()} cores; stream prefetch {args.prefetch} × {args.page_size} items, annotations only")
    print()
    print("| measure | SQLite | PostgreSQL | PostgreSQL / SQLite |")
    print("|---|---|---|---|")
    rows = [
        ("import, instances/s", "import_rate", "{:,.0f}"),
        ("import, peak RSS (MB)", "import_rss", "{:,.0f}"),
        (f"rare-label slice count ({int(sqlite['rare_count']):,} files), ms", "rare_ms", "{:,.1f}"),
        (f"broad conjunction count ({int(sqlite['broad_count']):,} files), ms", "broad_ms", "{:,.1f}"),
        ("first item, ms", "first_ms", "{:,.1f}"),
        ("stream, items/s", "rate", "{:,.0f}"),
        ("stream client peak RSS (MB)", "stream_rss", "{:,.0f}"),
        ("server CPU per streamed item, µs", "server_us", "{:,.1f}"),
        ("database CPU per streamed item, µs", "database_us", "{:,.1f}"),
    ]
    for title, key, form in rows:
        print(f"| {title} | {form.format(sqlite[key])} | {form.format(postgres[key])} | {ratio(postgres[key], sqlite[key])} |")


if __name__ == "__main__":
    main()
