"""The committed stubs in sdk/agentregistry/v1 are what `make proto` generates from protos/ now."""

from __future__ import annotations

import filecmp
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PROTO = "protos/agentregistry/v1/registry.proto"


def test_generated_code_matches_the_proto(tmp_path: Path):
    # `make proto`, with the output redirected to tmp_path.
    outputs = [f"--{kind}_out={tmp_path}" for kind in ("python", "pyi", "grpc_python")]
    result = subprocess.run(
        [sys.executable, "-m", "grpc_tools.protoc", "-Iprotos", *outputs, PROTO],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    generated = tmp_path / "agentregistry" / "v1"
    committed = ROOT / "sdk" / "agentregistry" / "v1"
    names = sorted(p.name for p in generated.iterdir())
    assert names == ["registry_pb2.py", "registry_pb2.pyi", "registry_pb2_grpc.py"]
    stale = [name for name in names if not filecmp.cmp(generated / name, committed / name, shallow=False)]
    assert not stale, f"{stale} differ from {PROTO}: run `make proto` and commit the result"
