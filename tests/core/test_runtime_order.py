"""RuntimeOrder answers what sorting every runtime would, as runtimes grow, shrink, come and go."""

from __future__ import annotations

import random

import pytest

from registryd.core.runtime_order import RuntimeOrder


def naive_largest(sizes: dict[str, int], count: int) -> list[tuple[str, int]]:
    return sorted(sizes.items(), key=lambda item: (-item[1], item[0]))[:count]


@pytest.mark.parametrize("seed", range(5))
def test_order_matches_sorting_all_runtimes_after_random_changes(seed: int) -> None:
    rng = random.Random(seed)
    order = RuntimeOrder()
    sizes: dict[str, int] = {}
    for step in range(3_000):
        runtime_id = f"rt-{rng.randrange(300):03}"
        size = max(0, sizes.get(runtime_id, 0) + rng.choice((-1, 1, 1, 5)))
        if step == 1_500:  # a reload in the middle
            order.load(sizes)
        order.resize(runtime_id, size)
        if size:
            sizes[runtime_id] = size
        else:
            sizes.pop(runtime_id, None)
    assert list(order.after()) == sorted(sizes)
    middle = sorted(sizes)[len(sizes) // 2]
    assert list(order.after(middle)) == [r for r in sorted(sizes) if r > middle]
    for count in (1, 10, 100, 1_000):
        assert order.largest(count) == naive_largest(sizes, count)
    assert len(order) == len(sizes)


@pytest.mark.parametrize("runtimes", [10, 1_000, 20_000])
def test_largest_of_runtimes_all_the_same_size_are_the_first_ids(runtimes: int) -> None:
    order = RuntimeOrder()
    order.load({f"rt-{i:05}": 1 for i in range(runtimes)})
    last = f"rt-{runtimes - 1:05}"
    order.resize(last, 2)
    expected = [(last, 2)] + [(f"rt-{i:05}", 1) for i in range(runtimes - 1)]
    assert order.largest(100) == expected[:100]
