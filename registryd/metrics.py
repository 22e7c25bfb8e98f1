"""Prometheus metrics: the registry's state read at scrape time, RPC timings, and the /metrics endpoint.

prometheus-client serves scrapes from its own thread, while the registry lives on the event loop and is
not thread-safe; so a scrape asks the loop for one consistent snapshot instead of reading shared dicts
from another thread.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import itertools
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from threading import Thread
from wsgiref.simple_server import WSGIServer

from prometheus_client import (
    GC_COLLECTOR,
    PLATFORM_COLLECTOR,
    PROCESS_COLLECTOR,
    CollectorRegistry,
    start_http_server,
)
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, HistogramMetricFamily, Metric
from prometheus_client.registry import Collector

from registryd.api.metrics import RpcMetricsInterceptor
from registryd.core.load import Outcome
from registryd.core.model import AgentStatus, DeregisterReason, Stats
from registryd.core.placement import Strategy
from registryd.core.registry import Registry
from registryd.core.sweeper import LAG_BOUNDS

SCRAPE_TIMEOUT = 5.0  # seconds a scrape waits for the event loop


@dataclass(frozen=True)
class Snapshot:
    stats: Stats
    counters: Counter[str]
    dropped_subscribers: int
    dropped_events: int
    lag_counts: list[int]
    lag_sum: float
    stalls: tuple[int, float]
    open_reservations: int
    select_waiting: int


class RegistryCollector(Collector):
    """Gauges and counters read from the registry when Prometheus scrapes, so nothing is counted twice."""

    def __init__(self, registry: Registry, loop: asyncio.AbstractEventLoop) -> None:
        self._registry = registry
        self._loop = loop

    def snapshot(self) -> Snapshot:
        """Read on the event loop; called there directly, or from the scrape thread through the loop."""
        try:
            on_loop = asyncio.get_running_loop() is self._loop
        except RuntimeError:
            on_loop = False
        if on_loop:
            return self._read()
        future: concurrent.futures.Future[Snapshot] = concurrent.futures.Future()

        def read_into_future() -> None:
            try:
                future.set_result(self._read())
            except Exception as error:
                future.set_exception(error)

        self._loop.call_soon_threadsafe(read_into_future)
        return future.result(SCRAPE_TIMEOUT)

    def _read(self) -> Snapshot:
        hub = self._registry.hub
        return Snapshot(
            self._registry.stats(),
            Counter(self._registry.counters),
            hub.dropped_subscribers,
            hub.dropped_events,
            list(self._registry.loop_lag.counts),
            self._registry.loop_lag.total,
            self._registry.stalls,
            self._registry.loads.open_reservations,
            self._registry.placement.waiting,
        )

    def collect(self) -> Iterator[Metric]:
        snap = self.snapshot()
        stats, counters = snap.stats, snap.counters

        agents = GaugeMetricFamily("registryd_agents", "Registered agents by status.", labels=["status"])
        for status in AgentStatus:
            agents.add_metric([status.name], stats.status_distribution.get(status.name, 0))
        yield agents
        yield GaugeMetricFamily(
            "registryd_runtimes", "Runtimes with at least one agent.", stats.total_runtimes
        )
        yield GaugeMetricFamily(
            "registryd_heartbeat_streams", "Open heartbeat streams.", stats.heartbeat_streams
        )
        yield GaugeMetricFamily("registryd_subscribers", "Open Subscribe streams.", stats.subscribers)
        yield GaugeMetricFamily(
            "registryd_expiry_guard_active",
            "1 while the mass-expiry guard holds back deregistrations, else 0.",
            int(stats.expiry_guard_active),
        )
        yield GaugeMetricFamily(
            "registryd_leader",
            "1 while this replica leads (runs timeouts and expiry for agents no stream holds), else 0; "
            "a single daemon always leads.",
            int(stats.replica.leader),
        )
        yield GaugeMetricFamily("registryd_revision", "Current registry revision.", stats.revision)
        yield GaugeMetricFamily(
            "registryd_compacted_revision",
            "Events at or below this revision are no longer retained for resume.",
            stats.compacted_revision,
        )
        yield GaugeMetricFamily(
            "registryd_capability_index_texts",
            "Distinct indexed capability texts.",
            stats.capability_index_size,
        )

        yield CounterMetricFamily(
            "registryd_registrations", "New agents registered.", stats.total_registrations
        )
        deregistrations = CounterMetricFamily(
            "registryd_deregistrations", "Agents removed, by reason.", labels=["reason"]
        )
        for reason in DeregisterReason:
            deregistrations.add_metric([reason.name], counters[f"deregistrations:{reason.name}"])
        yield deregistrations
        changes = CounterMetricFamily(
            "registryd_status_changes",
            "Agent status changes, by reason and new status.",
            labels=["reason", "status"],
        )
        for key, count in sorted(counters.items()):
            name, _, labels = key.partition(":")
            if name == "status_changes":
                changes.add_metric(labels.split(":"), count)
        yield changes
        yield CounterMetricFamily(
            "registryd_heartbeats", "Agent heartbeats received.", counters["heartbeats"]
        )
        yield CounterMetricFamily("registryd_queries", "FindAgents calls served.", stats.total_queries)
        selections = CounterMetricFamily(
            "registryd_selections",
            "SelectAgent calls, by strategy and result.",
            labels=["strategy", "result"],
        )
        for strategy in Strategy:
            for result in ("CHOSEN", "NONE_ELIGIBLE"):
                selections.add_metric(
                    [strategy.name, result], counters[f"selections:{strategy.name}:{result}"]
                )
        yield selections
        yield GaugeMetricFamily(
            "registryd_reservations_open", "SelectAgent reservations open now.", snap.open_reservations
        )
        yield CounterMetricFamily(
            "registryd_reservations", "SelectAgent reservations made.", counters["reservations"]
        )
        yield GaugeMetricFamily(
            "registryd_select_waiting",
            "SelectAgent calls waiting now for an agent that fits.",
            snap.select_waiting,
        )
        yield CounterMetricFamily(
            "registryd_select_waits",
            "SelectAgent calls that waited for an agent that fits.",
            counters["select_waits"],
        )
        yield CounterMetricFamily(
            "registryd_select_wait_timeouts",
            "SelectAgent calls whose wait ended with no agent that fits.",
            counters["select_wait_timeouts"],
        )
        yield CounterMetricFamily(
            "registryd_reservation_renewals",
            "Reservations renewed with a new TTL.",
            counters["reservation_renewals"],
        )
        yield CounterMetricFamily(
            "registryd_reservations_expired",
            "Reservations that reached their TTL without being released.",
            counters["reservations_expired"],
        )
        outcomes = CounterMetricFamily(
            "registryd_reservation_outcomes",
            "Reservations released, by the outcome given.",
            labels=["outcome"],
        )
        for outcome in Outcome:
            outcomes.add_metric([outcome.name], counters[f"reservation_outcomes:{outcome.name}"])
        yield outcomes
        yield CounterMetricFamily(
            "registryd_subscriber_overflows",
            "Subscribers cut off because they fell event_queue_size events behind.",
            snap.dropped_subscribers,
        )
        yield CounterMetricFamily(
            "registryd_overflow_dropped_events",
            "Events not sent to subscribers that were cut off (they get them again when they resume).",
            snap.dropped_events,
        )
        cumulative = list(itertools.accumulate(snap.lag_counts))
        buckets = [(repr(bound), count) for bound, count in zip(LAG_BOUNDS, cumulative, strict=False)]
        yield HistogramMetricFamily(
            "registryd_event_loop_lag_seconds",
            "How late the event loop ran a timer due every 100 ms (sampled each time).",
            buckets=[*buckets, ("+Inf", cumulative[-1])],
            sum_value=snap.lag_sum,
        )
        yield CounterMetricFamily(
            "registryd_stalls", "Stalls of the daemon itself (a tick over 250 ms late).", snap.stalls[0]
        )
        yield CounterMetricFamily(
            "registryd_stalled_seconds",
            "Seconds of stalls granted to every agent's liveness deadlines.",
            snap.stalls[1],
        )


@dataclass
class MetricsServer:
    """The /metrics endpoint, with its own collector registry (several daemons may share a process)."""

    registry: CollectorRegistry
    interceptor: RpcMetricsInterceptor
    _http: WSGIServer | None = None
    _thread: Thread | None = None

    @classmethod
    def create(cls) -> MetricsServer:
        registry = CollectorRegistry()
        for collector in (PROCESS_COLLECTOR, PLATFORM_COLLECTOR, GC_COLLECTOR):
            registry.register(collector)
        return cls(registry, RpcMetricsInterceptor(registry))

    def watch(self, core: Registry) -> None:
        """Report `core`'s state (call once, on its event loop)."""
        self.registry.register(RegistryCollector(core, asyncio.get_running_loop()))

    def start(self, listen: str) -> str:
        """Serve on host:port (port 0 picks one) and return the bound address. Raises OSError."""
        host, _, port = listen.rpartition(":")
        self._http, self._thread = start_http_server(int(port), host.strip("[]"), self.registry)
        return f"{host}:{self._http.server_address[1]}"

    def stop(self) -> None:
        if self._http is not None:
            self._http.shutdown()
            self._http.server_close()
            self._http = None
        if self._thread is not None:
            self._thread.join(SCRAPE_TIMEOUT)
            self._thread = None
