"""Prometheus metrics of the HTTP layer (other services define their own next to them).

Metrics are process-wide objects, as prometheus-client intends; every app built in the
process shares them, in the process's own memory. Under several Granian workers each
worker publishes snapshots that ``/metrics`` sums (:mod:`quipu.observability.multiprocess`),
so every gauge says how the workers' values combine (``multiprocess_mode``).
"""

from __future__ import annotations

import os

from prometheus_client import Counter, Gauge, Histogram

__all__ = ["HTTP_IN_FLIGHT", "HTTP_LATENCY", "HTTP_REQUESTS", "PLUGINS_LOADED"]

#: Latency buckets tuned for a service whose cached answers take well under 10 ms.
FAST_BUCKETS = (
    0.0005,
    0.001,
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

HTTP_REQUESTS = Counter(
    "quipu_http_requests",
    "HTTP requests answered, by route template, method and status code.",
    ["route", "method", "status"],
)
HTTP_LATENCY = Histogram(
    "quipu_http_request_duration_seconds",
    "Time from the request's arrival to the end of its response, by route template.",
    ["route", "method"],
    buckets=FAST_BUCKETS,
)
HTTP_IN_FLIGHT = Gauge(
    "quipu_http_requests_in_flight",
    "Requests being handled now (summed over live workers).",
    multiprocess_mode="livesum",
)
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
