"""What operators see of a live `sluice serve` (DESIGN.md "Operations"): `/healthz`, `/readyz`,
`/metrics` read with Prometheus' own parser and checked against what the test did, one log line
per request with its id, and a graceful shutdown that lets streams finish, within a deadline."""

from __future__ import annotations

import re
import shutil
import signal
import subprocess
import tempfile
import threading
import time
from pathlib import Path
from typing import Iterator

import pytest
import requests

from conftest import Server, sluice_bin


@pytest.fixture()
def store(data_dir: Path) -> Iterator[Path]:
    with tempfile.TemporaryDirectory(prefix="sluice-pytest-ops-") as tmp:
        copy = Path(tmp) / "data"
        shutil.copytree(data_dir, copy)
        yield copy


def value(metrics: dict, name: str, **labels: str) -> float:
    return metrics.get((name, tuple(sorted(labels.items()))), 0.0)


def test_health_readiness_and_metrics_count_what_was_done(store: Path) -> None:
    server = Server(store)
    try:
        url = server.url
        assert requests.get(f"{url}/healthz").json() == {"status": "ok"}
        assert requests.get(f"{url}/readyz").json() == {"status": "ready"}
        before = server.metrics()
        for _ in range(5):
            requests.get(f"{url}/api/v1/projects").raise_for_status()
        dataset = requests.get(f"{url}/api/v1/projects/coco-dataset/datasets", params={"name": "Default"}).json()[0]
        assert requests.get(f"{url}/api/v1/datasets/{dataset['id']}/items/100000").status_code == 404
        stream = requests.get(f"{url}/api/v1/datasets/{dataset['id']}/stream", params={"format": "ndjson"})
        streamed = stream.content.count(b"\n")
        assert streamed == dataset["count"] > 0
        for _ in range(3):
            requests.post(f"{url}/api/v1/datasets/{dataset['id']}/slices",
                          json={"query": "labels.person > 1"}).raise_for_status()
        after = server.metrics()

        def grew(name: str, **labels: str) -> float:
            return value(after, name, **labels) - value(before, name, **labels)

        assert grew("sluice_http_requests_total", method="GET", route="/api/v1/projects", status="200") == 5
        assert grew("sluice_http_requests_total", method="GET", route="/api/v1/datasets/{id}/items/{position}",
                    status="404") == 1
        assert grew("sluice_http_response_bytes_total", method="GET", route="/api/v1/datasets/{id}/stream",
                    status="200") == len(stream.content)
        assert grew("sluice_http_request_duration_seconds_count", method="GET", route="/api/v1/projects") == 5
        assert grew("sluice_streamed_items_total", format="ndjson") == streamed
        assert grew("sluice_streamed_bytes_total", format="ndjson") == len(stream.content)
        assert grew("sluice_slice_cache_lookups_total", result="miss") == 1
        assert grew("sluice_slice_cache_lookups_total", result="hit") == 2
        assert value(after, "sluice_open_streams") == 0
        assert value(after, "sluice_store_bytes") > 0
    finally:
        assert server.stop() == 0


def test_one_log_line_per_request_with_its_id_and_no_secret(store: Path) -> None:
    made = subprocess.run([sluice_bin(), "keys", "create", "--project", "coco-dataset", "--role", "editor",
                           "--data", str(store)], capture_output=True, text=True, check=True).stdout
    key = re.search(r"^api_key: (\S+)$", made, re.M).group(1)
    client_id, secret = key.split(":", 1)
    server = Server(store)
    try:
        mine = requests.get(f"{server.url}/api/v1/projects/coco-dataset", headers={
            "X-Request-Id": "trace-42", "Authorization": f"Bearer {key}"})
        assert mine.headers["X-Request-Id"] == "trace-42"
        made_here = requests.get(f"{server.url}/api/v1/projects", headers={"X-Request-Id": "bad id\twith tab"})
        assert re.fullmatch(r"[0-9a-f-]{36}", made_here.headers["X-Request-Id"]), "an ill-formed id is replaced"
        refused = requests.get(f"{server.url}/api/v1/nowhere")
        assert refused.status_code == 404 and refused.headers["X-Request-Id"]
    finally:
        assert server.stop() == 0
    lines = [line for line in server.log if " request" in line and "request_id=" in line]
    assert len(lines) == 3, lines
    by_id = {re.search(r"request_id=(\S+)", line).group(1): line for line in lines}
    traced = by_id["trace-42"]
    assert "route=/api/v1/projects/{project}" in traced and "status=200" in traced and "method=GET" in traced
    assert f"key_id={client_id}" in traced
    assert re.search(r"duration_ms=\d+\.\d+", traced) and re.search(r"bytes=[1-9]\d*", traced)
    assert made_here.headers["X-Request-Id"] in by_id
    assert by_id[refused.headers["X-Request-Id"]].count("status=404") == 1
    assert not any(secret in line for line in server.log), "the key's secret is never logged"


def test_shutdown_lets_a_stream_finish_and_answers_long_polls_at_once(store: Path) -> None:
    server = Server(store)
    dataset = requests.get(f"{server.url}/api/v1/projects/coco-dataset/datasets", params={"name": "Default"}).json()[0]
    stream = requests.get(f"{server.url}/api/v1/datasets/{dataset['id']}/stream",
                          params={"format": "records"}, stream=True)
    first = stream.raw.read(1)
    follow: dict = {}

    def long_poll() -> None:
        started = time.monotonic()
        reply = requests.get(f"{server.url}/api/v1/datasets/{dataset['id']}/changes", params={"wait": 30})
        follow.update(status=reply.status_code, seconds=time.monotonic() - started, body=reply.json())

    poller = threading.Thread(target=long_poll)
    poller.start()
    time.sleep(0.5)
    server.process.send_signal(signal.SIGTERM)
    rest = stream.raw.read()
    poller.join(timeout=60)
    assert server.process.wait(timeout=60) == 0
    body = first + rest
    assert len(body) == int(stream.headers["Content-Length"]) if "Content-Length" in stream.headers else True
    records, offset = 0, 0
    while offset < len(body):
        length = int.from_bytes(body[offset:offset + 8], "little")
        offset += 8 + length
        records += 1
    assert offset == len(body) and records == dataset["count"], "the stream in flight finished whole"
    assert follow["status"] == 200 and follow["body"]["changes"] == []
    assert follow["seconds"] < 30, "the long poll was answered at shutdown, not at its wait"


def test_shutdown_grace_cuts_a_stalled_stream(tmp_path: Path) -> None:
    # 40 MB of records, far more than the socket buffers hold for a client that reads nothing.
    subprocess.run([sluice_bin(), "generate", "--files", "400", "--instances-per-file", "1", "--labels", "2",
                    "--image-bytes", "100000", "--out", str(tmp_path / "gen")], check=True, capture_output=True)
    data = tmp_path / "data"
    subprocess.run([sluice_bin(), "import", "coco", str(tmp_path / "gen" / "annotations.json"), "--images",
                    str(tmp_path / "gen" / "images"), "--project", "big", "--dataset", "D", "--data", str(data)],
                   check=True, capture_output=True)
    server = Server(data, "--shutdown-grace", "1")
    dataset = requests.get(f"{server.url}/api/v1/projects/big/datasets", params={"name": "D"}).json()[0]
    stalled = requests.get(f"{server.url}/api/v1/datasets/{dataset['id']}/stream",
                           params={"format": "records"}, stream=True)
    assert stalled.status_code == 200
    time.sleep(0.5)
    server.process.send_signal(signal.SIGTERM)
    try:
        code = server.process.wait(timeout=45)
    except subprocess.TimeoutExpired:
        server.process.kill()
        pytest.fail("the server outlived its shutdown grace")
    assert code == 0
    received = 0
    try:
        for chunk in stalled.raw.stream(1 << 20, decode_content=False):
            received += len(chunk)
    except Exception:  # the cut connection ends the read with an error
        pass
    assert 0 < received < 400 * 100_000, "the stream was cut at the grace, not finished"


def test_bad_options_are_refused_naming_them(store: Path) -> None:
    refused = subprocess.run([sluice_bin(), "serve", "--data", str(store), "--log-level", "loud"],
                             capture_output=True, text=True)
    assert refused.returncode != 0 and "--log-level" in refused.stderr
    refused = subprocess.run([sluice_bin(), "serve", "--data", str(store), "--shutdown-grace", "-1"],
                             capture_output=True, text=True)
    assert refused.returncode != 0 and "--shutdown-grace" in refused.stderr


def test_every_accepted_write_has_an_audit_line(store: Path) -> None:
    made = subprocess.run([sluice_bin(), "keys", "create", "--project", "coco-dataset", "--role", "editor",
                           "--data", str(store)], capture_output=True, text=True, check=True).stdout
    key = re.search(r"^api_key: (\S+)$", made, re.M).group(1)
    client_id = key.split(":", 1)[0]
    server = Server(store)
    try:
        created = requests.post(f"{server.url}/api/v1/projects/coco-dataset/labels", json={"name": "audited"},
                                headers={"Authorization": f"Bearer {key}", "X-Request-Id": "audit-1"})
        assert created.status_code == 201
        refused = requests.post(f"{server.url}/api/v1/projects/coco-dataset/labels", json={"name": "audited"},
                                headers={"Authorization": f"Bearer {key}", "X-Request-Id": "audit-2"})
        assert refused.status_code == 409
        requests.get(f"{server.url}/api/v1/projects/coco-dataset/labels", headers={"X-Request-Id": "audit-3"})
        dataset = requests.get(f"{server.url}/api/v1/projects/coco-dataset/datasets", params={"name": "Default"}).json()[0]
        made = requests.post(f"{server.url}/api/v1/datasets/{dataset['id']}/slices", json={"query": "labels.any > 0"},
                             headers={"X-Request-Id": "audit-4"})
        assert made.ok, "making a slice is a read: no audit line"
    finally:
        assert server.stop() == 0
    audits = [line for line in server.log if line.rstrip().endswith(" audit")]
    assert len(audits) == 1, audits
    assert "request_id=audit-1" in audits[0] and f"key_id={client_id}" in audits[0]
    assert "path=/api/v1/projects/coco-dataset/labels" in audits[0] and "method=POST" in audits[0]
