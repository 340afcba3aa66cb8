"""Redis dies, hangs and comes back while requests keep flowing."""

from __future__ import annotations

import asyncio
import os
import signal
import time
from collections.abc import AsyncIterator, Callable, Iterator
from typing import Any

import pytest
import redis.asyncio as aioredis
from cache_demo import DemoPlugin, Document
from quipu.cache import Cache
from quipu.health import HealthMonitor
from quipu.testing.redis_server import RedisServer

pytestmark = pytest.mark.slow

TIMEOUT_S = 0.1
FAST = f"""
[platform]
health_probe_interval_s = 0.05

[redis]
socket_timeout_s = {TIMEOUT_S}
connect_timeout_s = {TIMEOUT_S}
breaker_failures = 3
breaker_probe_interval_s = 0.05
"""


@pytest.fixture
def server() -> Iterator[RedisServer]:
    with RedisServer() as own:
        yield own


@pytest.fixture
async def paused(server: RedisServer) -> AsyncIterator[Callable[[bool], None]]:
    """``paused(True)`` freezes the Redis process (it accepts, never answers)."""
    state = {"stopped": False}

    def pause(on: bool) -> None:
        assert server._proc is not None
        os.kill(server._proc.pid, signal.SIGSTOP if on else signal.SIGCONT)
        state["stopped"] = on

    yield pause
    if state["stopped"]:
        pause(False)


def doc(folio: int) -> dict[str, Any]:
    return {"company_id": 1, "folio": folio}


async def wait_for(client: Any, status: str, limit_s: float = 5.0) -> dict[str, Any]:
    deadline = time.monotonic() + limit_s
    while True:
        body: dict[str, Any] = (await client.get("/health")).json()
        if body["status"] == status:
            return body
        assert time.monotonic() < deadline, f"/health never became {status}: {body}"
        await asyncio.sleep(0.02)


async def test_redis_stopped_mid_test_then_started_again(
    make_quipu_app: Callable[..., Any], quipu_client: Any, server: RedisServer
) -> None:
    plugin = DemoPlugin()
    app = make_quipu_app([("demo", plugin)], config=FAST, env={"REDIS_URL": server.url})
    async with quipu_client(app) as client:
        assert (await client.post("/api/demo/validate", json=doc(0))).status_code == 200
        assert (await wait_for(client, "healthy"))["dependencies"]["redis"]["status"] == "up"

        server.stop()
        slowest = 0.0
        for folio in range(1, 21):  # misses: Redis is tried until the breaker opens
            started = time.perf_counter()
            response = await client.post("/api/demo/validate", json=doc(folio))
            slowest = max(slowest, time.perf_counter() - started)
            assert response.status_code == 200
            assert response.json()["folio"] == folio
        assert slowest < TIMEOUT_S + 0.1
        degraded = await wait_for(client, "degraded")
        redis_state = degraded["dependencies"]["redis"]
        assert redis_state["status"] == "down"
        assert "breaker open" in redis_state["detail"]
        assert any(r.startswith("redis: cache breaker open") for r in degraded["degraded_reasons"])

        skipped = await client.post("/api/demo/validate", json=doc(99))
        assert skipped.headers["cache-status"] == (
            "quipu; fwd=miss; stored; ttl=900; detail=redis-unavailable"
        )
        l1 = await client.post("/api/demo/validate", json=doc(0))  # L1 keeps working
        assert l1.headers["cache-status"].endswith("detail=l1")
        metrics = (await client.get("/metrics")).text
        assert "quipu_cache_redis_breaker_open 1.0" in metrics

        server.start()
        healthy = await wait_for(client, "healthy")
        assert healthy["dependencies"]["redis"]["status"] == "up"
        # Recovered without a restart: new entries reach Redis again.
        stored = await client.post("/api/demo/validate", json=doc(500))
        assert stored.headers["cache-status"] == "quipu; fwd=miss; stored; ttl=900"
        key = app.state["quipu"].services["cache"].key("demo.validation", Document(1, 500), 1)
        direct = aioredis.Redis.from_url(server.url)
        try:
            deadline = time.monotonic() + 2  # the write is in the background
            while not await direct.exists(key):
                assert time.monotonic() < deadline, "the entry never reached Redis"
                await asyncio.sleep(0.01)
        finally:
            await direct.aclose()


async def test_hung_redis_costs_each_request_at_most_the_timeout(
    make_cache: Callable[..., Cache], server: RedisServer, paused: Callable[[bool], None]
) -> None:
    health = HealthMonitor()
    cache = make_cache(redis=server.url, config=FAST, health=health)
    plugin = DemoPlugin()

    async def compute() -> Any:
        return await plugin.verdict(doc_struct)

    doc_struct = Document(company_id=1, folio=1)
    await cache.get_or_compute("demo.validation", {"warm": 1}, compute, company=1)
    await cache.drain()
    paused(True)
    timings: list[float] = []

    async def one(folio: int) -> str:
        started = time.perf_counter()
        result = await cache.get_or_compute("demo.validation", {"f": folio}, compute, company=1)
        timings.append(time.perf_counter() - started)
        return result.status

    # 20 concurrent misses, then 20 more once the breaker is open.
    assert set(await asyncio.gather(*(one(f) for f in range(20)))) == {"miss"}
    assert cache.breaker_open
    assert health.snapshot()["redis"].status == "down"
    # Bounds of behaviour, not speed: a hung Redis without the timeout would hold these
    # requests for as long as it hangs. The slack absorbs a loaded CI machine.
    assert max(timings) < 3 * TIMEOUT_S
    timings.clear()
    assert set(await asyncio.gather(*(one(f) for f in range(20, 40)))) == {"miss"}
    # Shorter than one timeout: nobody waited for Redis while the breaker was open.
    assert max(timings) < TIMEOUT_S

    paused(False)
    deadline = time.monotonic() + 5
    while cache.breaker_open:
        assert time.monotonic() < deadline, "the breaker never closed"
        await asyncio.sleep(0.02)
    assert health.snapshot()["redis"].status == "up"
    hit = await cache.get_or_compute("demo.validation", {"warm": 1}, compute, company=1)
    assert hit.hit


async def test_redis_down_at_start_up_serves_and_recovers(
    make_quipu_app: Callable[..., Any], quipu_client: Any, server: RedisServer
) -> None:
    server.stop()
    app = make_quipu_app([("demo", DemoPlugin())], config=FAST, env={"REDIS_URL": server.url})
    async with quipu_client(app) as client:
        body = await wait_for(client, "degraded")
        assert body["dependencies"]["redis"]["status"] == "down"
        response = await client.post("/api/demo/validate", json=doc(1))
        assert response.status_code == 200
        assert response.headers["cache-status"].endswith("detail=redis-unavailable")
        server.start()
        await wait_for(client, "healthy")


async def test_health_probe_counts_a_slow_ping_and_trips_on_a_refused_one(
    make_cache: Callable[..., Cache], server: RedisServer, paused: Callable[[bool], None]
) -> None:
    cache = make_cache(redis=server.url, config=FAST)
    assert (await cache.health_probe()).status == "up"
    paused(True)
    slow = await cache.health_probe()
    assert slow.status == "degraded"
    assert "breaker opens at 3" in slow.detail
    assert not cache.breaker_open  # one blip does not send every lookup to compute
    paused(False)
    assert (await cache.health_probe()).status == "up"
    server.stop()
    refused = await cache.health_probe()
    assert refused.status == "down"
    assert cache.breaker_open
