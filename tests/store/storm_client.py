"""One client process of the crash test: a few tasks write as fast as they can until the daemon dies.

Usage: python storm_client.py ADDRESS PLAN_FILE. The plan (JSON) names the client, the cycle, and for each
task its runtime and the agents that runtime owns now ({agent_id: state}). A task registers new agents,
re-registers with a new card, changes operator statuses and deregisters, one call at a time. Prints
"ready" once connected, then, when it stops, one JSON object: per task the list of operations with
`acked` (the daemon answered OK) and `outcome` (the agent's state if the operation took effect: from the
response when acked, as intended otherwise; null = deregistered). The first failed call ends a task.

An agent state is [runtime_id, card name, status, status_reason, registered_at in ns or null if unknown].
"""

from __future__ import annotations

import asyncio
import json
import random
import sys
import time
from typing import Any

import grpc
from agentregistry.v1 import registry_pb2 as pb
from agentregistry.v1 import registry_pb2_grpc

MAX_OPS_PER_TASK = 3000
TIME_LIMIT = 20.0
CALL_TIMEOUT = 10.0
STATUSES = (
    pb.AGENT_STATUS_ACTIVE,
    pb.AGENT_STATUS_DEGRADED,
    pb.AGENT_STATUS_UNHEALTHY,
    pb.AGENT_STATUS_OFFLINE,
)
# Codes that mean "the daemon went away": the outcome of the call is unknown.
GONE = {grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.CANCELLED, grpc.StatusCode.DEADLINE_EXCEEDED}

State = list[Any]


def state_of(agent: pb.Agent) -> State:
    registered_at = agent.registered_at.seconds * 10**9 + agent.registered_at.nanos
    return [agent.runtime_id, agent.card.name, agent.status, agent.status_reason, registered_at]


async def run_task(
    stub: registry_pb2_grpc.RegistryServiceStub, name: str, runtime_id: str, owned: dict[str, State]
) -> list[dict[str, Any]]:
    log: list[dict[str, Any]] = []
    rng = random.Random(name)
    deadline = time.monotonic() + TIME_LIMIT
    for n in range(MAX_OPS_PER_TASK):
        if time.monotonic() > deadline:
            break
        roll = rng.random()
        if not owned or roll < 0.4:
            agent_id = f"{name}-{n}"
            card = pb.AgentCard(name=f"card-{n}", capability_phrases=[f"skill {n % 7}"])
            intended: State | None = [
                runtime_id,
                card.name,
                pb.AGENT_STATUS_ACTIVE,
                pb.STATUS_REASON_REGISTERED,
                None,
            ]
            call = stub.RegisterAgent(
                pb.RegisterAgentRequest(agent_id=agent_id, runtime_id=runtime_id, card=card)
            )
        else:
            agent_id = rng.choice(sorted(owned))
            current = owned[agent_id]
            if roll < 0.55:
                card = pb.AgentCard(name=f"card-{n}", capability_phrases=["renamed"])
                intended = [runtime_id, card.name, *current[2:]]
                request = pb.RegisterAgentRequest(agent_id=agent_id, runtime_id=runtime_id, card=card)
                call = stub.RegisterAgent(request)
            elif roll < 0.85:
                status = rng.choice(STATUSES)
                changed = status != current[2]
                # Nothing beats here, so health stays ACTIVE (REGISTERED): an operator setting decides the
                # status, and ACTIVE clears it back to the health's.
                reason = (
                    pb.STATUS_REASON_REGISTERED
                    if status == pb.AGENT_STATUS_ACTIVE
                    else pb.STATUS_REASON_OPERATOR
                )
                intended = [*current[:2], status, reason if changed else current[3], current[4]]
                call = stub.UpdateAgentStatus(pb.UpdateAgentStatusRequest(agent_id=agent_id, status=status))
            else:
                intended = None
                call = stub.DeregisterAgent(
                    pb.DeregisterAgentRequest(agent_id=agent_id, runtime_id=runtime_id)
                )
        try:
            response = await asyncio.wait_for(call, CALL_TIMEOUT)
        except grpc.aio.AioRpcError as error:
            gone = error.code() in GONE
            log.append(
                {
                    "agent_id": agent_id,
                    "acked": False,
                    "outcome": intended,
                    "error": None if gone else str(error),
                }
            )
            break
        outcome = None if intended is None else state_of(response.agent)
        log.append(
            {
                "agent_id": agent_id,
                "acked": True,
                "outcome": outcome,
                "agent_revision": 0 if intended is None else response.agent.revision,
                "revision": response.revision,
            }
        )
        if outcome is None:
            del owned[agent_id]
        else:
            owned[agent_id] = outcome
    return log


async def main(address: str, plan: dict[str, Any]) -> None:
    async with grpc.aio.insecure_channel(address) as channel:
        await asyncio.wait_for(channel.channel_ready(), CALL_TIMEOUT)
        print("ready", flush=True)
        stub = registry_pb2_grpc.RegistryServiceStub(channel)
        tasks = plan["tasks"]
        logs = await asyncio.gather(
            *(
                run_task(stub, f"{plan['client']}-c{plan['cycle']}-t{i}", task["runtime_id"], task["agents"])
                for i, task in enumerate(tasks)
            )
        )
    print(json.dumps({task["runtime_id"]: log for task, log in zip(tasks, logs, strict=True)}), flush=True)


if __name__ == "__main__":
    with open(sys.argv[2]) as handle:
        asyncio.run(main(sys.argv[1], json.load(handle)))
