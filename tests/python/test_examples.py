"""The examples train for a few steps against a live server (CPU)."""

from __future__ import annotations

import os
import subprocess
import sys

from conftest import ROOT


def run_example(name: str, server: str, *args: str) -> str:
    result = subprocess.run(
        [sys.executable, str(ROOT / "examples" / name), "--host", server, *args],
        capture_output=True, text=True, timeout=300, env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2"},
    )
    assert result.returncode == 0, result.stderr[-3000:]
    return result.stdout


def test_pytorch_detection_trains(server: str) -> None:
    out = run_example("pytorch_detection.py", server, "--steps", "6")
    assert "step 6: L1 loss" in out
    assert "trained 6 steps on 9 items" in out


def test_tensorflow_pipeline_trains(server: str) -> None:
    out = run_example("tensorflow_pipeline.py", server, "--steps", "4")
    assert "trained 4 steps on 9 items" in out
