"""Fixtures of the cache tests: caches on the test Redis, an empty database."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import pytest
from cache_demo import demo_policies
from quipu.cache import Cache
from quipu.config import load_settings


@pytest.fixture
async def make_cache(redis_url: str, tmp_path: Path) -> AsyncIterator[Callable[..., Cache]]:
    """``make_cache(redis=True, config="", **plugin)``: a Cache on the test Redis.

    ``redis`` may be a URL (another server); ``config`` is ``platform.toml`` text.
    """
    made: list[tuple[Cache, Any]] = []

    def build(
        *, redis: bool | str = True, config: str = "", health: Any = None, **kw: Any
    ) -> Cache:
        from quipu.redis_client import create_redis

        url = redis if isinstance(redis, str) else redis_url
        path = None
        if config:
            path = tmp_path / f"platform-{len(made)}.toml"
            path.write_text(config)
        settings = load_settings(path, env={"REDIS_URL": url} if redis else {})
        client = create_redis(settings)
        cache = Cache(demo_policies(**kw), redis=client, settings=settings, health=health)
        made.append((cache, client))
        return cache

    yield build
    for cache, client in made:
        await cache.close()
        if client is not None:
            await client.aclose()


@pytest.fixture
async def flush_redis(redis_url: str) -> None:
    """An empty Redis database for the test."""
    import redis.asyncio as aioredis

    client = aioredis.Redis.from_url(redis_url)
    await client.flushdb()
    await client.aclose()
