"""The agents the benchmarks register and the requests they send, as wire bytes prepared up front so
the load clients spend their time on the calls, not on building messages."""

from __future__ import annotations

from agentregistry.v1 import registry_pb2 as pb

from bench.noop import echo_pb2 as echo_pb

TOPICS = 100  # each agent has one of 100 topic capabilities, so a topic query matches ~1% of agents
COMMON = ("python code generation", "text summarization", "web search", "data analysis")
QUERY = "topic-042"  # matches the agents with i % TOPICS == 42
FIND_LIMIT = 10  # a router asks for a handful of candidates
AGENTS_PER_RUNTIME = 100

SERVICE = "/agentregistry.v1.RegistryService/"
ECHO = "/bench.noop.EchoService/"


def agent_id(i: int) -> str:
    return f"agent-{i:07d}"


def runtime_id(i: int, per_runtime: int = AGENTS_PER_RUNTIME) -> str:
    """The runtime that owns agent i."""
    return f"runtime-{i // per_runtime:06d}"


def runtime_agents(k: int, per_runtime: int) -> list[str]:
    """The agents of runtime number k."""
    return [agent_id(i) for i in range(k * per_runtime, (k + 1) * per_runtime)]


def topic_capability(i: int) -> str:
    return f"topic-{i % TOPICS:03d} analysis"


def card(i: int) -> pb.AgentCard:
    return pb.AgentCard(
        name=f"worker {i}",
        description="A benchmark agent that answers questions about one topic.",
        version="1.0.0",
        url=f"http://127.0.0.1:9000/agents/{i}",
        capability_phrases=[topic_capability(i), COMMON[i % len(COMMON)]],
        skills=[pb.Skill(id="answer", name="question answering", tags=["qa", f"topic-{i % TOPICS:03d}"])],
        labels={"team": f"team-{i % 7}"},
    )


def register_request(i: int, per_runtime: int = AGENTS_PER_RUNTIME) -> bytes:
    request = pb.RegisterAgentRequest(
        agent_id=agent_id(i), runtime_id=runtime_id(i, per_runtime), card=card(i)
    )
    return request.SerializeToString()


def get_request(i: int) -> bytes:
    return pb.GetAgentRequest(agent_id=agent_id(i)).SerializeToString()


def heartbeat_request(i: int) -> bytes:
    return pb.HeartbeatRequest(runtime_id=runtime_id(i), agent_ids=[agent_id(i)]).SerializeToString()


def find_request() -> bytes:
    return pb.FindAgentsRequest(capability=QUERY, limit=FIND_LIMIT).SerializeToString()


def bind_message(k: int, per_runtime: int) -> bytes:
    """Bind runtime number k and all its agents to a heartbeat stream."""
    bind = pb.Bind(
        runtime_id=runtime_id(k * per_runtime, per_runtime), agent_ids=runtime_agents(k, per_runtime)
    )
    return pb.HeartbeatStreamRequest(sequence=1, bind=bind).SerializeToString()


def beat_message(sequence: int = 2) -> bytes:
    """A beat for every agent the stream has bound."""
    return pb.HeartbeatStreamRequest(sequence=sequence, beat=pb.Beat()).SerializeToString()


def echo_request(request_size: int, reply_size: int) -> bytes:
    """The no-op stand-in for a registryd request: as large, and asking for an answer as large."""
    return echo_pb.EchoRequest(payload=b"x" * request_size, reply_size=reply_size).SerializeToString()
