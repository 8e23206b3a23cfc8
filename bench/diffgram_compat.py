"""Issue 6: the cost of reading a whole dataset through the diffgram 0.15.0 SDK, which asks for
one file per request (plus one request for its image), against Sluice's own Python package,
which streams ranges of items, on the same server and data.

    python3 -m venv /tmp/venv-compat
    /tmp/venv-compat/bin/pip install --find-links /opt/wheels -c tests/python/constraints.txt \\
        -r tests/python/requirements.txt -e ./python
    /tmp/venv-compat/bin/python bench/diffgram_compat.py --sluice .build/debug/sluice --files 500

Every reader decodes each image to pixels (the diffgram SDK always does, with imageio), so the
figures compare the same work. Readers:

- diffgram iteration: `for sample in directory` (sequential, one file and one image per step);
- diffgram to_pytorch()[i] for every i: meant to prefetch the next 24 files on a thread pool,
  but 0.15.0 submits the index as a tuple `(i,)`, so each prefetch fails silently in the pool
  and every item is fetched when asked for;
- sluice to_pytorch(streaming=True): ranged tensor-record streams with prefetch.
"""

from __future__ import annotations

import argparse
import sys
import time
import warnings
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from foundation import ROOT, run, start_server  # noqa: E402


def timed(label: str, body) -> float:
    started = time.perf_counter()
    count = body()
    seconds = time.perf_counter() - started
    print(f"{label:<40} {count:>6} items in {seconds:7.2f} s · {count / seconds:8.1f} items/s", flush=True)
    return seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--files", type=int, default=500)
    parser.add_argument("--instances-per-file", type=int, default=7)
    parser.add_argument("--labels", type=int, default=20)
    parser.add_argument("--work", default="/tmp/sluice-bench-diffgram")
    parser.add_argument("--sluice", default=str(ROOT / ".build/debug/sluice"))
    args = parser.parse_args()
    warnings.simplefilter("ignore")

    import diffgram
    import sluice

    data = Path(args.work) / f"gen-{args.files}-{args.instances_per_file}-{args.labels}"
    store = data / "store"
    if not (store / "sluice.sqlite").exists():
        run([args.sluice, "generate", "--files", str(args.files), "--instances-per-file",
             str(args.instances_per_file), "--labels", str(args.labels), "--images", "--out", str(data)])
        run([args.sluice, "import", "coco", str(data / "annotations.json"), "--project", "bench",
             "--dataset", "Default", "--images", str(data / "images"), "--data", str(store)])
    server, url = start_server(args.sluice, store)
    try:
        theirs = diffgram.Project(project_string_id="bench", host=url).directory.get(name="Default")
        ours = sluice.Project("bench", host=url).directory.get(name="Default")
        assert len(theirs) == len(ours) == args.files

        def diffgram_iteration() -> int:
            count = 0
            for sample in theirs:
                assert sample["image"] is not None
                count += 1
            return count

        def diffgram_indexed() -> int:
            dataset = theirs.to_pytorch()
            for index in range(len(dataset)):
                assert dataset[index]["image"] is not None
            return len(dataset)

        def sluice_streaming() -> int:
            count = 0
            for sample in ours.to_pytorch(streaming=True):
                np.asarray(sample["image"].convert("RGB"))
                count += 1
            return count

        slow = timed("diffgram: for sample in directory", diffgram_iteration)
        indexed = timed("diffgram: to_pytorch()[i] for every i", diffgram_indexed)
        fast = timed("sluice: to_pytorch(streaming=True)", sluice_streaming)
        print(f"sluice's to_pytorch() is {slow / fast:.1f}x as fast as the diffgram SDK's iteration, "
              f"{indexed / fast:.1f}x as fast as its to_pytorch()[i]")
    finally:
        server.terminate()
        server.wait(timeout=20)


if __name__ == "__main__":
    main()
