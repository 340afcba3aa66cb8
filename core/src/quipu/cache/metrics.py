"""Prometheus metrics of the cache, and the sliding window behind the hit-ratio gauge.

Counters and histograms are updated on the request path through pre-bound children (no
``labels()`` lookup per request). Gauges that describe state (hit ratio, L1 size, breaker)
are computed when ``/metrics`` is scraped, by a collector that reads every live
:class:`~quipu.cache.Cache` of the process.

| Metric | Labels | What |
| --- | --- | --- |
| ``quipu_cache_requests_total`` | plugin, policy, tier, result | one per lookup, by outcome |
| ``quipu_cache_hit_ratio`` | plugin, policy | hits / lookups over the sliding window |
| ``quipu_cache_window_requests`` | plugin, policy | lookups in that window |
| ``quipu_cache_operation_duration_seconds`` | tier, operation | L1 and Redis calls |
| ``quipu_cache_compute_duration_seconds`` | plugin, policy | computing a missing value |
| ``quipu_cache_collapsed_total`` | plugin, policy | misses that waited on another's compute |
| ``quipu_cache_l1_entries`` / ``quipu_cache_l1_bytes`` | | L1 size now |
| ``quipu_cache_l1_evictions_total`` | reason | capacity, expired, invalidated |
| ``quipu_cache_redis_errors_total`` | operation, error | failed Redis calls |
| ``quipu_cache_redis_breaker_open`` | | 1 while the breaker skips Redis |
"""

from __future__ import annotations

import weakref
from collections.abc import Iterator, Sized
from typing import Any, Protocol

from prometheus_client import REGISTRY, Counter, Histogram
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

from quipu.observability.metrics import FAST_BUCKETS

__all__ = [
    "CACHE_COLLAPSED",
    "CACHE_COMPUTE",
    "CACHE_OPERATION",
    "CACHE_REQUESTS",
    "L1_EVICTIONS",
    "REDIS_ERRORS",
    "HitWindow",
    "Reporting",
    "track",
    "untrack",
]

#: Operation buckets from 10 µs: L1 reads take about a microsecond, Redis ones ~100 µs.
OPERATION_BUCKETS = (
    0.00001,
    0.000025,
    0.00005,
    0.0001,
    0.00025,
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
)

CACHE_REQUESTS = Counter(
    "quipu_cache_requests",
    "Cache lookups by outcome. tier=l1,result=hit: served from memory; tier=redis,"
    "result=hit: from Redis; result=miss: computed (tier=redis after a Redis miss, tier=l1 "
    "when no Redis is configured); result=error: computed because Redis failed or its "
    "breaker is open; tier=none,result=bypass: the request's Cache-Control skipped reads.",
    ["plugin", "policy", "tier", "result"],
)
CACHE_OPERATION = Histogram(
    "quipu_cache_operation_duration_seconds",
    "Latency of cache tier operations (l1 get; redis get, set, ping, invalidate).",
    ["tier", "operation"],
    buckets=OPERATION_BUCKETS,
)
CACHE_COMPUTE = Histogram(
    "quipu_cache_compute_duration_seconds",
    "Time to compute a value the cache did not hold.",
    ["plugin", "policy"],
    buckets=FAST_BUCKETS,
)
CACHE_COLLAPSED = Counter(
    "quipu_cache_collapsed",
    "Misses that waited for an identical computation already in flight (single-flight).",
    ["plugin", "policy"],
)
L1_EVICTIONS = Counter(
    "quipu_cache_l1_evictions",
    "Entries dropped from the in-process tier: capacity (LRU), expired, invalidated.",
    ["reason"],
)
REDIS_ERRORS = Counter(
    "quipu_cache_redis_errors",
    "Redis calls of the cache that failed, by operation and error class.",
    ["operation", "error"],
)


class HitWindow:
    """Hits and lookups over the last ``window_s`` seconds, in ``buckets`` time slices.

    Recording is O(1) and allocation-free: a slot is reset when the clock reaches it again.
    """

    __slots__ = ("_hits", "_index", "_inv", "_n", "_total")

    def __init__(self, window_s: float = 300.0, buckets: int = 30) -> None:
        self._n = buckets
        self._inv = buckets / window_s
        self._index = [-1] * buckets
        self._hits = [0] * buckets
        self._total = [0] * buckets

    def record(self, now: float, hit: bool) -> None:
        """Count one lookup at monotonic time ``now``."""
        index = int(now * self._inv)
        slot = index % self._n
        if self._index[slot] != index:
            self._index[slot] = index
            self._hits[slot] = 0
            self._total[slot] = 0
        self._total[slot] += 1
        if hit:
            self._hits[slot] += 1

    def counts(self, now: float) -> tuple[int, int]:
        """``(hits, lookups)`` within the window ending at ``now``."""
        current = int(now * self._inv)
        hits = total = 0
        for slot in range(self._n):
            if 0 <= current - self._index[slot] < self._n:
                hits += self._hits[slot]
                total += self._total[slot]
        return hits, total


class _Tier(Sized, Protocol):
    bytes: int


class Reporting(Protocol):
    """What the collector reads of a cache (:class:`quipu.cache.Cache` is one): declared
    here so that metrics, imported by the tiers, never imports the cache itself."""

    @property
    def l1(self) -> _Tier: ...

    @property
    def breaker_open(self) -> bool: ...

    def window_counts(self) -> dict[tuple[str, str], tuple[int, int]]: ...


_caches: weakref.WeakSet[Reporting] = weakref.WeakSet()


def track(cache: Reporting) -> None:
    """Report ``cache``'s gauges at every scrape (until :func:`untrack`)."""
    _caches.add(cache)


def untrack(cache: Reporting) -> None:
    """Stop reporting ``cache``."""
    _caches.discard(cache)


class _CacheCollector(Collector):
    """Gauges computed at scrape time, summed over the live caches of the process."""

    def collect(self) -> Iterator[Any]:
        ratio = GaugeMetricFamily(
            "quipu_cache_hit_ratio",
            "Share of cache lookups answered from L1 or Redis over the sliding window "
            "([cache] hit_ratio_window_s; bypassed requests excluded). NaN before any lookup.",
            labels=["plugin", "policy"],
        )
        lookups = GaugeMetricFamily(
            "quipu_cache_window_requests",
            "Cache lookups in the hit-ratio window.",
            labels=["plugin", "policy"],
        )
        sums: dict[tuple[str, str], list[int]] = {}
        entries = size = breaker_open = 0
        for cache in list(_caches):
            for labels, (hits, total) in cache.window_counts().items():
                acc = sums.setdefault(labels, [0, 0])
                acc[0] += hits
                acc[1] += total
            entries += len(cache.l1)
            size += cache.l1.bytes
            breaker_open = max(breaker_open, int(cache.breaker_open))
        for (plugin, policy), (hits, total) in sorted(sums.items()):
            ratio.add_metric([plugin, policy], hits / total if total else float("nan"))
            lookups.add_metric([plugin, policy], total)
        yield ratio
        yield lookups
        yield GaugeMetricFamily(
            "quipu_cache_l1_entries", "Entries in the in-process cache tier.", value=entries
        )
        yield GaugeMetricFamily(
            "quipu_cache_l1_bytes", "Bytes held by the in-process cache tier.", value=size
        )
        yield GaugeMetricFamily(
            "quipu_cache_redis_breaker_open",
            "1 while the cache's Redis circuit breaker is open (Redis skipped, L1 only).",
            value=breaker_open,
        )

    def describe(self) -> Iterator[Any]:
        return iter(())


REGISTRY.register(_CacheCollector())
