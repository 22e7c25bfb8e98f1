"""The daemon refuses to start on a data dir it cannot trust: exit code 1 and a message naming the file."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import grpc
from agentregistry.v1 import registry_pb2 as pb
from agentregistry.v1 import registry_pb2_grpc

from registryd.store.sqlite import DATA_FILE, LOCK_FILE


def run_daemon(data_dir: Path, cwd: Path) -> subprocess.CompletedProcess[str]:
    """A daemon that is expected to exit by itself."""
    return subprocess.run(
        [sys.executable, "-m", "registryd", "--listen", "127.0.0.1:0", "--data-dir", str(data_dir)],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=30,
    )


def test_a_file_that_is_not_a_database_stops_the_daemon_naming_the_file(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    data_dir.mkdir()
    (data_dir / DATA_FILE).write_bytes(b"this is not a database, it only sits where one should be" * 100)

    result = run_daemon(data_dir, tmp_path)

    assert result.returncode == 1
    assert f"data file {data_dir / DATA_FILE} is unreadable or corrupt" in result.stderr
    assert "refusing to start empty" in result.stderr


def test_damaged_pages_stop_the_daemon_instead_of_starting_empty(daemon_process, tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    process = daemon_process("--data-dir", str(data_dir), "--log-level", "warning")
    with grpc.insecure_channel(process.address) as channel:
        stub = registry_pb2_grpc.RegistryServiceStub(channel)
        for i in range(200):
            card = pb.AgentCard(name=f"agent {i}", capability_phrases=[f"capability {i} " * 15])
            stub.RegisterAgent(pb.RegisterAgentRequest(agent_id=f"a{i}", runtime_id="rt", card=card))
    assert process.signal() == 0
    data_file = data_dir / DATA_FILE
    size = data_file.stat().st_size
    assert size > 16 * 4096, "the test needs a file of many pages"
    with data_file.open("r+b") as handle:  # keep the header page, scribble over every other page
        handle.seek(4096)
        handle.write(b"\xa5" * (size - 4096))

    result = run_daemon(data_dir, tmp_path)

    assert result.returncode == 1
    assert f"data file {data_file} is unreadable or corrupt" in result.stderr


def test_a_second_daemon_on_the_same_data_dir_is_refused(daemon_process, tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    first = daemon_process("--data-dir", str(data_dir), "--log-level", "warning")

    result = run_daemon(data_dir, tmp_path)

    assert result.returncode == 1
    assert f"data dir {data_dir} is in use by another registryd (pid {first.proc.pid}" in result.stderr
    assert str(data_dir / LOCK_FILE) in result.stderr
    with grpc.insecure_channel(first.address) as channel:
        stats = registry_pb2_grpc.RegistryServiceStub(channel).GetStats(pb.GetStatsRequest(), timeout=5)
    assert stats.revision == 0
