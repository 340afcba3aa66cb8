"""``quipu_http_request_duration_seconds`` stops at the response's last byte.

Work a route does after answering (a background task, the response cache's write) is not
latency its client waits for; the histogram must not count it.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import Any

from litestar import get
from litestar.background_tasks import BackgroundTask
from litestar.response import Response
from prometheus_client.parser import text_string_to_metric_families
from quipu.api import hookimpl

AFTER_S = 0.3


@get("/api/late/answer", opt={"public": True})
async def answer() -> Response[dict[str, str]]:
    # The client has its answer before the task starts.
    return Response({"ok": "yes"}, background=BackgroundTask(asyncio.sleep, AFTER_S))


class LatePlugin:
    """A plugin whose one route keeps working after it has answered."""

    @hookimpl
    def register_routes(self) -> Sequence[Any]:
        return [answer]


def duration_sum(text: str, route: str) -> float:
    """Seconds recorded for ``route`` in a ``/metrics`` exposition."""
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if (
                sample.name == "quipu_http_request_duration_seconds_sum"
                and sample.labels.get("route") == route
            ):
                return sample.value
    raise AssertionError(f"no latency series for {route}")


async def test_work_after_the_answer_is_not_latency(make_quipu_app: Any, quipu_client: Any) -> None:
    async with quipu_client(make_quipu_app([("late", LatePlugin())])) as client:
        reply = await client.get("/api/late/answer")
        assert reply.status_code == 200
        text = (await client.get("/metrics")).text
    # The test client returns only once the background task is over (>= AFTER_S); the
    # histogram recorded the answer alone (one request on this fresh series).
    assert duration_sum(text, "/api/late/answer") < AFTER_S / 3
