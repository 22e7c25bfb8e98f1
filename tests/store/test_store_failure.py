"""A store that cannot write stops the daemon (exit code 1); what it acknowledged before is kept."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import grpc
from agentregistry.v1 import registry_pb2 as pb
from agentregistry.v1 import registry_pb2_grpc

FILE_SIZE_LIMIT = 512 * 1024  # RLIMIT_FSIZE: the WAL soon outgrows it and writes fail with EFBIG
# Python ignores SIGXFSZ, so a write beyond the limit fails instead of killing the process.
LIMITED_DAEMON = (
    "import resource, sys; "
    f"resource.setrlimit(resource.RLIMIT_FSIZE, ({FILE_SIZE_LIMIT}, {FILE_SIZE_LIMIT})); "
    "from registryd.__main__ import main; sys.exit(main(sys.argv[1:]))"
)


def test_a_failing_write_stops_the_daemon_and_keeps_what_it_acknowledged(
    daemon_process, tmp_path: Path
) -> None:
    data_dir = tmp_path / "data"
    ready = tmp_path / "ready"
    args = ["--listen", "127.0.0.1:0", "--ready-file", str(ready), "--data-dir", str(data_dir)]
    proc = subprocess.Popen(
        [sys.executable, "-c", LIMITED_DAEMON, *args, "--log-level", "warning"],
        cwd=tmp_path,
        stderr=subprocess.PIPE,
        stdout=subprocess.DEVNULL,
        text=True,
    )
    acked: list[str] = []
    try:
        deadline = time.monotonic() + 15
        while not ready.exists() or not ready.read_text():
            assert proc.poll() is None and time.monotonic() < deadline, "the daemon did not start"
            time.sleep(0.02)
        card = pb.AgentCard(name="big", description="x" * 4000)
        with grpc.insecure_channel(ready.read_text()) as channel:
            stub = registry_pb2_grpc.RegistryServiceStub(channel)
            for i in range(2000):
                request = pb.RegisterAgentRequest(agent_id=f"a{i}", runtime_id="rt", card=card)
                try:
                    stub.RegisterAgent(request, timeout=10)
                except grpc.RpcError as error:
                    failure = error
                    break
                acked.append(request.agent_id)
            else:
                raise AssertionError("no write failed; the file size limit did not bite")
        assert failure.code() == grpc.StatusCode.UNAVAILABLE
        assert "store write failed" in failure.details()
        assert proc.wait(15) == 1
        assert "stopped because the store failed" in proc.stderr.read()
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(10)
        proc.stderr.close()

    restarted = daemon_process("--data-dir", str(data_dir), "--log-level", "warning")
    with grpc.insecure_channel(restarted.address) as channel:
        stub = registry_pb2_grpc.RegistryServiceStub(channel)
        listed = stub.ListAgents(pb.ListAgentsRequest(page_size=1000), timeout=10)
    assert len(acked) > 10
    assert sorted(a.agent_id for a in listed.agents) == sorted(acked)  # the failed write was rolled back
