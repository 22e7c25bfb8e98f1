"""Registry replicas over the session's etcd (tests/conftest.py), in this process or as registryd
processes, each test under a prefix of its own."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path

import pytest

from registryd.clock import SystemClock
from registryd.core.registry import Registry, RegistrySettings
from registryd.store.etcd import EtcdOptions, EtcdStore
from scripts.etcd_server import EtcdCluster, EtcdServer, start_etcd_cluster


@pytest.fixture
def etcd3(tmp_path: Path) -> Iterator[EtcdCluster]:
    """A three-member etcd of this test's own."""
    members = start_etcd_cluster(tmp_path)
    yield members
    members.stop()


@pytest.fixture
def cluster(daemon_process: Callable[..., object], etcd: EtcdServer, prefix: str) -> Callable[..., object]:
    """`cluster(*args)`: a registryd process replicating over `prefix` (killed at teardown)."""

    def start(*args: str) -> object:
        return daemon_process(
            "--store", "etcd", "--etcd-endpoints", etcd.endpoint, "--etcd-prefix", prefix,
            "--etcd-timeout", "1", *args,
        )  # fmt: skip

    return start


@pytest.fixture
async def replicas(etcd: EtcdServer, prefix: str) -> AsyncIterator[Callable[..., object]]:
    """`await replicas(n)`: n started registries sharing `prefix`; all stopped at teardown."""
    started: list[Registry] = []

    async def start(count: int = 2, **settings: object) -> list[Registry]:
        made = [
            Registry(
                RegistrySettings(**settings),  # type: ignore[arg-type]
                EtcdStore(EtcdOptions((etcd.endpoint,), prefix)),
                clock=SystemClock(),
            )
            for _ in range(count)
        ]
        for registry in made:
            await registry.start()
            started.append(registry)
        return made

    yield start
    for registry in started:
        await registry.stop()
