"""Prometheus metrics of the HTTP layer (other services define their own next to them).

Metrics are process-wide objects, as prometheus-client intends; every app built in the
process shares them, in the process's own memory. Under several Granian workers each
worker publishes snapshots that ``/metrics`` sums (:mod:`quipu.observability.multiprocess`),
so every gauge says how the workers' values combine (``multiprocess_mode``).
"""

from __future__ import annotations

import math
import os
from bisect import bisect_left
from collections.abc import Iterator
from typing import Any

from prometheus_client import REGISTRY, Gauge
from prometheus_client.core import (
    CounterMetricFamily,
    GaugeMetricFamily,
    HistogramMetricFamily,
    Metric,
)
from prometheus_client.registry import Collector
from prometheus_client.utils import floatToGoString

__all__ = ["FAST_BUCKETS", "HTTP_STATS", "PLUGINS_LOADED", "HttpStats"]

#: Latency buckets tuned for a service whose cached answers take well under 10 ms.
FAST_BUCKETS = (
    0.0005,
    0.001,
    0.002,  # the cached-validation target (p99 < 2 ms) falls on a bucket edge
    0.0025,
    0.005,
    0.01,
    0.025,
    0.05,
    0.1,
    0.25,
    0.5,
    1.0,
    2.5,
    5.0,
    10.0,
    30.0,
)


class HttpStats(Collector):
    """HTTP request counts and latencies, kept as plain numbers in this process.

    Every request adds to three numbers of its series (count, sum, one bucket): no lock,
    no label lookup, no prometheus-client call on the request path (all requests of a
    worker run on its one event-loop thread). The numbers are published at scrape time
    as the usual families: ``quipu_http_requests_total{route,method,status}``,
    ``quipu_http_request_duration_seconds{route,method}`` (a histogram over
    :data:`FAST_BUCKETS`) and ``quipu_http_requests_in_flight``.
    """

    def __init__(self, buckets: tuple[float, ...] = FAST_BUCKETS) -> None:
        #: How several workers' values combine (see quipu.observability.multiprocess).
        self.multiprocess_merge = {"quipu_http_requests_in_flight": "sum"}
        self.bounds = buckets
        self.in_flight = 0
        #: (route, method, status) -> [count, seconds, per-bucket counts (+Inf last)]
        self.series: dict[tuple[str, str, int], list[Any]] = {}

    def series_for(self, route: str, method: str, status: int) -> list[Any]:
        """The mutable series of one route, method and status (created on first use)."""
        found = self.series.get((route, method, status))
        if found is None:
            found = self.series[route, method, status] = [0, 0.0, [0] * (len(self.bounds) + 1)]
        return found

    def record(self, series: list[Any], seconds: float) -> None:
        """Count one request of ``series`` that took ``seconds``."""
        series[0] += 1
        series[1] += seconds
        series[2][bisect_left(self.bounds, seconds)] += 1

    def collect(self) -> Iterator[Metric]:
        requests = CounterMetricFamily(
            "quipu_http_requests",
            "HTTP requests answered, by route template, method and status code.",
            labels=["route", "method", "status"],
        )
        latency = HistogramMetricFamily(
            "quipu_http_request_duration_seconds",
            "Time from the request's arrival to the end of its response, by route template.",
            labels=["route", "method"],
        )
        by_route: dict[tuple[str, str], tuple[list[int], float]] = {}
        for (route, method, status), (count, seconds, buckets) in list(self.series.items()):
            requests.add_metric([route, method, str(status)], count)
            known = by_route.get((route, method))
            if known is None:
                by_route[route, method] = (list(buckets), seconds)
            else:
                merged = [a + b for a, b in zip(known[0], buckets, strict=True)]
                by_route[route, method] = (merged, known[1] + seconds)
        for (route, method), (buckets, seconds) in by_route.items():
            cumulative, running = [], 0
            for bound, count in zip((*self.bounds, math.inf), buckets, strict=True):
                running += count
                cumulative.append((floatToGoString(bound), running))  # type: ignore[no-untyped-call]
            latency.add_metric([route, method], cumulative, seconds)
        yield requests
        yield latency
        yield GaugeMetricFamily(
            "quipu_http_requests_in_flight",
            "Requests being handled now (summed over live workers).",
            value=self.in_flight,
        )


#: This process's HTTP statistics (the platform layer records into it).
HTTP_STATS = HttpStats()
REGISTRY.register(HTTP_STATS)
PLUGINS_LOADED = Gauge(
    "quipu_plugins_loaded",
    "Plugins loaded at start-up, by name and version.",
    ["plugin", "version"],
    multiprocess_mode="livemax",
)

if os.environ.get("QUIPU_METRICS_DIR"):
    # A Granian worker of a multi-worker server: publish scrape-time collectors too.
    from quipu.observability.multiprocess import start_snapshots

    start_snapshots()
