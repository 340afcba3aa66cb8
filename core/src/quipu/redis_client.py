"""The process's one Redis client, with short timeouts so a sick Redis costs milliseconds."""

from __future__ import annotations

import time
from typing import Any

from quipu.config import Settings
from quipu.health import DependencyState

__all__ = ["create_redis", "redis_probe"]


def create_redis(settings: Settings) -> Any:
    """A ``redis.asyncio`` client on one pool, or None when ``REDIS_URL`` is unset.

    ``redis://`` and ``rediss://`` URLs give a standalone client (hiredis parses replies
    when installed). The client is lazy: nothing connects until the first command.
    """
    url = settings.secrets.redis_url
    if not url:
        return None
    import redis.asyncio as redis

    cfg = settings.redis
    return redis.Redis.from_url(
        url,
        max_connections=cfg.pool_size,
        socket_timeout=cfg.socket_timeout_s,
        socket_connect_timeout=cfg.connect_timeout_s,
        health_check_interval=30,
        retry_on_timeout=False,
    )


def redis_probe(client: Any) -> Any:
    """A health probe that PINGs ``client``."""

    async def probe() -> DependencyState:
        started = time.perf_counter()
        await client.ping()
        return DependencyState(
            status="up", latency_ms=round((time.perf_counter() - started) * 1000, 2)
        )

    return probe
