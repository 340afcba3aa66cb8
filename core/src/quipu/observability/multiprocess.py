"""Prometheus metrics summed over Granian workers, kept in each worker's own memory.

Each Granian worker is a process with its own metric values, and a scrape of ``/metrics``
reaches one of them. prometheus-client's multiprocess mode solves that with a memory-mapped
file write on every ``inc()``/``observe()``: five of them per request, a few microseconds
on the hot path. quipu keeps every metric in plain process memory instead, and publishes:

- when ``quipu serve`` runs several workers, :func:`prepare` (called before Granian starts)
  points ``QUIPU_METRICS_DIR`` at a fresh directory and starts workers as fresh
  interpreters;
- each worker writes a snapshot of all its metrics (``quipu_metrics_<pid>.json``) every
  :data:`SNAPSHOT_INTERVAL_S` seconds from a background thread, and at once when a scrape
  asks for it (a marker file whose time the thread checks every
  :data:`REQUEST_POLL_S`);
- ``/metrics`` (:func:`exposition`) asks every live worker for a fresh snapshot, waits
  until each has written one (at most :data:`FRESH_WAIT_S`), and merges them with its own
  values: counters and histograms are summed over workers (a dead worker's last counts
  stay in the sum, so counters never go back), gauges combine as their
  ``multiprocess_mode`` says (``livesum``, ``livemax``...) over live workers, and
  scrape-time gauges as :data:`MERGE_MODES` (or a collector's ``multiprocess_merge``)
  says: ``sum``, ``max``, ``min``, or ``weighted:<weight metric>`` for ratios.

So the numbers stay exact and summed over workers, and a request pays only an in-memory
add. The directory is removed when ``quipu serve`` exits; an operator's own
``QUIPU_METRICS_DIR`` is emptied at start and kept. Process-level collectors
(``process_*``, ``python_gc_*``) describe one process and are left out in this mode.
With one worker nothing here is used: ``/metrics`` is the default registry.
"""

from __future__ import annotations

import asyncio
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
    disable_created_metrics,
    generate_latest,
)
from prometheus_client.metrics import MetricWrapperBase
from prometheus_client.metrics_core import Metric
from prometheus_client.registry import Collector

__all__ = [
    "ENV_VAR",
    "MERGE_MODES",
    "SNAPSHOT_INTERVAL_S",
    "active",
    "exposition",
    "fresh_exposition",
    "merge_snapshots",
    "prepare",
    "start_snapshots",
    "write_snapshot",
]

log = logging.getLogger("quipu.metrics")

ENV_VAR = "QUIPU_METRICS_DIR"
#: How often each worker writes its snapshot unasked (it also says the worker is alive).
SNAPSHOT_INTERVAL_S = 1.0
#: How often each worker checks whether a scrape asked for a fresh snapshot.
REQUEST_POLL_S = 0.05
#: How long a scrape waits for the other workers' fresh snapshots.
FRESH_WAIT_S = 0.5
#: Gauges of a worker whose snapshot is older than this are left out.
STALE_AFTER_S = 10.0
#: How scrape-time gauges of several workers combine (default: ``sum``).
MERGE_MODES: dict[str, str] = {
    "quipu_cache_hit_ratio": "weighted:quipu_cache_window_requests",
    "quipu_cache_redis_breaker_open": "max",
}
_SNAPSHOT_PREFIX = "quipu_metrics_"
_REQUEST_FILE = "scrape-request"
#: Metric types whose values add up over time: a dead worker's last values stay summed.
_MONOTONIC = frozenset({"counter", "histogram", "summary"})
#: How a gauge's ``multiprocess_mode`` combines values of several workers.
_GAUGE_MODES = {
    "livesum": "sum",
    "sum": "sum",
    "all": "sum",
    "liveall": "sum",
    "livemax": "max",
    "max": "max",
    "mostrecent": "max",
    "livemostrecent": "max",
    "livemin": "min",
    "min": "min",
}
_PROCESS_COLLECTORS = (PROCESS_COLLECTOR, PLATFORM_COLLECTOR, GC_COLLECTOR)


def active() -> bool:
    """Whether this process keeps its metrics in multiprocess mode."""
    return bool(os.environ.get(ENV_VAR))


def _directory() -> str:
    return os.environ[ENV_VAR]


def _wipe(path: str) -> None:
    for name in os.listdir(path):
        if name.startswith(_SNAPSHOT_PREFIX) or name == _REQUEST_FILE:
            with contextlib.suppress(FileNotFoundError):
                os.remove(os.path.join(path, name))


def prepare(workers: int) -> Callable[[], None] | None:
    """Set up multiprocess mode before Granian starts ``workers`` workers.

    Does nothing (returns None) for one worker unless ``QUIPU_METRICS_DIR`` is set.
    Otherwise the directory is created (or emptied), the variable is exported for the
    workers, and workers are started with ``spawn``, so no worker inherits this process's
    metric values.

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


# --- per-worker snapshots ----------------------------------------------------------


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


def _collectors(registry: CollectorRegistry = REGISTRY) -> list[Collector]:
    """Every registered collector but the process-level ones."""
    # prometheus-client has no public list of registered collectors.
    collectors = list(getattr(registry, "_collector_to_names", {}))
    return [c for c in collectors if c not in _PROCESS_COLLECTORS]


def _merge_mode(collector: Collector, metric: Metric) -> str:
    if isinstance(collector, MetricWrapperBase):
        if metric.type == "gauge":
            mode = str(getattr(collector, "_multiprocess_mode", "all"))
            return _GAUGE_MODES.get(mode, "sum")
        return "sum"
    modes = {**MERGE_MODES, **getattr(collector, "multiprocess_merge", {})}
    return str(modes.get(metric.name, "sum"))


def _local_families(registry: CollectorRegistry = REGISTRY) -> list[_Family]:
    families: list[_Family] = []
    for collector in _collectors(registry):
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
                        if not s.name.endswith("_created")  # a time: summing it means nothing
                    ],
                    merge=_merge_mode(collector, metric),
                )
            )
    return families


def write_snapshot(registry: CollectorRegistry = REGISTRY) -> float:
    """Write this process's metrics where the other workers read them; the time written."""
    path = os.path.join(_directory(), f"{_SNAPSHOT_PREFIX}{os.getpid()}.json")
    written_at = time.time()
    snapshot = _Snapshot(pid=os.getpid(), written_at=written_at, families=_local_families(registry))
    temporary = f"{path}.tmp"
    with open(temporary, "wb") as out:
        out.write(_encoder.encode(snapshot))
    os.replace(temporary, path)
    return written_at


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _other_snapshots(directory: str) -> list[tuple[_Snapshot, bool]]:
    """The other workers' snapshots, each with whether its worker is alive and current."""
    own = os.getpid()
    found: list[tuple[_Snapshot, bool]] = []
    now = time.time()
    for path in glob.glob(os.path.join(directory, f"{_SNAPSHOT_PREFIX}*.json")):
        try:
            with open(path, "rb") as source:
                snapshot = _decoder.decode(source.read())
        except (OSError, msgspec.DecodeError):
            continue
        if snapshot.pid == own:
            continue
        live = _alive(snapshot.pid) and now - snapshot.written_at <= STALE_AFTER_S
        found.append((snapshot, live))
    return found


def _only_monotonic(families: list[_Family]) -> list[_Family]:
    """What a dead worker still contributes: its counters and histograms, never gauges."""
    return [f for f in families if f.type in _MONOTONIC]


def request_fresh(directory: str) -> float:
    """Ask every worker for a fresh snapshot; the time asked."""
    marker = os.path.join(directory, _REQUEST_FILE)
    asked = time.time()
    with open(marker, "w") as out:
        out.write(repr(asked))
    return asked


async def _wait_for_fresh(directory: str, asked: float) -> None:
    """Until every live worker has written a snapshot after ``asked`` (bounded)."""
    deadline = time.monotonic() + FRESH_WAIT_S
    while time.monotonic() < deadline:
        pending = [s for s, live in _other_snapshots(directory) if live and s.written_at < asked]
        if not pending:
            return
        await asyncio.sleep(REQUEST_POLL_S)
    log.warning("metrics: some workers did not publish a fresh snapshot in time")


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


class _Merged(Collector):
    def __init__(self, metrics: list[Metric]) -> None:
        self.metrics = metrics

    def collect(self) -> Iterator[Metric]:
        yield from self.metrics


def exposition() -> tuple[bytes, str]:
    """The ``/metrics`` body and content type with what every worker had published."""
    if not active():
        return generate_latest(REGISTRY), CONTENT_TYPE_LATEST
    others = [
        s.families if live else _only_monotonic(s.families)
        for s, live in _other_snapshots(_directory())
    ]
    registry = CollectorRegistry()
    registry.register(_Merged(merge_snapshots([_local_families(), *others])))
    return generate_latest(registry), CONTENT_TYPE_LATEST


async def fresh_exposition() -> tuple[bytes, str]:
    """:func:`exposition` after every live worker published its current values."""
    if active():
        directory = _directory()
        await _wait_for_fresh(directory, request_fresh(directory))
    return exposition()


# --- the writer in each worker ----------------------------------------------------------

_writer: threading.Thread | None = None
_writer_pid = 0
_stop = threading.Event()


def _write_forever(interval_s: float) -> None:
    marker = os.path.join(_directory(), _REQUEST_FILE)
    last = 0.0
    while not _stop.is_set():
        try:
            asked = os.stat(marker).st_mtime
        except OSError:
            asked = 0.0
        if asked >= last or time.time() - last >= interval_s:
            try:
                last = write_snapshot()
            except Exception:
                log.debug("writing the metrics snapshot failed", exc_info=True)
                last = time.time()
        _stop.wait(REQUEST_POLL_S)


def _at_exit() -> None:
    """A worker leaving: stop writing, remove its snapshot and its live gauges."""
    _stop.set()
    if not active():
        return
    # The last snapshot stays: its counters keep counting in the sum after this worker.
    with contextlib.suppress(Exception):
        write_snapshot()


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
    disable_created_metrics()  # type: ignore[no-untyped-call]


def _restart_after_fork() -> None:
    global _writer
    if _writer is not None:  # the parent wrote snapshots: so does this child, as itself
        _writer = None
        start_snapshots()


os.register_at_fork(after_in_child=_restart_after_fork)
