"""The daemon's collector hook: what a full collection leaves behind in large numbers is frozen."""

from __future__ import annotations

import asyncio
import gc
from collections.abc import Iterator

import pytest

from registryd import collector


async def full_collection_within_two_turns() -> bool:
    full = gc.get_stats()[2]["collections"]
    await asyncio.sleep(0)
    await asyncio.sleep(0)
    return gc.get_stats()[2]["collections"] > full


@pytest.fixture
def installed() -> Iterator[None]:
    gc.unfreeze()
    collector.install()
    try:
        yield
    finally:
        collector.uninstall()
        gc.unfreeze()


def test_a_full_collection_that_leaves_many_objects_freezes_them(installed: None) -> None:
    records = [{"agent": i} for i in range(2 * collector.FREEZE_AFTER)]
    gc.collect()
    assert gc.get_freeze_count() >= len(records)


def test_a_full_collection_that_leaves_few_objects_freezes_nothing(
    installed: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(collector, "FREEZE_AFTER", 10**9)
    gc.collect()
    assert gc.get_freeze_count() == 0


def test_install_is_idempotent_and_uninstall_removes_the_hook() -> None:
    collector.install()
    collector.install()
    assert gc.callbacks.count(collector._after_collection) == 1
    collector.uninstall()
    assert collector._after_collection not in gc.callbacks


async def test_a_freeze_is_followed_by_a_full_collection_on_the_next_turn(installed: None) -> None:
    """It resets the collector's count of old objects, which still includes the frozen ones."""
    records = [{"agent": i} for i in range(2 * collector.FREEZE_AFTER)]
    gc.collect()
    assert gc.get_freeze_count() >= len(records)
    assert await full_collection_within_two_turns()


def test_installed_a_full_collection_follows_every_third_middle_one_and_uninstall_restores_the_default() -> (
    None
):
    before = gc.get_threshold()
    collector.install()
    try:
        assert gc.get_threshold() == (before[0], before[1], collector.FULL_AFTER)
    finally:
        collector.uninstall()
    assert gc.get_threshold() == before


async def test_an_explicit_freeze_is_followed_by_a_full_collection_too() -> None:
    """The daemon freezes what it loaded: the load's objects must not delay the next full collection."""
    gc.unfreeze()
    try:
        collector.freeze()
        assert gc.get_freeze_count() > 0
        assert await full_collection_within_two_turns()
    finally:
        gc.unfreeze()


async def test_loading_collects_nothing_and_freezes_what_it_loaded_after() -> None:
    gc.unfreeze()
    try:
        with collector.loading():
            assert not gc.isenabled()
            loaded = [{"agent": i} for i in range(1000)]
        assert gc.isenabled() and gc.get_freeze_count() >= len(loaded)
        assert await full_collection_within_two_turns()
    finally:
        gc.unfreeze()
