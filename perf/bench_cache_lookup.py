"""µs per ``PluginCache.get_or_compute`` in one process: an L1 hit, and a Redis hit.

No HTTP: a :class:`~quipu.cache.PluginCache` over a real :class:`~quipu.cache.Cache` is
called in a loop, with a request scope (so ``Server-Timing`` is written, as in a handler)
and the result's ``Cache-Status`` read, as ``result.response()`` does. Every answer is
checked to be the hit it claims. The Redis hit runs with L1 off against a throwaway
``redis-server`` (or ``REDIS_URL``). Other processes only ever slow a round down, so on a
shared machine compare the best rounds (and repeat, alternating the two checkouts), or
time with ``--clock cpu``: the process's CPU time, which other processes do not inflate
(for a Redis hit it leaves out the wait for Redis, keeping quipu's own work)::

    .venv/bin/python perf/bench_cache_lookup.py [--calls 20000] [--rounds 7] [--clock cpu]

To compare with older code, point ``PYTHONPATH`` at that checkout's ``core/src``: only the
names :mod:`quipu.cache` exports are used.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

from quipu.cache import Cache, PluginCache
from quipu.config import load_settings
from quipu.records import CachePolicy

REQUEST = {"company_id": 1, "folio": 42, "lines": [{"item": "x", "qty": 2, "price": 1190}]}
VALUE = {"valid": True, "findings": [{"code": "OK", "message": "sin observaciones"}] * 3}


def _settings(l1_entries: int, redis_url: str | None = None) -> Any:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "platform.toml"
        path.write_text(f"[cache]\nl1_max_entries = {l1_entries}\n")
        return load_settings(path, env={"REDIS_URL": redis_url} if redis_url else {})


_CLOCKS = {"wall": time.perf_counter, "cpu": time.process_time}
_clock = _CLOCKS["wall"]


async def _run(cache: Cache, calls: int, rounds: int, tier: str) -> tuple[float, float]:
    """``(median, best)`` µs per lookup over the rounds."""
    view = PluginCache(cache, "bench")

    async def compute() -> Any:
        return VALUE

    first = await view.get_or_compute("answers", REQUEST, compute, company=1)
    assert first.status == "miss", first
    await cache.drain()
    per_round = []
    for _ in range(rounds):
        scope: dict[str, Any] = {"state": {}}
        view.scope = scope
        started = _clock()
        for _ in range(calls):
            result = await view.get_or_compute("answers", REQUEST, compute, company=1)
            result.headers  # noqa: B018 - what result.response() reads
        per_round.append((_clock() - started) / calls * 1e6)
        assert result.tier == tier, result
        scope["state"].clear()
    return statistics.median(per_round), min(per_round)


async def main_async(calls: int, rounds: int) -> None:
    policies = {"bench.answers": CachePolicy(name="answers", ttl_s=900)}
    l1 = Cache(policies, settings=_settings(10_000))
    median, best = await _run(l1, calls, rounds, "l1")
    print(f"L1 hit     µs per lookup: median of {rounds} {median:.2f}, best {best:.2f}")
    await l1.close()

    import redis.asyncio as aioredis
    from quipu.testing.redis_server import RedisServer

    server = None
    url = os.environ.get("REDIS_URL")
    if not url:
        server = RedisServer()
        server.start()
        url = server.url
    client = aioredis.from_url(url)
    await client.flushdb()
    try:
        remote = Cache(policies, redis=client, settings=_settings(0, url))
        median, best = await _run(remote, max(1, calls // 10), rounds, "redis")
        print(f"Redis hit  µs per lookup: median of {rounds} {median:.2f}, best {best:.2f}")
        await remote.close()
    finally:
        await client.aclose()
        if server is not None:
            server.stop()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--calls", type=int, default=20_000)
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--clock", choices=sorted(_CLOCKS), default="wall")
    args = parser.parse_args(argv)
    global _clock
    _clock = _CLOCKS[args.clock]
    asyncio.run(main_async(args.calls, args.rounds))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
