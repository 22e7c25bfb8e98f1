"""SelectAgent with a wait, on a fake clock: a router that finds every agent full waits in a first-come
line that is served the moment room appears (a release, an expiry, a load report, an agent joining),
never beyond its time, within bounds in total and per caller; and reservations renewed for long tasks."""

from __future__ import annotations

import asyncio
import random
from collections.abc import AsyncIterator

import pytest
from core_support import STEADY, FakeClock, card, running, with_seeded_placement

from registryd.core.errors import InvalidArgument, NotFound, ResourceExhausted
from registryd.core.load import AgentLoadReport, LoadReport, Outcome
from registryd.core.placement import MAX_WAIT, Selection, SelectRequest
from registryd.core.registry import Registry


@pytest.fixture
async def registry(clock: FakeClock) -> AsyncIterator[Registry]:
    async with with_seeded_placement(clock) as reg:
        yield reg


async def full_agent(
    registry: Registry, agent_id: str = "a1", capacity: int = 1, ttl: float = 50
) -> Selection:
    """An agent of `capacity`, made full by reservations of `ttl`; returns the last one."""
    await registry.register("rt", card("code"), agent_id)
    await report(registry, agent_id, in_flight=0, max_concurrency=capacity)
    for _ in range(capacity):
        held = registry.placement.select(SelectRequest("code", reserve=True, reservation_ttl=ttl))
    assert registry.placement.select(SelectRequest("code")).chosen is None
    return held


async def report(registry: Registry, agent_id: str, **load: object) -> None:
    await registry.heartbeat("rt", [agent_id], loads=[AgentLoadReport((agent_id,), LoadReport(**load))])  # type: ignore[arg-type]


def waiting(registry: Registry, caller: str = "router", wait: float = 10.0) -> asyncio.Task[Selection]:
    request = SelectRequest("code", reserve=True, wait=wait)
    return asyncio.ensure_future(registry.placement.select_waiting(request, caller))


async def settle() -> None:
    for _ in range(3):
        await asyncio.sleep(0)


def released(registry: Registry, selection: Selection) -> None:
    registry.loads.release(selection.reservation.reservation_id, Outcome.OK)  # type: ignore[union-attr]


async def test_waiters_are_served_in_arrival_order_as_reservations_end(registry: Registry):
    held = await full_agent(registry)
    first, second = waiting(registry), waiting(registry)
    await settle()
    assert registry.placement.waiting == 2 and not first.done()
    released(registry, held)
    await settle()
    assert first.done() and not second.done()  # the one freed slot went to the first in line, reserved
    served = first.result()
    assert served.chosen is not None and served.reservation is not None
    released(registry, served)
    await settle()
    assert second.result().reservation is not None
    assert registry.placement.waiting == 0
    assert registry.loads.open_reservations == 1  # never more than the agent's capacity


async def test_an_expired_reservation_serves_a_waiter(clock: FakeClock, registry: Registry):
    await full_agent(registry, ttl=10)
    task = waiting(registry, wait=MAX_WAIT)
    await settle()
    clock.advance(10)
    await settle()
    assert task.result().chosen is not None


async def test_a_load_report_or_a_joining_agent_serves_a_waiter(registry: Registry):
    await registry.register("rt", card("code"), "a1")
    await report(registry, "a1", in_flight=1, max_concurrency=1)
    by_report, by_join = waiting(registry), waiting(registry)
    await settle()
    await report(registry, "a1", in_flight=0, max_concurrency=1)  # its task ended
    await settle()
    assert by_report.result().chosen.agent.agent_id == "a1"  # type: ignore[union-attr]
    assert not by_join.done()
    await registry.register("rt", card("code generation"), "a2")  # a new agent that matches
    await settle()
    assert by_join.result().chosen.agent.agent_id == "a2"  # type: ignore[union-attr]


async def test_room_on_an_agent_the_query_does_not_match_serves_nobody(registry: Registry):
    await full_agent(registry)
    await registry.register("rt", card("translation"), "t1")
    task = waiting(registry)
    await settle()
    assert not task.done()
    await report(registry, "t1", in_flight=0, max_concurrency=4)
    await settle()
    assert not task.done()
    task.cancel()


async def test_a_wait_ends_at_its_time_with_the_reason_and_is_cut_to_the_maximum(
    clock: FakeClock, registry: Registry
):
    await full_agent(registry, capacity=2)
    refused_before = registry.counters["selections:P2C:NONE_ELIGIBLE"]
    task = waiting(registry, wait=10**6)
    await settle()
    clock.advance(MAX_WAIT - 0.5)  # the reservations' 50 s TTL is far away
    await settle()
    assert not task.done()
    clock.advance(0.5)
    await settle()
    answer = task.result()
    assert answer.chosen is None and "at max concurrency" in answer.reason
    assert registry.counters["select_wait_timeouts"] == 1
    assert registry.counters["selections:P2C:NONE_ELIGIBLE"] == refused_before + 1  # one call, counted once
    assert registry.placement.waiting == 0
    for bad in (-1.0, float("nan"), float("inf")):
        with pytest.raises(InvalidArgument, match="wait_timeout"):
            await registry.placement.select_waiting(SelectRequest("code", wait=bad), "router")


async def test_a_caller_that_goes_away_leaves_the_line_and_its_reservation_is_undone(registry: Registry):
    held = await full_agent(registry)
    gone, stays = waiting(registry), waiting(registry)
    await settle()
    gone.cancel()
    await settle()
    assert registry.placement.waiting == 1
    released(registry, held)
    await settle()
    assert stays.result().chosen is not None
    # served and cancelled in the same turn: the reservation made for it does not stay open
    late = waiting(registry)
    await settle()
    released(registry, stays.result())
    late.cancel()
    await settle()
    assert late.cancelled()
    assert registry.loads.open_reservations == 0


async def test_waiters_are_bounded_in_total_and_per_caller(clock: FakeClock):
    limits = STEADY.limits.__class__(max_select_waiters=3, max_select_waiters_per_caller=2)
    async with running(STEADY, clock, limits=limits) as registry:
        await full_agent(registry)
        tasks = [waiting(registry, "a"), waiting(registry, "a")]
        await settle()
        with pytest.raises(ResourceExhausted, match="max_select_waiters_per_caller=2"):
            await waiting(registry, "a")
        tasks.append(waiting(registry, "b"))
        await settle()
        with pytest.raises(ResourceExhausted, match="max_select_waiters=3"):
            await waiting(registry, "c")
        assert registry.placement.select(SelectRequest("code")).chosen is None  # a call without a wait
        for task in tasks:
            task.cancel()
        await settle()
        assert registry.placement.waiting == 0


async def test_capacity_holds_with_waiters_and_plain_selectors_interleaved(registry: Registry):
    ids = []
    for i in range(4):
        ids.append(f"a{i}")
        await registry.register("rt", card("code"), f"a{i}")
        await report(registry, f"a{i}", in_flight=0, max_concurrency=2)
    rng = random.Random(3)
    held: list[Selection] = []
    tasks = [waiting(registry, wait=MAX_WAIT) for _ in range(20)]
    for _ in range(200):
        await settle()
        for task in [t for t in tasks if t.done()]:
            tasks.remove(task)
            if task.result().chosen is not None:
                held.append(task.result())
        plain = registry.placement.select(SelectRequest("code", reserve=True))
        if plain.chosen is not None:
            held.append(plain)
        per_agent = {a: registry.loads.load_of(a, 60).in_flight for a in ids}
        assert max(per_agent.values()) <= 2
        if held and rng.random() < 0.7:
            released(registry, held.pop(rng.randrange(len(held))))
        if len(tasks) < 20:
            tasks.append(waiting(registry, wait=MAX_WAIT))
    for task in tasks:
        task.cancel()


async def test_a_renewed_reservation_lasts_its_new_ttl_within_bounds(clock: FakeClock, registry: Registry):
    held = await full_agent(registry, ttl=10)
    reservation_id = held.reservation.reservation_id  # type: ignore[union-attr]
    clock.advance(9)
    renewed = registry.loads.renew(reservation_id, 30.0)
    assert renewed.ttl == 30.0 and renewed.expires_at == clock.monotonic() + 30.0
    clock.advance(29)  # 38 s after it was made: past its first TTL, within the new one
    assert registry.loads.open_reservations == 1
    clock.advance(1)
    assert registry.loads.open_reservations == 0
    assert registry.counters["reservations_expired"] == 1
    with pytest.raises(NotFound, match="not open"):
        registry.loads.renew(reservation_id, 30.0)
