"""Rate limits per key and route, shared through Redis, degrading open."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

import pytest
from litestar import get
from prometheus_client import REGISTRY
from quipu.api import hookimpl
from quipu.errors import StartupError
from quipu.security.ratelimit import parse_rate
from quipu.testing.redis_server import RedisServer


@get("/api/acme/ping")
async def ping() -> dict[str, str]:
    return {"pong": "ok"}


@get("/api/acme/other")
async def other() -> dict[str, str]:
    return {"other": "ok"}


class AcmePlugin:
    @hookimpl
    def register_routes(self) -> list[Any]:
        return [ping, other]


CONFIG = """
[plugins.acme.rate_limits]
default = "5/minute"
"/api/acme/ping" = "3/minute"

[[auth.keys]]
name = "empresa-1"
env = "KEY_1"
companies = [1]
"""


def checks(result: str) -> float:
    return (
        REGISTRY.get_sample_value(
            "quipu_rate_limit_checks_total", {"plugin": "acme", "result": result}
        )
        or 0.0
    )


@pytest.fixture
def make_app(make_quipu_app: Callable[..., Any], redis_url: str) -> Callable[..., Any]:
    import redis

    redis.Redis.from_url(redis_url).flushdb()
    return lambda **env: make_quipu_app(
        [("acme", AcmePlugin())], config=CONFIG, env={"KEY_1": "key-1", **env}
    )


async def test_limit_per_key_and_route_with_retry_after(
    make_app: Callable[..., Any], quipu_client: Any
) -> None:
    app = make_app()
    async with quipu_client(app) as client:
        codes = [(await client.get("/api/acme/ping")).status_code for _ in range(4)]
        limited = await client.get("/api/acme/ping")
        other_route = await client.get("/api/acme/other")
        other_key = await client.get("/api/acme/ping", headers={"Authorization": "Bearer key-1"})
        health = await client.get("/health")
    assert codes == [200, 200, 200, 429]
    assert limited.status_code == 429
    assert 1 <= int(limited.headers["retry-after"]) <= 60
    assert "rate limit of 3/minute exceeded" in limited.json()["detail"]
    assert other_route.status_code == 200  # its own counter, with the default limit
    assert other_key.status_code == 200  # another key counts apart
    assert health.status_code == 200  # platform routes are not limited


async def test_counts_are_shared_by_every_instance(
    make_app: Callable[..., Any], quipu_client: Any
) -> None:
    first, second = make_app(), make_app()
    async with quipu_client(first) as one, quipu_client(second) as two:
        statuses = []
        for client in (one, two, one, two):
            statuses.append((await client.get("/api/acme/ping")).status_code)
    assert statuses == [200, 200, 200, 429]


@pytest.mark.slow
async def test_redis_down_lets_requests_through_and_says_so(
    make_quipu_app: Callable[..., Any], quipu_client: Any
) -> None:
    with RedisServer() as server:
        app = make_quipu_app(
            [("acme", AcmePlugin())], config=CONFIG, env={"KEY_1": "key-1", "REDIS_URL": server.url}
        )
        async with quipu_client(app) as client:
            server.stop()
            before = checks("degraded")
            codes = [(await client.get("/api/acme/ping")).status_code for _ in range(6)]
            assert codes == [200] * 6
            assert checks("degraded") - before == 6
            server.start()
            await asyncio.sleep(1.2)  # the cache breaker probes Redis and closes


def test_bad_limits_are_start_up_errors(make_quipu_app: Callable[..., Any]) -> None:
    config = (
        "[plugins.acme.rate_limits]\ndefault = 'lots'\n'/api/acme/pong' = '1/minute'\n"
        "'/api/acme/other' = '0/second'\n"
    )
    with pytest.raises(StartupError) as err:
        make_quipu_app([("acme", AcmePlugin())], config=config)
    message = str(err.value)
    assert "default = 'lots': 'lots' is not a rate" in message
    assert "'/api/acme/pong' is not a route of plugin 'acme'" in message
    assert "use 'default' or one of: /api/acme/other, /api/acme/ping" in message
    assert "'0/second' is not a rate" in message


def test_rate_syntax() -> None:
    assert (parse_rate("20/minute").limit, parse_rate("20/minute").window_s) == (20, 60)
    assert parse_rate(" 5 / hour ").window_s == 3600
    with pytest.raises(ValueError, match='like "120/minute"'):
        parse_rate("20 per minute")


async def test_permits_are_reserved_in_chunks_and_never_past_the_limit(redis_url: str) -> None:
    """Two processes (two limiters) sharing one Redis, a limit of 1,000 per minute."""
    import redis.asyncio as aioredis
    from quipu.security.ratelimit import RateLimiter

    client = aioredis.Redis.from_url(redis_url)
    await client.flushdb()
    rate = parse_rate("1000/minute")
    limiters = [RateLimiter(client), RateLimiter(client)]
    now = 1_800_000_000.0  # one fixed window for the whole test
    allowed = 0
    for i in range(1100):
        result, _, _ = await limiters[i % 2].hit("k:/r", rate, now)
        allowed += result == "allowed"
    reserved_total = int(await client.get(f"rl:k:/r:{int(now // 60)}"))
    await client.aclose()
    assert 1000 - 2 * 9 <= allowed <= 1000  # never over; at most a chunk less per process
    # Each Redis call reserves 10 permits, and a spent window is not asked again: about
    # 100 round trips for 1,100 requests, not 1,100.
    assert reserved_total <= 1000 + 2 * 10
    assert reserved_total % 10 == 0


async def test_concurrent_reservations_lose_no_permits(redis_url: str) -> None:
    """32 requests at a time: their reservations add up instead of overwriting each other."""
    import redis.asyncio as aioredis
    from quipu.security.ratelimit import RateLimiter

    client = aioredis.Redis.from_url(redis_url)
    await client.flushdb()
    rate = parse_rate("60000/minute")  # chunks of 600
    limiter = RateLimiter(client)
    now = 1_800_000_000.0
    results: list[str] = []
    for _ in range(100):
        batch = await asyncio.gather(*(limiter.hit("k:/r", rate, now) for _ in range(32)))
        results += [result for result, _, _ in batch]
    reserved_total = int(await client.get(f"rl:k:/r:{int(now // 60)}"))
    await client.aclose()
    assert results.count("allowed") == 3200
    # Every reserved permit is still held by the process: nothing reserved was dropped.
    assert reserved_total - 3200 == limiter._reserved[f"rl:k:/r:{int(now // 60)}"][0]
