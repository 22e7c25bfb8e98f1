"""Routing by load from the SDK, against a real daemon: workers report load on their heartbeat streams,
routers select and reserve, reservations are released with their outcome."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from agentregistry import AgentCard, NoAgentAvailableError, ReservationNotFoundError, SelectionStrategy
from sdk_support import eventually

CARD = AgentCard(name="coder", capabilities=("code generation",))


@pytest.mark.replicas_xfail("load reports and reservations are per replica (README, Cluster mode: Not yet)")
async def test_workers_report_load_and_routers_reserve_until_full(daemon: Any, make_registry: Any) -> None:
    worker = await make_registry(daemon.address)
    router = await make_registry(daemon.other.address, local_view=False)  # the other replica
    for agent_id in ("w1", "w2"):
        await worker.register_agent(CARD, runtime_id="rt", agent_id=agent_id)
    assert await worker.wait_heartbeats_connected(5)
    await worker.report_load("w1", in_flight=0, max_concurrency=1)
    await worker.report_load("w2", in_flight=0, max_concurrency=1, accepting=False)  # draining

    async def reported() -> bool:  # sent at once when bound, else with the beat that follows the bind
        answer = await router.client.select_agent("code generation", exclude_agent_ids=["w1"])
        return answer.agent is None

    await eventually(reported)
    async with router.reserve_agent("code generation") as agent:
        assert agent.agent_id == "w1"
        with pytest.raises(NoAgentAvailableError, match="at max concurrency"):
            async with router.reserve_agent("code generation"):
                pass
        assert await router.select_agent("code generation") is None
    # released on exit (OK): w1 is free again
    chosen = await router.select_agent("code generation", SelectionStrategy.LEAST_LOADED)
    assert chosen is not None and chosen.agent_id == "w1"


async def test_the_worker_load_stays_fresh_across_heartbeats(daemon: Any, make_registry: Any) -> None:
    worker = await make_registry(daemon.address)
    await worker.register_agent(CARD, runtime_id="rt", agent_id="w1")
    assert await worker.wait_heartbeats_connected(5)
    await worker.report_load("w1", in_flight=1, max_concurrency=1)
    client = worker.client
    await asyncio.sleep(1.0)  # over three heartbeat timeouts (0.3 s): the beats carried the report again
    selection = await client.select_agent("code generation")
    assert selection.agent is None and "1 at max concurrency" in selection.reason
    await worker.report_load("w1", in_flight=0, max_concurrency=1, utilization=0.25)

    async def free() -> bool:
        answer = await client.select_agent("code generation")
        return answer.load is not None and answer.load.known and answer.load.utilization == 0.25

    await eventually(free)


async def test_a_failed_task_is_released_as_an_error_and_lowers_the_agents_share(
    daemon: Any, make_registry: Any
) -> None:
    worker = await make_registry(daemon.address)
    router = await make_registry(daemon.address, local_view=False)
    await worker.register_agent(CARD, runtime_id="rt", agent_id="w1")
    for _ in range(3):
        with pytest.raises(RuntimeError):
            async with router.reserve_agent("code generation", ttl=30):
                raise RuntimeError("the agent failed the task")
    selection = await router.client.select_agent("code generation")
    assert selection.load is not None and selection.load.error_rate > 0.4
    assert selection.load.in_flight == 0  # every reservation was released
    held = await router.client.select_agent("code generation", reserve=True)
    assert held.reservation is not None
    await router.client.release_reservation(held.reservation.reservation_id)
    with pytest.raises(ReservationNotFoundError):
        await router.client.release_reservation(held.reservation.reservation_id)


async def test_affinity_keeps_a_key_on_its_agent(daemon: Any, make_registry: Any) -> None:
    worker = await make_registry(daemon.address)
    for i in range(5):
        await worker.register_agent(CARD, runtime_id="rt", agent_id=f"w{i}")
    picks = {
        (await worker.select_agent("code", SelectionStrategy.AFFINITY, affinity_key="session-7")).agent_id  # type: ignore[union-attr]
        for _ in range(10)
    }
    assert len(picks) == 1


async def test_a_router_waits_for_a_slot_and_a_long_task_keeps_its_reservation(
    daemon: Any, make_registry: Any
) -> None:
    worker = await make_registry(daemon.address)
    router = await make_registry(daemon.address, local_view=False)
    await worker.register_agent(CARD, runtime_id="rt", agent_id="w1")
    assert await worker.wait_heartbeats_connected(5)
    await worker.report_load("w1", in_flight=0, max_concurrency=1)

    async def reported() -> bool:
        answer = await router.client.select_agent("code generation")
        return answer.load is not None and answer.load.known

    await eventually(reported)
    finished = asyncio.Event()

    async def second_task() -> str:
        async with router.reserve_agent("code generation", wait=20) as agent:  # waits in the daemon's line
            assert finished.is_set()
            return agent.agent_id

    async with router.reserve_agent("code generation", ttl=1) as agent:
        waiting = asyncio.create_task(second_task())
        await asyncio.sleep(2.5)  # over twice the TTL: renewed while the block runs
        assert await router.select_agent("code generation") is None
        assert not waiting.done()
        finished.set()
    assert await asyncio.wait_for(waiting, 20) == agent.agent_id
