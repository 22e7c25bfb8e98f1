"""SelectAgent in the core, on a fake clock: every strategy, the status rule, capacity with reservations,
stale reports, expiry, outcomes, and the stability of affinity as agents join and leave.

Settings: heartbeat_timeout 60 s (STEADY), so a load report is stale after 60 s."""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import AsyncIterator

import pytest
from core_support import STEADY, FakeClock, card, running, with_seeded_placement

from registryd.core.errors import InvalidArgument, NotFound, ResourceExhausted
from registryd.core.load import MAX_TTL, MIN_TTL, AgentLoadReport, LoadReport, Outcome
from registryd.core.model import AgentStatus
from registryd.core.placement import Selection, SelectRequest, Strategy
from registryd.core.registry import Registry
from registryd.core.streams import HeartbeatSession, StreamEnd


@pytest.fixture
async def registry(clock: FakeClock) -> AsyncIterator[Registry]:
    async with with_seeded_placement(clock) as reg:
        yield reg


async def fleet(registry: Registry, n: int, capability: str = "code", runtime: str = "rt") -> list[str]:
    ids = [f"{runtime}-a{i:02d}" for i in range(n)]
    for agent_id in ids:
        await registry.register(runtime, card(capability), agent_id)
    return ids


async def report(registry: Registry, agent_id: str, runtime: str = "rt", **load: object) -> None:
    await registry.heartbeat(runtime, [agent_id], loads=[AgentLoadReport((agent_id,), LoadReport(**load))])  # type: ignore[arg-type]


def select(registry: Registry, strategy: Strategy = Strategy.P2C, **options: object) -> Selection:
    return registry.placement.select(SelectRequest("code", strategy, **options))  # type: ignore[arg-type]


def chosen_id(selection: Selection) -> str | None:
    return selection.chosen.agent.agent_id if selection.chosen else None


async def test_p2c_prefers_the_less_loaded_of_two(registry: Registry):
    a, b = await fleet(registry, 2)
    await report(registry, a, in_flight=3, max_concurrency=4)
    await report(registry, b, in_flight=0, max_concurrency=4)
    picks = Counter(chosen_id(select(registry)) for _ in range(50))
    assert picks == {b: 50}
    assert "power of two choices" in select(registry).reason


@pytest.mark.parametrize("strategy", [s for s in Strategy if s is not Strategy.AFFINITY])
async def test_capacity_is_never_exceeded_by_concurrent_reserving_selectors(registry: Registry, strategy):
    ids = await fleet(registry, 5)
    for agent_id in ids:
        await report(registry, agent_id, in_flight=1, max_concurrency=3)
    held: dict[str, list[str]] = {agent_id: [] for agent_id in ids}
    reported = 1
    rng = random.Random(1)
    refused = 0
    for step in range(400):  # routers reserving, tasks ending, workers reporting, interleaved
        selection = select(registry, strategy, reserve=True)
        if selection.chosen is None:
            refused += 1
            assert "at max concurrency" in selection.reason
        else:
            assert selection.reservation is not None
            held[chosen_id(selection)].append(selection.reservation.reservation_id)  # type: ignore[index]
        for reservations in held.values():
            assert (
                reported + len(reservations) <= 3
            )  # reported in flight + reserved since never exceeds the max
            if reservations and rng.random() < 0.2:
                registry.loads.release(reservations.pop(), Outcome.OK)
        if step % 50 == 49:  # the reports supersede the estimate: the reserved tasks are in them
            reported = rng.randrange(3)
            for agent_id in ids:
                await report(registry, agent_id, in_flight=reported, max_concurrency=3)
                held[agent_id] = []
    assert refused > 0
    assert registry.counters[f"selections:{strategy.name}:NONE_ELIGIBLE"] == refused


async def test_a_report_supersedes_the_reservations_made_before_it(registry: Registry):
    (a,) = await fleet(registry, 1)
    await report(registry, a, in_flight=0, max_concurrency=2)
    first = select(registry, reserve=True)
    select(registry, reserve=True)
    assert select(registry).chosen is None  # two reserved: full
    await report(registry, a, in_flight=1, max_concurrency=2)  # one reserved task arrived
    assert select(registry).chosen is None  # the other is still on its way: both stay counted
    registry.loads.release(first.reservation.reservation_id, None)  # type: ignore[union-attr]
    # releasing one made before the report: no double count
    assert registry.loads.load_of(a, 60).in_flight == 1
    await report(registry, a, in_flight=0, max_concurrency=2)  # both done; one router has not released yet
    assert registry.loads.load_of(a, 60).in_flight == 1  # the open reservation still counts until released
    assert registry.loads.open_reservations == 1


async def test_a_release_frees_its_slot_at_once_even_when_a_report_counted_its_task(
    clock: FakeClock, registry: Registry
):
    (a,) = await fleet(registry, 1)
    await report(registry, a, in_flight=0, max_concurrency=2)
    first = select(registry, reserve=True)
    second = select(registry, reserve=True)
    await report(registry, a, in_flight=2, max_concurrency=2)  # both tasks arrived
    registry.loads.release(first.reservation.reservation_id, Outcome.OK)  # type: ignore[union-attr]
    assert registry.loads.load_of(a, 60).in_flight == 1  # not 2 until the next report
    assert chosen_id(select(registry)) == a
    await report(registry, a, in_flight=2, max_concurrency=2)  # the same report again: still one free
    assert registry.loads.load_of(a, 60).in_flight == 1
    clock.advance(second.reservation.ttl)  # type: ignore[union-attr]
    # an expiry says nothing of the task (the router may have died with it running): the report stands
    assert registry.loads.load_of(a, 60).in_flight == 1


async def test_stale_report_counts_as_unknown(clock: FakeClock, registry: Registry):
    (a,) = await fleet(registry, 1)
    await report(registry, a, in_flight=4, max_concurrency=4)
    assert select(registry).chosen is None
    clock.advance(59)
    await registry.heartbeat("rt", [a])  # beats without a report keep the agent alive, not the report
    assert select(registry).chosen is None
    clock.advance(2)
    selection = select(registry)
    assert chosen_id(selection) == a
    assert not selection.chosen.load.known  # type: ignore[union-attr]
    assert "load unknown" in selection.reason


async def test_not_accepting_and_non_active_agents_are_never_selected(registry: Registry):
    a, b, c, d = await fleet(registry, 4)
    await report(registry, a, accepting=False)
    await registry.update_status(b, AgentStatus.UNHEALTHY)
    await registry.update_status(c, AgentStatus.OFFLINE)
    for strategy in Strategy:
        for _ in range(20):
            assert chosen_id(select(registry, strategy, affinity_key="k")) == d
    await report(registry, d, accepting=False)
    selection = select(registry)
    assert selection.chosen is None
    assert selection.matched == 2  # ACTIVE ones only
    assert "2 not accepting" in selection.reason


async def test_degraded_only_when_asked_and_no_active_fits(registry: Registry):
    a, b = await fleet(registry, 2)
    await registry.heartbeat("rt", [b], AgentStatus.DEGRADED)
    assert {chosen_id(select(registry, allow_degraded=True)) for _ in range(20)} == {a}
    await report(registry, a, in_flight=1, max_concurrency=1)
    assert select(registry).chosen is None
    fallback = select(registry, allow_degraded=True)
    assert chosen_id(fallback) == b
    assert "DEGRADED" in fallback.reason


async def test_round_robin_takes_turns_per_query(registry: Registry):
    ids = await fleet(registry, 3)
    assert [chosen_id(select(registry, Strategy.ROUND_ROBIN)) for _ in range(6)] == ids * 2


async def test_random_and_least_loaded(registry: Registry):
    ids = await fleet(registry, 4)
    assert {chosen_id(select(registry, Strategy.RANDOM)) for _ in range(200)} == set(ids)
    for i, agent_id in enumerate(ids):
        await report(registry, agent_id, in_flight=3 - i, max_concurrency=8)
    assert {chosen_id(select(registry, Strategy.LEAST_LOADED)) for _ in range(20)} == {ids[3]}
    # equal loads: ties are broken at random, so routers do not herd on one agent
    for agent_id in ids:
        await report(registry, agent_id, in_flight=1, max_concurrency=8)
    assert len({chosen_id(select(registry, Strategy.LEAST_LOADED)) for _ in range(100)}) == 4


async def test_exclusions(registry: Registry):
    a, b = await fleet(registry, 2)
    await fleet(registry, 1, runtime="other")
    for _ in range(20):
        assert (
            chosen_id(
                select(registry, exclude_agent_ids=frozenset({a}), exclude_runtime_ids=frozenset({"other"}))
            )
            == b
        )


def affinity_map(registry: Registry, keys: list[str]) -> dict[str, str | None]:
    return {key: chosen_id(select(registry, Strategy.AFFINITY, affinity_key=key)) for key in keys}


async def test_affinity_moves_only_the_share_of_an_agent_that_joins_or_leaves(registry: Registry):
    await fleet(registry, 10)
    keys = [f"session-{i}" for i in range(2000)]
    before = affinity_map(registry, keys)
    assert affinity_map(registry, keys) == before  # stable
    assert min(Counter(before.values()).values()) > 100  # spread over all ten
    (new,) = await fleet(registry, 1, runtime="late")
    after_join = affinity_map(registry, keys)
    moved = [k for k in keys if after_join[k] != before[k]]
    assert {after_join[k] for k in moved} == {new}  # every moved key went to the newcomer
    assert 100 < len(moved) < 300  # about 1/11 of the keys
    leaving = "rt-a03"
    await registry.deregister(leaving)
    after_leave = affinity_map(registry, keys)
    changed = [k for k in keys if after_leave[k] != after_join[k]]
    assert {after_join[k] for k in changed} == {leaving}  # only the leaver's keys moved


async def test_affinity_spills_over_when_the_preferred_agent_is_full(registry: Registry):
    await fleet(registry, 5)
    preferred = chosen_id(select(registry, Strategy.AFFINITY, affinity_key="user-42"))
    await report(registry, preferred, in_flight=2, max_concurrency=2)  # type: ignore[arg-type]
    spilled = select(registry, Strategy.AFFINITY, affinity_key="user-42")
    assert chosen_id(spilled) not in (None, preferred)
    assert "spilled over" in spilled.reason
    with pytest.raises(InvalidArgument, match="affinity_key"):
        select(registry, Strategy.AFFINITY)


async def test_reservations_expire_at_their_ttl_within_bounds(clock: FakeClock, registry: Registry):
    (a,) = await fleet(registry, 1)
    await report(registry, a, max_concurrency=1)
    short = select(registry, reserve=True, reservation_ttl=0.001)
    assert short.reservation.ttl == MIN_TTL  # type: ignore[union-attr]
    assert select(registry).chosen is None
    clock.advance(MIN_TTL)
    assert registry.counters["reservations_expired"] == 1
    assert registry.loads.open_reservations == 0
    assert select(registry).chosen is not None
    with pytest.raises(NotFound, match="not open"):
        registry.loads.release(short.reservation.reservation_id, Outcome.OK)  # type: ignore[union-attr]
    assert select(registry, reserve=True, reservation_ttl=10**9).reservation.ttl == MAX_TTL  # type: ignore[union-attr]
    for bad in (0.0, -1.0, float("nan"), float("inf")):
        with pytest.raises(InvalidArgument, match="reservation_ttl"):
            select(registry, reserve=True, reservation_ttl=bad)


async def test_open_reservations_are_bounded():
    async with running(STEADY, FakeClock(), limits=STEADY.limits.__class__(max_reservations=2)) as registry:
        await fleet(registry, 1)
        select(registry, reserve=True)
        select(registry, reserve=True)
        with pytest.raises(ResourceExhausted, match="max_reservations=2"):
            select(registry, reserve=True)


async def test_error_outcomes_lower_an_agents_share_and_fade(clock: FakeClock, registry: Registry):
    a, b = await fleet(registry, 2)
    for _ in range(10):
        selection = select(registry, exclude_agent_ids=frozenset({b}), reserve=True)
        registry.loads.release(selection.reservation.reservation_id, Outcome.ERROR)  # type: ignore[union-attr]
    assert registry.loads.load_of(a, 60).error_rate > 0.8
    await report(registry, a, in_flight=0, max_concurrency=4)
    await report(registry, b, in_flight=2, max_concurrency=4)
    assert {chosen_id(select(registry, Strategy.LEAST_LOADED)) for _ in range(10)} == {b}
    for _ in range(12):  # ten half-lives, beating all along
        clock.advance(50)
        await registry.heartbeat("rt")
    await report(registry, a, in_flight=0, max_concurrency=4)
    await report(registry, b, in_flight=2, max_concurrency=4)
    assert {chosen_id(select(registry, Strategy.LEAST_LOADED)) for _ in range(10)} == {a}


async def test_load_reports_are_checked_and_scoped_to_the_runtime(registry: Registry):
    (a,) = await fleet(registry, 1)
    (other,) = await fleet(registry, 1, runtime="rt2")
    for bad, field in (
        (LoadReport(in_flight=-1), "loads[0].in_flight"),
        (LoadReport(utilization=1.5), "loads[0].utilization"),
        (LoadReport(latency_ewma=float("nan")), "loads[0].latency_ewma"),
    ):
        with pytest.raises(InvalidArgument) as refused:
            await registry.heartbeat("rt", loads=[AgentLoadReport((a,), bad)])
        assert refused.value.field == field
    result, _ = await registry.heartbeat(
        "rt", [a], loads=[AgentLoadReport((other, "ghost"), LoadReport(in_flight=9, max_concurrency=9))]
    )
    assert result.refused_agent_ids == (other,)
    assert result.unknown_agent_ids == ("ghost",)
    assert not registry.loads.load_of(other, 60).known
    # a report naming no agent covers every agent the beat covers: here, the stream's bound agents
    session = HeartbeatSession(registry)
    await session.bind("rt", [a])
    await session.beat([], None, [AgentLoadReport((), LoadReport(in_flight=2, max_concurrency=5))])
    assert registry.loads.load_of(a, 60).in_flight == 2
    session.close(StreamEnd.DRAINED)


async def test_a_deregistered_agent_leaves_its_load_behind(registry: Registry):
    (a,) = await fleet(registry, 1)
    await report(registry, a, in_flight=1, max_concurrency=2)
    held = select(registry, reserve=True).reservation
    await registry.deregister(a)
    assert select(registry).chosen is None
    await fleet(registry, 1)  # the same id comes back: a fresh start, the old report is gone
    assert not registry.loads.load_of(a, 60).known
    registry.loads.release(held.reservation_id, Outcome.OK)  # type: ignore[union-attr]
    assert registry.loads.open_reservations == 0
