from agentregistry.v1 import registry_pb2 as pb


async def test_register_then_find(daemon):
    await daemon.stub.RegisterAgent(
        pb.RegisterAgentRequest(
            runtime_id="rt", card=pb.AgentCard(name="a", capability_phrases=["Python code"])
        )
    )
    response = await daemon.stub.FindAgents(pb.FindAgentsRequest(capability="python"))
    assert [m.matched_capability for m in response.matches] == ["Python code"]


def test_process_starts_and_stops_on_sigterm(daemon_process):
    process = daemon_process("--log-level", "warning")
    assert process.signal() == 0
