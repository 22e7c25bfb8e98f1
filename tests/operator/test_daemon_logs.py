"""registryd's log at the default level: runtime joins/leaves and daemon events, not a line per agent."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import grpc
from agentregistry.v1 import registry_pb2 as pb
from agentregistry.v1 import registry_pb2_grpc as pb_grpc

AGENTS = 500


def test_per_agent_lifecycle_lines_are_debug_runtime_lines_info(daemon_process: Callable[..., Any]) -> None:
    daemon = daemon_process("--store", "memory")  # the default --log-level (info)
    with grpc.insecure_channel(daemon.address) as channel:
        stub = pb_grpc.RegistryServiceStub(channel)
        card = pb.AgentCard(name="w", capability_phrases=["work"])
        for i in range(AGENTS):
            stub.RegisterAgent(pb.RegisterAgentRequest(agent_id=f"a{i}", runtime_id=f"rt-{i % 5}", card=card))
        for i in range(AGENTS):
            stub.DeregisterAgent(pb.DeregisterAgentRequest(agent_id=f"a{i}"))
    daemon.signal()
    log = daemon.log().splitlines()
    assert not [line for line in log if "agent_registered" in line or "agent_deregistered" in line]
    assert sum("runtime_joined" in line for line in log) == 5, "\n".join(log)
    assert sum("runtime_left" in line for line in log) == 5
    assert len(log) < 30, "\n".join(log)
