"""What a run measures (sizes for `make bench` and `make bench-full`) and what it reports (rows)."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Sizes:
    mode: str
    agents: int  # agents loaded for the unary reads (scenario 1)
    window: float  # seconds each unary/stream measurement runs
    in_flight: tuple[int, ...] = (1, 16, 64)
    h2load_in_flight: tuple[int, ...] = (16, 64)
    echo_streams: int = 100  # scenario 2
    held_streams: int = 10_000  # scenario 3
    hold_seconds: float = 20.0  # scenario 3: RSS/CPU window while streams beat every 10 s
    attached_agents: int = 10_000  # scenario 4
    drops: int = 100  # scenario 4
    subscribers: int = 1000  # scenario 5
    fanout_events: int = 20  # scenario 5
    core_agents: tuple[int, ...] = (1_000, 10_000, 100_000)  # scenario 6
    restart_agents: int = 100_000  # scenario 7
    soak_seconds: float = 0.0  # scenario 8 (0 = skipped)
    soak_agents: int = 10_000
    soak_runtimes: int = 1000
    soak_preload: bool = False  # scenario 8: build the agents into the store instead of registering them
    soak_routers: bool = True  # scenario 8: routers join every 5 s (off: the streams' cost alone)
    storm_runtimes: int = 0  # scenario 9 (0 = skipped)
    routing_seconds: float = 30.0  # scenario 10: seconds of arrivals per strategy and load
    routing_repeats: int = 3  # scenario 10: runs of each strategy and load (medians are reported)
    peer_agents: tuple[int, ...] = (10_000, 100_000)  # scenario 11: agents at each discovery measurement
    peer_crashes: int = 50  # scenario 11: crashes timed per peer and kind


QUICK = Sizes(
    mode="quick",
    agents=10_000,
    window=1.0,
    h2load_in_flight=(64,),
    held_streams=2_000,
    hold_seconds=4.0,
    attached_agents=2_000,
    drops=30,
    fanout_events=5,
    restart_agents=10_000,
    routing_seconds=10.0,
    routing_repeats=1,
    peer_agents=(10_000,),
    peer_crashes=20,
)

FULL = Sizes(
    mode="full",
    agents=100_000,
    window=4.0,
    soak_seconds=600.0,
    storm_runtimes=1000,
)


@dataclass
class Row:
    """One line of the results table. `ratio` is registryd / no-op (or original / registryd for the
    core discovery comparison, where the goal is a speed-up); `met` is None where no goal applies."""

    scenario: int
    name: str
    metric: str
    registryd: float
    noop: float | None = None
    ratio: float | None = None
    goal: str = ""
    met: bool | None = None
    detail: dict[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        def clean(value: Any) -> Any:
            return None if isinstance(value, float) and math.isnan(value) else value

        return {k: clean(v) for k, v in self.__dict__.items()}
