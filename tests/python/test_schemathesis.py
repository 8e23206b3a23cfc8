"""Schemathesis, with all its checks and phases (examples, coverage, fuzzing, stateful with the
links it infers), over the OpenAPI document a live server serves, against real data with a
server admin key: zero failures.

The run is bounded (SLUICE_SCHEMATHESIS_EXAMPLES per operation and phase, 50 by default: about
a minute here) and seeded (SLUICE_SCHEMATHESIS_SEED, 1 by default) so CI repeats it; set
another seed to explore. Its settings and the reasons for them are in schemathesis/.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import requests

from conftest import FIXTURES, Server, sluice_bin

HERE = Path(__file__).resolve().parent


def test_schemathesis_finds_no_failure(tmp_path: Path) -> None:
    data = tmp_path / "data"
    subprocess.run(
        [sluice_bin(), "import", "coco", str(FIXTURES / "val2017-persons/person_keypoints_val2017.json"),
         "--project", "coco-dataset", "--dataset", "Default",
         "--images", str(FIXTURES / "val2017-persons/images"), "--data", str(data)],
        check=True, capture_output=True, text=True)
    created = subprocess.run([sluice_bin(), "keys", "create", "--server-admin", "--data", str(data)],
                             check=True, capture_output=True, text=True).stdout
    key = re.search(r"^api_key: (\S+)$", created, re.MULTILINE).group(1)
    # Unauthenticated and wrongly keyed requests are part of the run: the failed-key limit
    # is raised so that they test the routes, not the limiter (SecurityTests tests that).
    server = Server(data, "--failed-key-limit", "1000000", "--log-level", "warning")
    try:
        headers = {"Authorization": f"Bearer {key}"}
        # The document's example slice query names `cat`: the project has that label too.
        assert requests.post(f"{server.url}/api/v1/projects/coco-dataset/labels", json={"name": "cat"},
                             headers=headers, timeout=10).status_code == 201
        environment = dict(os.environ, SCHEMATHESIS_HOOKS="hooks", NO_COLOR="1",
                           PYTHONPATH=str(HERE / "schemathesis"))
        run = subprocess.run(
            [str(Path(sys.executable).parent / "schemathesis"),
             "--config-file", str(HERE / "schemathesis" / "schemathesis.toml"),
             "run", f"{server.url}/api/v1/openapi.json", "-H", f"Authorization: Bearer {key}",
             "--max-examples", os.environ.get("SLUICE_SCHEMATHESIS_EXAMPLES", "50"),
             "--seed", os.environ.get("SLUICE_SCHEMATHESIS_SEED", "1")],
            cwd=tmp_path, env=environment, capture_output=True, text=True, timeout=900)
        report = run.stdout + run.stderr
        assert run.returncode == 0, report[-12000:]
        for phase in ["Examples", "Coverage", "Fuzzing", "Stateful"]:
            assert f"✅ {phase}" in report, f"the {phase} phase ran and passed:\n{report[-4000:]}"
        selected = re.search(r"Selected: (\d+)/(\d+)", report)
        tested = re.search(r"Tested: (\d+)", report)
        operations = sum(len(methods) for methods in requests.get(
            f"{server.url}/api/v1/openapi.json", timeout=10).json()["paths"].values())
        # Every operation Schemathesis loads is tested (it leaves HEAD to GET's).
        assert selected and tested and selected.group(1) == selected.group(2) == tested.group(1), report[-4000:]
        assert int(tested.group(1)) >= operations - 1, f"{tested.group(1)} of {operations} operations tested"
    finally:
        assert server.stop() == 0
