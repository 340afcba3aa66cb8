"""Rate limits per API key and route, shared by every worker and instance through Redis.

Operators set them per plugin in ``platform.toml``::

    [plugins.dte.rate_limits]
    default = "600/minute"                  # each route of the plugin, per API key
    "/api/ai/validate" = "120/minute"       # one route, by its path as `quipu plugins` lists it

A request over its limit answers 429 with ``Retry-After`` and a ``detail``. The count is a
fixed window per key and route, kept in Redis by one atomic script, so all workers and
instances share it. To keep Redis off most requests, a process reserves up to 1% of a
limit per round trip and hands those permits out locally; permits are never granted past
the limit, so a key is never let over it (an idle process may leave a few unused). When
Redis is unreachable (or the cache's breaker says it is down) the limiter lets requests
through, counted as ``degraded`` in ``quipu_rate_limit_checks_total``: being unable to
count must not take the API down. Without ``REDIS_URL`` each worker counts
on its own.
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Mapping
from typing import Any

import msgspec
from litestar.types import HTTPResponseStartEvent, Scope, Send
from prometheus_client import Counter

__all__ = [
    "RATE_LIMIT_CHECKS",
    "PluginRateLimits",
    "Rate",
    "RateLimiter",
    "limited_answer",
    "parse_rate",
]

log = logging.getLogger("quipu.security.ratelimit")

_UNITS = {"second": 1, "minute": 60, "hour": 3600, "day": 86400}
_RATE = re.compile(r"^\s*(\d+)\s*/\s*(second|minute|hour|day)\s*$")

RATE_LIMIT_CHECKS = Counter(
    "quipu_rate_limit_checks",
    "Rate-limit decisions by plugin and result (allowed, limited, degraded, local).",
    ["plugin", "result"],
)

# Reserve ARGV[2] permits of the window's counter, setting its expiry on first use, atomically.
_HIT = """
local count = redis.call('INCRBY', KEYS[1], ARGV[2])
if count == tonumber(ARGV[2]) then redis.call('PEXPIRE', KEYS[1], ARGV[1]) end
return count
"""
#: One Redis round trip reserves up to 1% of a limit for this process, so a busy route
#: asks Redis once per that many requests. Permits are only ever handed out within the
#: limit: a key is never let over it; an idle process may leave a few reserved ones unused.
CHUNK_SHARE = 100


class Rate(msgspec.Struct, frozen=True):
    """``limit`` requests per ``window_s`` seconds."""

    limit: int
    window_s: int
    text: str

    def __str__(self) -> str:
        return self.text


class PluginRateLimits(msgspec.Struct, frozen=True):
    """A plugin's limits: a default for its routes and per-route overrides."""

    default: Rate | None
    routes: Mapping[str, Rate]

    def for_route(self, path: str) -> Rate | None:
        """The limit of ``path`` (a route's path template), if any."""
        return self.routes.get(path, self.default)


def parse_rate(text: str) -> Rate:
    """``"120/minute"`` → ``Rate(120, 60)``.

    Raises:
        ValueError: not ``<count>/<second|minute|hour|day>`` with a positive count.
    """
    match = _RATE.match(text) if isinstance(text, str) else None
    if not match or int(match.group(1)) <= 0:
        raise ValueError(
            f'{text!r} is not a rate; write it like "120/minute" (per second, minute, hour or day)'
        )
    return Rate(int(match.group(1)), _UNITS[match.group(2)], text.strip())


class RateLimiter:
    """Fixed-window counters in Redis, or in this process when there is no Redis."""

    def __init__(self, redis: Any, *, redis_down: Any = None) -> None:
        self.redis = redis
        self._redis_down = redis_down or (lambda: False)
        self._script = redis.register_script(_HIT) if redis is not None else None
        self._local: dict[str, int] = {}
        #: Permits reserved from Redis and not yet used, by counter: [left, next number];
        #: left = -1 once the window is spent.
        self._reserved: dict[str, list[int]] = {}

    async def hit(self, key: str, rate: Rate, now: float | None = None) -> tuple[str, int, float]:
        """Count one request; returns ``(result, count, seconds_to_window_end)``.

        ``result`` is ``allowed``, ``limited``, ``degraded`` (Redis down: allowed
        uncounted) or ``local`` (no Redis: counted in this process). ``count`` is the
        request's number in its window.
        """
        now = time.time() if now is None else now
        window = int(now // rate.window_s)
        reset_in = (window + 1) * rate.window_s - now
        counter = f"rl:{key}:{window}"
        if self._script is None:
            if len(self._local) > 100_000:  # old windows: drop them all, cheaply
                self._local.clear()
            count = self._local[counter] = self._local.get(counter, 0) + 1
            return ("limited" if count > rate.limit else "local"), count, reset_in
        reserved = self._reserved.get(counter)
        if reserved is not None:
            if reserved[0] > 0:
                reserved[0] -= 1
                reserved[1] += 1
                return "allowed", reserved[1] - 1, reset_in
            if reserved[0] < 0:  # the window is spent: no need to ask Redis again
                return "limited", reserved[1], reset_in
        if self._redis_down():
            return "degraded", 0, reset_in
        chunk = max(1, rate.limit // CHUNK_SHARE)
        try:
            total = int(
                await self._script(keys=[counter], args=[rate.window_s * 1000 + 1000, chunk])
            )
        except Exception as exc:  # unreachable, timeout: let the request through
            log.warning("rate limiter cannot reach Redis (%s); allowing", type(exc).__name__)
            return "degraded", 0, reset_in
        first = total - chunk + 1  # this reservation holds request numbers first..total
        if len(self._reserved) > 10_000:  # past windows: forget them, cheaply
            self._reserved.clear()
        # Concurrent requests may have reserved meanwhile: add to their permits, never
        # overwrite them (overwritten permits would be counted in Redis yet never used).
        reserved = self._reserved.get(counter)
        if first > rate.limit:
            if reserved is None or reserved[0] <= 0:
                self._reserved[counter] = [-1, first]
            return "limited", first, reset_in
        extra = min(total, rate.limit) - first  # the permits beyond this request's own
        if reserved is not None and reserved[0] > 0:
            reserved[0] += extra
        else:
            self._reserved[counter] = [extra, first + 1]
        return "allowed", first, reset_in


async def limited_answer(scope: Scope, send: Send, rate: Rate, route: str, reset_in: float) -> None:
    """The 429 of a request over ``rate`` on ``route``: ``Retry-After`` and a ``detail``."""
    retry_after = max(1, int(reset_in + 0.999))
    body = msgspec.json.encode(
        {
            "detail": f"rate limit of {rate} exceeded for this API key on {route}; "
            f"retry in {retry_after} s",
            "request_id": scope.get("state", {}).get("quipu.request_id"),
        }
    )
    start: HTTPResponseStartEvent = {
        "type": "http.response.start",
        "status": 429,
        "headers": [
            (b"content-type", b"application/json"),
            (b"retry-after", str(retry_after).encode()),
            (b"content-length", str(len(body)).encode()),
        ],
    }
    await send(start)
    await send({"type": "http.response.body", "body": body, "more_body": False})
