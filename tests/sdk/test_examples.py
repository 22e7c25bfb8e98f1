"""Each example in examples/ runs to completion against a daemon process and exits 0."""

from __future__ import annotations

import subprocess
import sys
from typing import Any

import pytest

from tests.conftest import ROOT


@pytest.mark.parametrize(
    ("script", "expected"),
    [
        ("basic_coordination.py", "router sees runtimes"),
        ("capability_discovery.py", "ACTIVE only: ['example-translator']"),
        ("fault_tolerance.py", "router fails over -> example-backup"),
    ],
)
def test_example_runs_against_a_daemon(daemon_process: Any, script: str, expected: str) -> None:
    process = daemon_process("--store", "memory", "--log-level", "warning")
    result = subprocess.run(
        [sys.executable, str(ROOT / "examples" / script), "--target", process.address],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert expected in result.stdout
    assert result.stdout.rstrip().endswith("done")
