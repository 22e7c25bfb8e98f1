"""Losing etcd's quorum: writes are refused at once (never hang), nothing acknowledged is lost, and the
replicas recover by themselves once quorum returns."""

from __future__ import annotations

import asyncio
import signal
import time

import pytest

from registryd.clock import SystemClock
from registryd.core.commit import CommitFailed
from registryd.core.model import AgentCard
from registryd.core.registry import Registry, RegistrySettings
from registryd.store.etcd import EtcdOptions, EtcdStore
from scripts.etcd_server import EtcdCluster

CARD = AgentCard(name="worker", capabilities=("python",))
ETCD_TIMEOUT = 1.0


async def test_losing_quorum_refuses_writes_loses_nothing_and_recovers_by_itself(etcd3: EtcdCluster, prefix):
    options = EtcdOptions(etcd3.endpoints, prefix, timeout=ETCD_TIMEOUT)
    a, b = (Registry(RegistrySettings(), EtcdStore(options), clock=SystemClock()) for _ in range(2))
    await a.start()
    await b.start()
    try:
        acked = [f"a{i}" for i in range(5)]
        for agent_id in acked:
            await a.register("rt", CARD, agent_id)
        leader = etcd3.leader()
        cut_off = [next(member for member in etcd3.members if member is not leader), leader]
        for member in cut_off:  # two of three: no quorum
            member.proc.send_signal(signal.SIGSTOP)
        try:
            for replica in (a, b):
                started = time.monotonic()
                with pytest.raises(CommitFailed):
                    await replica.register("rt", CARD, "refused")
                assert time.monotonic() - started < ETCD_TIMEOUT + 2.0  # refused, never hung
            assert {x.agent_id for x in a.list_agents().agents} >= set(acked)
        finally:
            for member in cut_off:
                member.proc.send_signal(signal.SIGCONT)
        deadline = time.monotonic() + 30
        while True:  # no operator: the replicas write again once quorum is back
            try:
                await b.register("rt", CARD, "after")
                break
            except CommitFailed:
                assert time.monotonic() < deadline, "writes did not recover after quorum returned"
                await asyncio.sleep(0.2)
        await a.sync()
        for replica in (a, b):
            assert {x.agent_id for x in replica.list_agents().agents} >= {*acked, "after"}
    finally:
        await a.stop()
        await b.stop()
