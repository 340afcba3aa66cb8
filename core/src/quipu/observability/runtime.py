"""How long the garbage collector stops the event loop, as a histogram.

One worker runs every request on one thread, so a collection pauses every request in
flight: a cached answer that normally takes 0.3 ms takes as long as the pause. Python
reports collections (``python_gc_collections_total``) but not their duration; this adds
``quipu_gc_pause_seconds{generation}``, so a p99 that jumps can be told apart from one
that queues behind request work. It costs one clock read and one observation per
collection, nothing per request.
"""

from __future__ import annotations

import gc
import time
from typing import Any

from prometheus_client import Histogram

from quipu.observability.metrics import FAST_BUCKETS

__all__ = ["GC_PAUSE", "watch_gc_pauses"]

GC_PAUSE = Histogram(
    "quipu_gc_pause_seconds",
    "Time the garbage collector stopped this process, by generation collected.",
    ["generation"],
    buckets=FAST_BUCKETS,
)
# One child per generation, looked up once: the callback runs at every collection.
_BY_GENERATION = tuple(GC_PAUSE.labels(str(generation)) for generation in range(3))
_started = 0.0


def _on_collection(phase: str, info: dict[str, Any]) -> None:
    global _started
    if phase == "start":
        _started = time.perf_counter()
    else:
        _BY_GENERATION[info["generation"]].observe(time.perf_counter() - _started)


def watch_gc_pauses() -> None:
    """Time every collection of this process from now on (idempotent)."""
    if _on_collection not in gc.callbacks:
        gc.callbacks.append(_on_collection)
