"""Crash consistency (issue 18): `kill -9` at random moments of embedded imports, imports
through the server, bursts of writes, snapshot creation and exports, many times over one store.
After every kill the store opens, SQLite's integrity check passes, its derived data agree with
what they derive from (file counts, label counts, media), every write acknowledged before the
kill is there, an import is all there or not at all, and an export's file is whole or absent.

The kills are random but seeded: SLUICE_CRASH_SEED reproduces a run, SLUICE_CRASH_KILLS sets
how many (50 by default, the issue's bar)."""

from __future__ import annotations

import json
import os
import random
import sqlite3
import subprocess
import threading
import time
from pathlib import Path

import pytest
import requests

import sluice
from conftest import FIXTURES, Server, sluice_bin

KILLS = int(os.environ.get("SLUICE_CRASH_KILLS", "50"))
SEED = int(os.environ.get("SLUICE_CRASH_SEED", "1405"))
FILES = 1500
PHOTO = FIXTURES / "val2017-persons" / "images"


def run(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sluice_bin(), *args], capture_output=True, text=True, check=True)


def kill_after(process: subprocess.Popen, seconds: float) -> bool:
    """Kills the process after `seconds` unless it ended before; whether it was killed."""
    try:
        process.wait(timeout=seconds)
        return False
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=60)
        return True


def check_store(data: Path) -> sqlite3.Connection:
    """Opens the store as any SQLite reader would after a crash and checks what no write may
    leave half done. Returns the connection for the scenario's own checks."""
    # Autocommit, then one read transaction around every check: a server still running (after
    # its client was killed) may commit meanwhile, and each check must see the same commit.
    db = sqlite3.connect(data / "sluice.sqlite", timeout=30, isolation_level=None)
    db.execute("BEGIN")
    assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    assert db.execute("PRAGMA foreign_key_check").fetchall() == []
    for dataset, count, positions in db.execute(
            "SELECT d.id, d.file_count, (SELECT count(*) FROM dataset_files m WHERE m.dataset_id = d.id) "
            "FROM datasets d"):
        assert count == positions, f"dataset {dataset}: file_count {count} but {positions} positions"
    counted = set(db.execute("SELECT file_id, label_id, count FROM label_counts"))
    live = set(db.execute("SELECT file_id, label_id, count(*) FROM instances "
                          "WHERE deleted = 0 AND label_id IS NOT NULL GROUP BY file_id, label_id"))
    assert counted == live, ("label counts agree with the live instances",
                             sorted(counted - live)[:5], sorted(live - counted)[:5])
    for (sha256,) in db.execute("SELECT DISTINCT sha256 FROM files WHERE sha256 IS NOT NULL"):
        assert (data / "media" / sha256[:2] / sha256[2:4] / sha256).exists(), f"media {sha256} of a file"
    db.execute("COMMIT")
    return db


def imported(db: sqlite3.Connection, dataset: str) -> tuple[int, int] | None:
    """(files, instances) of a dataset of project crash, None when it does not exist."""
    row = db.execute("SELECT id, file_count FROM datasets WHERE project_id = 'crash' AND name = ?",
                     (dataset,)).fetchone()
    if row is None:
        return None
    instances = db.execute("SELECT count(*) FROM dataset_files m JOIN instances i ON i.file_id = m.file_id "
                           "WHERE m.dataset_id = ? AND i.deleted = 0", (row[0],)).fetchone()[0]
    return row[1], instances


class Writers:
    """Threads appending files and saving annotations through the API until the server dies,
    recording what the server acknowledged."""

    def __init__(self, url: str, key: str, targets: list[list[int]], sha256: str, round_: int) -> None:
        self.project = sluice.Project("crash", host=url, api_key=key)
        self.appended: list[str] = []
        self.saved: dict[int, list[float]] = {}   # file id -> acknowledged markers, in order
        self.sent: dict[int, float] = {}          # file id -> marker of the save in flight
        self.lock = threading.Lock()
        self.errors: list[Exception] = []
        self.threads = [threading.Thread(target=self.write, args=(i, files, sha256, round_))
                        for i, files in enumerate(targets)]

    def write(self, index: int, files: list[int], sha256: str, round_: int) -> None:
        dataset = self.project.directory.get(name="writes")
        step = 0
        try:
            while True:
                step += 1
                name = f"r{round_}-w{index}-{step}.jpg"
                dataset.append([{"name": name, "sha256": sha256,
                                 "instances": [{"label": "person", "kind": "box", "bbox": [1, 1, 9, 9]}]}],
                               create_labels=True)
                with self.lock:
                    self.appended.append(name)
                file_id = files[step % len(files)]
                marker = float(round_ * 100_000 + index * 1000 + step)
                with self.lock:
                    self.sent[file_id] = marker
                self.project.replace_instances(
                    file_id, [{"label": "person", "kind": "box", "bbox": [marker, 0, marker + 1, 1]}],
                    create_labels=True)
                with self.lock:
                    self.saved.setdefault(file_id, []).append(marker)
        except Exception as error:  # the server was killed: what was acknowledged is recorded
            self.errors.append(error)

    def check(self, db: sqlite3.Connection) -> None:
        names = {row[0] for row in db.execute(
            "SELECT f.name FROM dataset_files m JOIN files f ON f.id = m.file_id JOIN datasets d ON d.id = m.dataset_id "
            "WHERE d.project_id = 'crash' AND d.name = 'writes'")}
        missing = [n for n in self.appended if n not in names]
        assert not missing, f"acknowledged appends lost: {missing[:5]}"
        for file_id, markers in self.saved.items():
            live = [row[0] for row in db.execute(
                "SELECT x_min FROM instances WHERE file_id = ? AND deleted = 0", (file_id,))]
            # The last acknowledged save, or the one in flight at the kill if it committed.
            allowed = {markers[-1], self.sent.get(file_id)}
            assert len(live) == 1 and live[0] in allowed, f"file {file_id}: {live} not in {allowed}"


@pytest.fixture(scope="module")
def generated(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("crash-gen")
    run("generate", "--files", str(FILES), "--instances-per-file", "3", "--labels", "4", "--out", str(out))
    return out / "annotations.json"


def test_kill_9_at_random_moments_loses_nothing_acknowledged(generated: Path, tmp_path: Path) -> None:
    rng = random.Random(SEED)
    data = tmp_path / "data"
    expected_instances = sum(1 for _ in json.loads(generated.read_text())["annotations"])
    started = time.monotonic()
    run("import", "coco", str(generated), "--project", "crash", "--dataset", "base", "--data", str(data))
    import_seconds = time.monotonic() - started
    editor = run("keys", "create", "--project", "crash", "--role", "editor", "--data", str(data)).stdout
    key = next(line.split(": ", 1)[1] for line in editor.splitlines() if line.startswith("api_key: "))

    server = Server(data)
    project = sluice.Project("crash", host=server.url, api_key=key)
    requests.post(f"{server.url}/api/v1/projects/crash/datasets", json={"name": "writes"},
                  headers={"Authorization": f"Bearer {key}"}).raise_for_status()
    photo = sorted(PHOTO.glob("*.jpg"))[0]
    sha256 = project.upload_media(photo)["sha256"]
    writes = project.directory.get(name="writes")
    targets = [[f["file"]["id"] for f in writes.append(
        [{"name": f"target-{t}-{i}.jpg", "sha256": sha256} for i in range(3)])] for t in range(4)]

    scenarios = ["import", "server-import", "writes", "snapshot", "export"]
    counts = {name: 0 for name in scenarios}
    # What the kills cut: imports left out whole, writes acknowledged before a kill, exports cut.
    errors: list[Exception] = []  # why each writer thread stopped: the kill, nothing else
    cut = {"imports rolled back": 0, "imports complete": 0, "writes acknowledged": 0, "exports cut": 0}
    for kill in range(KILLS):
        scenario = scenarios[kill % len(scenarios)]
        counts[scenario] += 1
        where = f"kill {kill} ({scenario}, seed {SEED})"
        if scenario == "import":
            name = f"imp-{kill}"
            process = subprocess.Popen([sluice_bin(), "import", "coco", str(generated), "--project", "crash",
                                        "--dataset", name, "--data", str(data)],
                                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            kill_after(process, rng.uniform(0, import_seconds * 1.2))
            db = check_store(data)
            state = imported(db, name)
            assert state in (None, (FILES, expected_instances)), where
            cut["imports rolled back" if state is None else "imports complete"] += 1
            db.close()
        elif scenario == "server-import":
            name = f"host-{kill}"
            client = subprocess.Popen([sluice_bin(), "import", "coco", str(generated), "--project", "crash",
                                       "--dataset", name, "--host", server.url, "--api-key", key],
                                      stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            time.sleep(rng.uniform(0, import_seconds * 1.5))
            victim_is_server = rng.random() < 0.7
            if victim_is_server:
                server.kill()
            else:
                client.kill()
            client.wait(timeout=120)
            if not victim_is_server:
                # The server notices the client gone between batches and rolls back; wait for it.
                deadline = time.monotonic() + 60
                while time.monotonic() < deadline:
                    db = check_store(data)
                    state = imported(db, name)
                    db.close()
                    if state is None or state == (FILES, expected_instances):
                        break
                    time.sleep(0.2)
                server.kill()
            db = check_store(data)
            state = imported(db, name)
            assert state in (None, (FILES, expected_instances)), where
            cut["imports rolled back" if state is None else "imports complete"] += 1
            db.close()
            server = Server(data)
        elif scenario == "writes":
            writers = Writers(server.url, key, targets, sha256, kill)
            for thread in writers.threads:
                thread.start()
            time.sleep(rng.uniform(0.2, 1.5))
            server.kill()
            for thread in writers.threads:
                thread.join(timeout=60)
            db = check_store(data)
            writers.check(db)
            errors.extend(writers.errors)
            cut["writes acknowledged"] += len(writers.appended) + sum(map(len, writers.saved.values()))
            db.close()
            server = Server(data)
        elif scenario == "snapshot":
            name = f"snap-{kill}"
            process = subprocess.Popen([sluice_bin(), "snapshot", "create", "--project", "crash", "--dataset", "base",
                                        "--name", name, "--data", str(data)],
                                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            kill_after(process, rng.uniform(0, 0.6))
            db = check_store(data)
            row = db.execute("SELECT s.version, d.version FROM snapshots s JOIN datasets d ON d.id = s.dataset_id "
                             "WHERE s.name = ?", (name,)).fetchone()
            assert row is None or row[0] <= row[1], where
            db.close()
        else:
            out = tmp_path / f"export-{kill}.json"
            process = subprocess.Popen([sluice_bin(), "export", "--project", "crash", "--dataset", "base",
                                        "--format", "coco", "--data", str(data), str(out)],
                                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            if kill_after(process, rng.uniform(0, import_seconds)) and not out.exists():
                cut["exports cut"] += 1
            if out.exists():
                document = json.loads(out.read_text())
                assert len(document["images"]) == FILES and len(document["annotations"]) == expected_instances, where
    server.stop()
    db = check_store(data)
    db.close()
    assert sum(counts.values()) == KILLS
    print(f"\n{KILLS} kills (seed {SEED}): {counts}; {cut}")
    unexpected = [e for e in errors if not (isinstance(e, sluice.SluiceError) and e.status is None)
                  and not isinstance(e, requests.ConnectionError)]
    assert not unexpected, f"writers stopped for another reason than the kill: {unexpected[:3]}"
    if KILLS >= 20:
        # Kills land before the work ends often enough that the checks above were put to the test.
        assert cut["imports rolled back"] > 0 and cut["writes acknowledged"] > 0, cut
