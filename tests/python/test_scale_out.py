"""Scale-out (issue 15): three `sluice serve --postgres` processes on one database and one media
directory behind nginx (Debian's package, round-robin). One is killed with `kill -9` in the
middle of an epoch; the Python and the Swift clients finish the epoch through the others,
every item exactly once and in order.

Needs the throwaway cluster of scripts/test.sh (SLUICE_TEST_POSTGRES) and nginx."""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import tempfile
import threading
import time
import uuid
from pathlib import Path
from typing import Iterator

import pytest

from sluice import Project
from conftest import Server, sluice_bin

POSTGRES = os.environ.get("SLUICE_TEST_POSTGRES")
REQUIRED = os.environ.get("SLUICE_REQUIRE_POSTGRES") == "1"
FILES = 4000

if not POSTGRES or not shutil.which("nginx"):
    if REQUIRED:
        raise RuntimeError("SLUICE_REQUIRE_POSTGRES=1 needs SLUICE_TEST_POSTGRES and nginx: run scripts/test.sh")
    pytest.skip("no PostgreSQL test cluster or nginx (scripts/test.sh starts and installs them)",
                allow_module_level=True)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def nginx_config(prefix: Path, port: int, upstreams: list[str]) -> str:
    servers = "\n".join(f"        server {u.removeprefix('http://')} max_fails=1 fail_timeout=30s;" for u in upstreams)
    return f"""
worker_processes 1;
pid {prefix}/nginx.pid;
error_log {prefix}/error.log warn;
events {{ worker_connections 256; }}
http {{
    access_log off;
    client_body_temp_path {prefix}/body;
    proxy_temp_path {prefix}/proxy;
    fastcgi_temp_path {prefix}/fastcgi;
    uwsgi_temp_path {prefix}/uwsgi;
    scgi_temp_path {prefix}/scgi;
    upstream sluice {{
{servers}
    }}
    server {{
        listen 127.0.0.1:{port};
        location / {{
            proxy_pass http://sluice;
            proxy_http_version 1.1;
            proxy_set_header Connection "";
            # Streams pass through as they come; a request whose server is gone goes to the next.
            proxy_buffering off;
            proxy_next_upstream error timeout http_502 http_503;
            proxy_connect_timeout 2s;
            proxy_read_timeout 60s;
        }}
    }}
}}
"""


@pytest.fixture(scope="module")
def cluster() -> Iterator[tuple[str, list[Server], str]]:
    """(nginx URL, the three servers, the store's URL): `generated/Default` of FILES files."""
    schema = "py_" + uuid.uuid4().hex
    url = POSTGRES + ("&" if "?" in POSTGRES else "?") + "schema=" + schema
    with tempfile.TemporaryDirectory(prefix="sluice-scale-out-") as tmp:
        tmp_path = Path(tmp)
        os.chmod(tmp, 0o755)
        media = tmp_path / "media"
        subprocess.run([sluice_bin(), "generate", "--files", str(FILES), "--instances-per-file", "3",
                        "--labels", "10", "--images", "--out", str(tmp_path / "gen")], check=True, capture_output=True)
        subprocess.run([sluice_bin(), "import", "coco", str(tmp_path / "gen" / "annotations.json"),
                        "--project", "generated", "--dataset", "Default", "--images", str(tmp_path / "gen" / "images"),
                        "--postgres", url, "--media", str(media)], check=True, capture_output=True)
        servers = [Server(None, "--postgres", url, "--media", str(media)) for _ in range(3)]
        prefix = tmp_path / "nginx"
        prefix.mkdir()
        os.chmod(prefix, 0o777)
        port = free_port()
        (prefix / "nginx.conf").write_text(nginx_config(prefix, port, [s.url for s in servers]))
        nginx = subprocess.Popen(["nginx", "-p", str(prefix), "-c", str(prefix / "nginx.conf"), "-g", "daemon off;"],
                                 stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        base = f"http://127.0.0.1:{port}"
        for _ in range(100):
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                    break
            except OSError:
                time.sleep(0.1)
        try:
            yield base, servers, url
        finally:
            nginx.terminate()
            nginx.wait(timeout=20)
            for server in servers:
                if server.process.poll() is None:
                    server.stop()
            subprocess.run(["psql", POSTGRES.split("?")[0], "-qc", f"DROP SCHEMA {schema} CASCADE"],
                           capture_output=True)


def test_every_server_answers_every_request(cluster) -> None:
    base, servers, _ = cluster
    ds = Project("generated", host=base).directory.get(name="Default")
    assert len(ds) == FILES
    # The same items asked of different servers (round-robin) are the same.
    first = [ds[i] for i in range(6)]
    assert [item["position"] for item in first] == list(range(6))
    assert first == [ds[i] for i in range(6)] == [ds[i] for i in range(6)]
    def tensors(record):
        return record.metadata, {name: array.tobytes() for name, array in record.tensors.items()}
    assert [tensors(r) for r in ds.records_in(0, 6)] == [tensors(r) for r in ds.records_in(0, 6)]
    # A slice made through one server is read through the others.
    sliced = ds.slice("labels.label0 > 0")
    assert 0 < len(sliced) < FILES
    assert [r.position for r in sliced.records()] == [r.position for r in sliced.records()]


def test_an_epoch_survives_kill_9_of_a_server_python_and_swift(cluster) -> None:
    base, servers, _ = cluster
    ds = Project("generated", host=base).directory.get(name="Default")
    # Swift: `sluice stream` through nginx, started now, killed into below.
    swift = subprocess.Popen(
        [sluice_bin(), "stream", "--host", base, "--project", "generated", "--dataset", "Default",
         "--output", "ndjson", "--prefetch", "2", "--range-size", "50"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    positions = []
    killed = False
    for record in ds.epoch().records(prefetch=2, range_size=50):
        positions.append(record.position)
        if len(positions) == FILES // 3 and not killed:
            servers[1].kill()
            killed = True
    out, err = swift.communicate(timeout=600)
    assert killed and servers[1].process.poll() is not None
    # The killed server was serving this epoch's ranges when it died.
    assert any("/stream" in line for line in servers[1].log)
    assert positions == list(range(FILES)), "the Python epoch: every item once, in order"
    assert swift.returncode == 0, err
    swift_positions = [json.loads(line)["position"] for line in out.splitlines()]
    assert swift_positions == list(range(FILES)), "the Swift epoch: every item once, in order"


def test_migrate_moves_an_embedded_store_up_and_it_streams_the_same(data_dir: Path, server: str) -> None:
    """`sluice migrate` from the sample's embedded store; a server on the PostgreSQL copy sends
    the same bytes as the embedded store's server, item for item."""
    schema = "py_" + uuid.uuid4().hex
    url = POSTGRES + ("&" if "?" in POSTGRES else "?") + "schema=" + schema
    try:
        result = subprocess.run([sluice_bin(), "migrate", "--from-data", str(data_dir), "--postgres", url],
                                capture_output=True, text=True, timeout=300)
        assert result.returncode == 0, result.stderr
        assert "verified row counts and 1 dataset streams byte for byte" in result.stderr
        again = subprocess.run([sluice_bin(), "migrate", "--from-data", str(data_dir), "--postgres", url],
                               capture_output=True, text=True, timeout=300)
        assert again.returncode != 0 and "holds projects already" in again.stderr
        moved = Server(None, "--postgres", url, "--media", str(data_dir / "media"))
        try:
            import requests
            datasets = requests.get(f"{server}/api/v1/projects/coco-dataset/datasets").json()
            route = f"/api/v1/datasets/{datasets[0]['id']}/stream"
            embedded, upstairs = requests.get(server + route), requests.get(moved.url + route)
            assert embedded.status_code == upstairs.status_code == 200
            assert len(embedded.content) > 1000 and embedded.content == upstairs.content
            media = f"/api/v1/files/{json.loads(embedded.text.splitlines()[0])['file']['id']}/media"
            assert requests.get(server + media).content == requests.get(moved.url + media).content
        finally:
            moved.stop()
    finally:
        subprocess.run(["psql", POSTGRES.split("?")[0], "-qc", f"DROP SCHEMA IF EXISTS {schema} CASCADE"],
                       capture_output=True)
