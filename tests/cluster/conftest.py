"""A real one-member etcd per test module, and registry replicas over it (each test its own prefix)."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path

import pytest

from registryd.clock import SystemClock
from registryd.core.registry import Registry, RegistrySettings
from registryd.store.etcd import EtcdOptions, EtcdStore
from scripts.etcd_server import EtcdServer, start_etcd


@pytest.fixture(scope="module")
def etcd(tmp_path_factory: pytest.TempPathFactory) -> Iterator[EtcdServer]:
    server = start_etcd(Path(tmp_path_factory.mktemp("etcd")))
    yield server
    server.stop()


@pytest.fixture
def prefix() -> str:
    return f"/t-{uuid.uuid4().hex[:12]}"


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
