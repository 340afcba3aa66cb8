"""Prometheus metrics summed over Granian workers (prometheus-client multiprocess mode).

Each Granian worker is a process with its own metric values, and a scrape of ``/metrics``
reaches one of them. So when ``quipu serve`` runs several workers, :func:`prepare` (called
before Granian starts) points ``PROMETHEUS_MULTIPROC_DIR`` at a fresh directory and makes
Granian start its workers as fresh interpreters, so prometheus-client keeps every counter,
histogram and gauge in a memory-mapped file per process there. ``/metrics``
(:func:`exposition`) then reads all of them with ``MultiProcessCollector``: counters and
histograms are summed over workers, and each gauge is combined as its ``multiprocess_mode``
says (``livesum`` for requests in flight, ``max`` for breaker states...).

Collectors that compute their values at scrape time from a process's own objects (the
cache's hit ratio, L1 size and Redis breaker) have no file. Each worker therefore writes
what they report to ``quipu_collectors_<pid>.json`` in the same directory, every
:data:`SNAPSHOT_INTERVAL_S` seconds, and ``/metrics`` merges the snapshots of the live
workers with the answering worker's own fresh values: summed by default, or as
:data:`MERGE_MODES` (or a collector's ``multiprocess_merge`` attribute) says: ``max``,
``min``, or ``weighted:<weight metric>`` for ratios (the cache hit ratio is averaged with
each worker's lookup count as weight).

The directory is removed when ``quipu serve`` exits; an operator's own
``PROMETHEUS_MULTIPROC_DIR`` is emptied at start (as prometheus-client requires) and kept.
Process-level collectors (``process_*``, ``python_gc_*``) describe one process and are left
out in this mode. With one worker nothing here is used: ``/metrics`` is the default
registry, as before.
"""

from __future__ import annotations

import contextlib
import glob
import logging
import math
import multiprocessing
import multiprocessing.util
import os
import shutil
import tempfile
import threading
import time
from collections.abc import Callable, Iterable, Iterator

import msgspec
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    GC_COLLECTOR,
    PLATFORM_COLLECTOR,
    PROCESS_COLLECTOR,
    REGISTRY,
    CollectorRegistry,
    generate_latest,
)
from prometheus_client.metrics import MetricWrapperBase
from prometheus_client.metrics_core import Metric
from prometheus_client.multiprocess import MultiProcessCollector, mark_process_dead
from prometheus_client.registry import Collector

__all__ = [
    "ENV_VAR",
    "MERGE_MODES",
    "SNAPSHOT_INTERVAL_S",
    "active",
    "exposition",
    "merge_snapshots",
    "prepare",
    "start_snapshots",
    "write_snapshot",
]

log = logging.getLogger("quipu.metrics")

ENV_VAR = "PROMETHEUS_MULTIPROC_DIR"
#: How often each worker writes what its scrape-time collectors report.
SNAPSHOT_INTERVAL_S = 1.0
#: Snapshots older than this (of a worker that stopped writing) are ignored.
STALE_AFTER_S = 10.0
#: How scrape-time gauges of several workers combine (default: ``sum``).
MERGE_MODES: dict[str, str] = {
    "quipu_cache_hit_ratio": "weighted:quipu_cache_window_requests",
    "quipu_cache_redis_breaker_open": "max",
}
_SNAPSHOT_PREFIX = "quipu_collectors_"
_PROCESS_COLLECTORS = (PROCESS_COLLECTOR, PLATFORM_COLLECTOR, GC_COLLECTOR)


def active() -> bool:
    """Whether this process keeps its metrics in multiprocess mode."""
    return bool(os.environ.get(ENV_VAR))


def _directory() -> str:
    return os.environ[ENV_VAR]


def _wipe(path: str) -> None:
    for name in os.listdir(path):
        if name.endswith(".db") or name.startswith(_SNAPSHOT_PREFIX):
            with contextlib.suppress(FileNotFoundError):
                os.remove(os.path.join(path, name))


def prepare(workers: int) -> Callable[[], None] | None:
    """Set up multiprocess mode before Granian starts ``workers`` workers.

    Does nothing (returns None) for one worker unless ``PROMETHEUS_MULTIPROC_DIR`` is set.
    Otherwise the directory is created (or emptied), the variable is exported for the
    workers, and workers are started with ``spawn``: prometheus-client decides at import
    whether values live in files, and this process imported it already.

    Returns:
        The clean-up to call when the server has stopped, or None.
    """
    given = os.environ.get(ENV_VAR)
    if not given and workers <= 1:
        return None
    if given:
        os.makedirs(given, exist_ok=True)
        _wipe(given)
        path, owned = given, False
    else:
        path, owned = tempfile.mkdtemp(prefix="quipu-metrics-"), True
        os.environ[ENV_VAR] = path
    multiprocessing.set_start_method("spawn", force=True)

    def cleanup() -> None:
        if owned:
            shutil.rmtree(path, ignore_errors=True)
            if os.environ.get(ENV_VAR) == path:
                del os.environ[ENV_VAR]
        else:
            with contextlib.suppress(OSError):
                _wipe(path)

    return cleanup


# --- scrape-time collectors: per-worker snapshots ----------------------------------------


class _Sample(msgspec.Struct, array_like=True):
    name: str
    labels: dict[str, str]
    value: float | None  # None stands for NaN (JSON has no NaN)


class _Family(msgspec.Struct):
    name: str
    documentation: str
    type: str
    unit: str
    samples: list[_Sample]
    merge: str = "sum"


class _Snapshot(msgspec.Struct):
    pid: int
    written_at: float
    families: list[_Family]


_encoder = msgspec.json.Encoder()
_decoder = msgspec.json.Decoder(_Snapshot)


def _scrape_time_collectors(registry: CollectorRegistry = REGISTRY) -> list[Collector]:
    """Collectors without multiprocess files: neither metric objects nor process-level."""
    # prometheus-client has no public list of registered collectors.
    collectors = list(getattr(registry, "_collector_to_names", {}))
    return [
        c
        for c in collectors
        if not isinstance(c, MetricWrapperBase) and c not in _PROCESS_COLLECTORS
    ]


def _local_families(registry: CollectorRegistry = REGISTRY) -> list[_Family]:
    families: list[_Family] = []
    for collector in _scrape_time_collectors(registry):
        modes = {**MERGE_MODES, **getattr(collector, "multiprocess_merge", {})}
        try:
            metrics = list(collector.collect())
        except Exception:  # a broken collector must not break the scrape
            log.exception("collector %r failed", collector)
            continue
        for metric in metrics:
            families.append(
                _Family(
                    name=metric.name,
                    documentation=metric.documentation,
                    type=metric.type,
                    unit=metric.unit,
                    samples=[
                        _Sample(s.name, dict(s.labels), None if math.isnan(s.value) else s.value)
                        for s in metric.samples
                    ],
                    merge=modes.get(metric.name, "sum"),
                )
            )
    return families


def write_snapshot(registry: CollectorRegistry = REGISTRY) -> None:
    """Write this process's scrape-time metrics where the other workers read them."""
    path = os.path.join(_directory(), f"{_SNAPSHOT_PREFIX}{os.getpid()}.json")
    snapshot = _Snapshot(
        pid=os.getpid(), written_at=time.time(), families=_local_families(registry)
    )
    temporary = f"{path}.tmp"
    with open(temporary, "wb") as out:
        out.write(_encoder.encode(snapshot))
    os.replace(temporary, path)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _other_snapshots(directory: str) -> list[_Snapshot]:
    own = os.getpid()
    found: list[_Snapshot] = []
    now = time.time()
    for path in glob.glob(os.path.join(directory, f"{_SNAPSHOT_PREFIX}*.json")):
        try:
            with open(path, "rb") as source:
                snapshot = _decoder.decode(source.read())
        except (OSError, msgspec.DecodeError):
            continue
        if snapshot.pid == own:
            continue
        if not _alive(snapshot.pid) or now - snapshot.written_at > STALE_AFTER_S:
            with contextlib.suppress(OSError):
                os.remove(path)
            continue
        found.append(snapshot)
    return found


def _combine(mode: str, values: list[float], weights: list[float]) -> float:
    if mode.startswith("weighted:"):
        total = sum(w for v, w in zip(values, weights, strict=True) if not math.isnan(v))
        if not total:
            return math.nan
        return sum(v * w for v, w in zip(values, weights, strict=True) if not math.isnan(v)) / total
    present = [v for v in values if not math.isnan(v)]
    if not present:
        return math.nan
    if mode == "max":
        return max(present)
    if mode == "min":
        return min(present)
    return math.fsum(present)


def merge_snapshots(snapshots: Iterable[list[_Family]]) -> list[Metric]:
    """Combine the scrape-time families of several processes into one set of metrics."""
    by_process = list(snapshots)
    order: list[str] = []
    meta: dict[str, _Family] = {}
    # family -> sample key -> per-process (value, weight)
    values: dict[str, dict[tuple[str, tuple[tuple[str, str], ...]], list[tuple[float, float]]]]
    values = {}
    for families in by_process:
        index = {
            (s.name, tuple(sorted(s.labels.items()))): s.value for f in families for s in f.samples
        }
        for family in families:
            if family.name not in meta:
                meta[family.name] = family
                order.append(family.name)
                values[family.name] = {}
            weight_name = family.merge.partition(":")[2]
            for sample in family.samples:
                labels = tuple(sorted(sample.labels.items()))
                value = math.nan if sample.value is None else sample.value
                weight = 1.0
                if weight_name:
                    found = index.get((weight_name, labels))
                    weight = 0.0 if found is None or math.isnan(found) else found
                values[family.name].setdefault((sample.name, labels), []).append((value, weight))
    merged: list[Metric] = []
    for name in order:
        family = meta[name]
        metric = Metric(name, family.documentation, family.type, family.unit)
        for (sample_name, labels), pairs in values[name].items():
            metric.add_sample(
                sample_name,
                dict(labels),
                _combine(family.merge, [v for v, _ in pairs], [w for _, w in pairs]),
            )
        merged.append(metric)
    return merged


class _WorkersCollector(Collector):
    """This worker's scrape-time metrics now, merged with the other workers' snapshots."""

    def collect(self) -> Iterator[Metric]:
        own = _local_families()
        others = [s.families for s in _other_snapshots(_directory())]
        yield from merge_snapshots([own, *others])


def _forget_dead_workers(directory: str) -> None:
    """Drop the live-gauge files of workers that died without cleaning up."""
    pids: set[int] = set()
    for path in glob.glob(os.path.join(directory, "gauge_live*_*.db")):
        stem = os.path.basename(path)[: -len(".db")]
        with contextlib.suppress(ValueError):
            pids.add(int(stem.rsplit("_", 1)[1]))
    for pid in pids:
        if not _alive(pid):
            mark_process_dead(pid, directory)  # type: ignore[no-untyped-call]


def exposition() -> tuple[bytes, str]:
    """The ``/metrics`` body and content type: over all workers in multiprocess mode."""
    if not active():
        return generate_latest(REGISTRY), CONTENT_TYPE_LATEST
    directory = _directory()
    _forget_dead_workers(directory)
    registry = CollectorRegistry()
    MultiProcessCollector(registry, path=directory)  # type: ignore[no-untyped-call]
    registry.register(_WorkersCollector())
    return generate_latest(registry), CONTENT_TYPE_LATEST


# --- the writer in each worker ----------------------------------------------------------

_writer: threading.Thread | None = None
_writer_pid = 0
_stop = threading.Event()


def _write_forever(interval_s: float) -> None:
    while not _stop.wait(interval_s):
        try:
            write_snapshot()
        except Exception:
            log.debug("writing the metrics snapshot failed", exc_info=True)


def _at_exit() -> None:
    """A worker leaving: stop writing, remove its snapshot and its live gauges."""
    _stop.set()
    if not active():
        return
    directory, pid = _directory(), os.getpid()
    with contextlib.suppress(OSError):
        os.remove(os.path.join(directory, f"{_SNAPSHOT_PREFIX}{pid}.json"))
    with contextlib.suppress(OSError):
        mark_process_dead(pid, directory)  # type: ignore[no-untyped-call]


def start_snapshots(interval_s: float = SNAPSHOT_INTERVAL_S) -> None:
    """Start this process's snapshot writer (once per process; no-op outside the mode)."""
    global _writer, _writer_pid
    if not active() or (_writer is not None and _writer_pid == os.getpid()):
        return
    _stop.clear()
    _writer_pid = os.getpid()
    _writer = threading.Thread(
        target=_write_forever, args=(interval_s,), name="quipu-metrics-snapshot", daemon=True
    )
    _writer.start()
    # Granian workers leave through multiprocessing, which skips atexit but runs these.
    multiprocessing.util.Finalize(None, _at_exit, exitpriority=10)


def _restart_after_fork() -> None:
    global _writer
    if _writer is not None:  # the parent wrote snapshots: so does this child, as itself
        _writer = None
        start_snapshots()


os.register_at_fork(after_in_child=_restart_after_fork)
