"""Epoch state tokens in Python: exact resumption, elastic resumption over another world size,
and the same token across the two SDKs (the `sluice stream` command is the Swift SDK)."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest
from sluice import Project, SluiceError

from conftest import sluice_bin


def positions(records) -> list:
    return [record.position for record in records]


def project(server: str) -> Project:
    return Project("coco-dataset", host=server)


def take(epoch, n: int) -> list:
    out = []
    for record in epoch.records(prefetch=2, range_size=2):
        out.append(record.position)
        if len(out) == n:
            break
    return out


def test_a_token_resumes_exactly_where_the_loop_stopped(server: str) -> None:
    p = project(server)
    ds = p.directory.get(name="Default")
    full = positions(ds.epoch().shuffled(8, epoch=2).records())
    epoch = ds.epoch().shuffled(8, epoch=2)
    first = take(epoch, 4)
    token = epoch.token
    assert token.startswith("sluice-stream-1.") and epoch.delivered == 4
    rest = positions(p.resume(token).records())
    assert first + rest == full and sorted(full) == list(range(len(ds)))


def test_elastic_resume_from_two_ranks_to_three_delivers_each_item_once(server: str) -> None:
    p = project(server)
    ds = p.directory.get(name="Default")
    tokens, seen = [], []
    for rank, n in ((0, 2), (1, 3)):
        epoch = ds.epoch().shuffled(1).sharded(rank, 2)
        seen += take(epoch, n)
        tokens.append(epoch.token)
    for rank in range(3):
        seen += positions(p.resume(tokens, rank=rank, world_size=3).records())
    assert sorted(seen) == list(range(len(ds)))


def test_tokens_of_an_incomplete_run_are_refused(server: str) -> None:
    p = project(server)
    epoch = p.directory.get(name="Default").epoch().sharded(0, 2)
    take(epoch, 1)
    with pytest.raises(SluiceError, match="missing ranks"):
        p.resume([epoch.token], rank=0, world_size=3)
    with pytest.raises(SluiceError, match="not a stream token"):
        p.resume("nonsense")


def cli_stream(server: str, tmp: Path, *args: str) -> tuple:
    state = tmp / "state"
    out = subprocess.run(
        [sluice_bin(), "stream", "--project", "coco-dataset", "--host", server, "--output", "ndjson",
         "--state-file", str(state), *args], capture_output=True, text=True, check=True)
    return [json.loads(line)["position"] for line in out.stdout.splitlines()], state.read_text().strip()


def test_a_swift_token_resumes_in_python_and_a_python_token_in_swift(server: str, tmp_path: Path) -> None:
    p = project(server)
    ds = p.directory.get(name="Default")
    shard = positions(ds.epoch().shuffled(5, epoch=1).sharded(1, 2).records())
    first, token = cli_stream(server, tmp_path, "--dataset", "Default", "--seed", "5", "--epoch", "1",
                              "--rank", "1", "--world-size", "2", "--limit", "2")
    assert first + positions(p.resume(token).records()) == shard

    epoch = ds.epoch().shuffled(5, epoch=1).sharded(1, 2)
    first = take(epoch, 3)
    rest, _ = cli_stream(server, tmp_path, "--resume", epoch.token)
    assert first + rest == shard
