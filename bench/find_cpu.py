"""`python -m bench.find_cpu [--agents 10000]`: what one FindAgents call costs the daemon beyond gRPC, in
process: the core's find, the conversion to protobuf and the encoding of the response, for the benchmark's
query (a topic matching 1% of the agents, limit 10), with the agents registered as bench/workload.py makes
them. Process time per call, best of 5 runs of 2,000 calls.
"""

from __future__ import annotations

import argparse
import asyncio
import time

from agentregistry.v1 import registry_pb2 as pb

from bench import workload
from registryd import logs
from registryd.api import convert
from registryd.clock import SystemClock
from registryd.core.registry import Registry, RegistrySettings

CALLS, TRIALS = 2_000, 5


async def cost_per_call(agents: int) -> float:
    registry = Registry(
        RegistrySettings(heartbeat_timeout=3600, auto_deregister_timeout=7200), clock=SystemClock()
    )
    await registry.start()
    try:
        for i in range(agents):
            card = convert.card_from_proto(workload.card(i))
            await registry.register(workload.runtime_id(i), card, workload.agent_id(i))

        def call() -> bytes:
            found = registry.find(workload.QUERY, (), workload.FIND_LIMIT)
            response = pb.FindAgentsResponse(revision=registry.revision)
            convert.add_matches(response.matches, found)
            return response.SerializeToString()

        assert len(pb.FindAgentsResponse.FromString(call()).matches) == workload.FIND_LIMIT
        best = float("inf")
        for _ in range(TRIALS):
            started = time.process_time()
            for _ in range(CALLS):
                call()
            best = min(best, (time.process_time() - started) / CALLS)
        return best
    finally:
        await registry.stop()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--agents", type=int, default=10_000)
    args = parser.parse_args()
    logs.configure("console", "warning")
    cost = asyncio.run(cost_per_call(args.agents))
    print(
        f"FindAgents in process ({args.agents:,} agents, limit {workload.FIND_LIMIT}): {cost * 1e6:.1f} us per call"
    )


if __name__ == "__main__":
    main()
