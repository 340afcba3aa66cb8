"""``quipu_gc_pause_seconds``: every collection of a serving process is timed."""

from __future__ import annotations

import gc
import re
from collections.abc import Iterator
from typing import Any

import pytest
from quipu.observability import runtime
from quipu.observability.runtime import GC_PAUSE, watch_gc_pauses


@pytest.fixture
def unwatched() -> Iterator[None]:
    """No pause callback installed, as in a process that has not started an app yet."""
    while runtime._on_collection in gc.callbacks:
        gc.callbacks.remove(runtime._on_collection)
    yield
    watch_gc_pauses()


def full_collections() -> float:
    """The number of timed generation-2 collections so far."""
    for metric in GC_PAUSE.collect():
        for sample in metric.samples:
            if sample.name.endswith("_count") and sample.labels == {"generation": "2"}:
                return sample.value
    return 0.0


@pytest.mark.usefixtures("unwatched")
def test_a_collection_is_timed_once() -> None:
    watch_gc_pauses()
    watch_gc_pauses()  # idempotent: one callback, one observation per collection
    before = full_collections()
    gc.collect(2)
    assert full_collections() == before + 1


@pytest.mark.usefixtures("unwatched")
async def test_a_serving_app_publishes_its_pauses(make_quipu_app: Any, quipu_client: Any) -> None:
    async with quipu_client(make_quipu_app([])) as client:
        assert runtime._on_collection in gc.callbacks, "start-up did not install the timer"
        gc.collect(2)
        text = (await client.get("/metrics")).text
    found = re.search(r'^quipu_gc_pause_seconds_count\{generation="2"\} (\S+)$', text, re.M)
    assert found is not None, "the pause histogram is missing from /metrics"
    assert float(found.group(1)) >= 1
