"""The process's one Redis client, with short timeouts so a sick Redis costs milliseconds."""

from __future__ import annotations

import time
from typing import Any

from quipu.config import Settings
from quipu.health import DependencyState

__all__ = ["create_redis", "redis_probe"]


def create_redis(settings: Settings) -> Any:
    """A ``redis.asyncio`` client on one pool, or None when ``REDIS_URL`` is unset.

    ``redis://``/``rediss://`` give a standalone client, ``redis+sentinel://`` and
    ``redis+cluster://`` a Sentinel-managed or Cluster one (see :mod:`quipu.cache.connect`),
    all without retries and with the ``[redis]`` timeouts. hiredis parses replies when
    installed. The client is lazy: nothing connects until the first command.
    """
    from quipu.cache.connect import connect

    return connect(settings)


def redis_probe(client: Any) -> Any:
    """A health probe that PINGs ``client``."""

    async def probe() -> DependencyState:
        started = time.perf_counter()
        await client.ping()
        return DependencyState(
            status="up", latency_ms=round((time.perf_counter() - started) * 1000, 2)
        )

    return probe
