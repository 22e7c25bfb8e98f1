"""Encoded sizes of the largest answers (issue 11 item 7): ListAgents and FindAgents pages of maximal-overhead
cards (64 skills x 32 empty tags), ListRuntimes at 34k runtimes, GetStats. In process: core plus the api
layer's real protobuf encoding. `python -m bench.response_sizes`"""

from __future__ import annotations

import asyncio

from registryd import logs
from registryd.api import convert
from registryd.clock import SystemClock
from registryd.core.model import AgentCard, Skill
from registryd.core.registry import Registry, RegistrySettings

DEFAULT_CLIENT_LIMIT = 4 * 1024 * 1024


async def main() -> None:
    logs.configure("console", "warning")
    settings = RegistrySettings(heartbeat_timeout=600, auto_deregister_timeout=1200)
    registry = Registry(settings, clock=SystemClock())
    await registry.start()
    skills = tuple(Skill(id=f"s{i}", tags=("",) * 32) for i in range(64))
    card = AgentCard(name="wide", capabilities=("wide",), skills=skills)
    for i in range(1000):
        await registry.register(f"rt-wide-{i:05d}", card, f"wide-{i:05d}")
    page = registry.list_agents(limit=1000)
    listed = convert.pb.ListAgentsResponse(agents=[convert.agent_to_proto(a) for a in page.agents])
    found = convert.pb.FindAgentsResponse()
    convert.add_matches(found.matches, registry.find("wide", limit=1000))
    for i in range(33_000):  # ids of the maximal 128 characters
        await registry.register(f"{i:06d}".ljust(128, "r"), AgentCard(name="n"), f"{i:06d}".ljust(128, "a"))
    runtimes = runtime_answer(registry)
    stats = convert.stats_to_proto(registry.stats())
    for name, message in (
        ("ListAgents(page_size=1000), 64 skills x 32 empty tags", listed),
        ("FindAgents(limit=1000), same cards", found),
        ("ListRuntimes, 34k runtimes", runtimes),
        ("GetStats, 34k runtimes", stats),
    ):
        size = message.ByteSize()
        verdict = "fits" if size <= DEFAULT_CLIENT_LIMIT else "TOO BIG for a default client"
        print(f"{name}: {size:,} bytes, {entries(message)} entries ({verdict})")
    await registry.stop()


def runtime_answer(registry: Registry) -> convert.pb.ListRuntimesResponse:
    """The largest page: page_size at its maximum (1000)."""
    return convert.runtime_page_to_proto(registry.runtimes(limit=1000), registry.revision)


def entries(message: convert.Message) -> int:
    """Entries of the answer's list (or map)."""
    return max((len(value) for field, value in message.ListFields() if not isinstance(value, int)), default=0)


if __name__ == "__main__":
    asyncio.run(main())
