"""The Redis tier of the cache behind a circuit breaker, which also owns Redis's health.

The breaker is :class:`quipu.breaker.CircuitBreaker` (the LLM gateway's too), set to open on
consecutive failures and to stay open until this tier's own probe closes it.

Every call is made once (the client has no retries) with the ``[redis]`` timeouts; any
failure is returned as "unavailable", never raised into a request. After
``[redis] breaker_failures`` consecutive connection errors or timeouts (or one health PING
whose connection is refused) the breaker **opens**: requests stop calling Redis at all and
a background task PINGs it every ``breaker_probe_interval_s``; the first answer
**closes** the breaker. Each transition is pushed to the health monitor (``redis`` =
``down`` with the reason, then ``up``), and the breaker's own probe is the one the monitor
runs for ``redis``, so the two never disagree.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Iterable
from typing import Any

from quipu.breaker import CircuitBreaker, State
from quipu.cache.metrics import CACHE_OPERATION, REDIS_ERRORS
from quipu.health import DependencyState, HealthMonitor

__all__ = ["RedisTier", "RedisUnavailable", "is_disconnect", "pack_entry", "unpack_entry"]

log = logging.getLogger("quipu.cache")

_get_time = CACHE_OPERATION.labels("redis", "get")
_set_time = CACHE_OPERATION.labels("redis", "set")
_ping_time = CACHE_OPERATION.labels("redis", "ping")
_invalidate_time = CACHE_OPERATION.labels("redis", "invalidate")

#: Redis values are ``_FORMAT`` + expiry (unix ms, 8 bytes big-endian) + the stored bytes.
_FORMAT = 1
_HEADER = 9


def pack_entry(raw: bytes, ttl_ms: int) -> bytes:
    """``raw`` as stored in Redis: it carries its own expiry, so a reader knows its TTL
    without a second round trip."""
    expires = int(time.time() * 1000) + ttl_ms
    return _FORMAT.to_bytes(1, "big") + expires.to_bytes(8, "big") + raw


def unpack_entry(data: bytes | None) -> tuple[bytes, float] | None:
    """``(raw, seconds left)`` of a stored Redis value, or None (absent, foreign, expired)."""
    if data is None or len(data) <= _HEADER or data[0] != _FORMAT:
        return None
    remaining = int.from_bytes(data[1:_HEADER], "big") / 1000 - time.time()
    return (data[_HEADER:], remaining) if remaining > 0 else None


class RedisUnavailable(Exception):
    """Redis did not answer (or the breaker is open) for an operation that needs it."""


def _is_outage(exc: BaseException) -> bool:
    """Whether ``exc`` says Redis is unreachable or too slow (what opens the breaker)."""
    from redis import exceptions as rex

    if isinstance(exc, rex.MaxConnectionsError):
        return False  # our own pool is busy; Redis itself answers
    return isinstance(
        exc, rex.ConnectionError | rex.TimeoutError | rex.ClusterDownError | OSError | TimeoutError
    )


def is_disconnect(exc: BaseException) -> bool:
    """Whether ``exc`` says the connection to Redis is gone (refused, reset, closed), as
    opposed to a slow answer."""
    from redis import exceptions as rex

    if isinstance(exc, TimeoutError | rex.TimeoutError):
        return False
    return _is_outage(exc)


class RedisTier:
    """Cache operations on one ``redis.asyncio`` client, guarded by a circuit breaker.

    Args:
        client: The process's Redis client.
        failures: Consecutive outage errors that open the breaker.
        probe_interval_s: PING period while open.
        timeout_s: Hard ceiling of one GET, SET or PING (``[redis] socket_timeout_s``), on
            top of the client's own socket timeouts, so no lookup waits longer on Redis.
        health: Where to push ``redis`` state changes.
        kind: ``standalone``, ``sentinel`` or ``cluster`` (shown in health).
    """

    def __init__(
        self,
        client: Any,
        *,
        failures: int = 3,
        probe_interval_s: float = 1.0,
        timeout_s: float = 0.5,
        health: HealthMonitor | None = None,
        kind: str = "standalone",
    ) -> None:
        self.client = client
        self.failures = max(1, failures)
        self.probe_interval_s = probe_interval_s
        self.timeout_s = timeout_s
        self.health = health
        self.kind = kind
        self.breaker = CircuitBreaker(failures=self.failures, on_change=self._changed)
        """Open while Redis is skipped: lookups read ``breaker.open`` before every GET."""
        self._reason = ""
        self._opened_at = 0.0  # wall clock, for /health
        self._latency_ms: float | None = None
        self._recovery: asyncio.Task[None] | None = None

    # -- the request path -------------------------------------------------------------

    async def get(self, key: str) -> tuple[bool, bytes | None]:
        """``(True, value or None)``, or ``(False, None)`` when Redis failed."""
        started = time.perf_counter()
        try:
            async with asyncio.timeout(self.timeout_s):
                value = await self.client.get(key)
        except Exception as exc:
            self._failed("get", exc)
            return False, None
        _get_time.observe(time.perf_counter() - started)
        self.breaker.succeeded()
        return True, value

    async def set(self, key: str, value: bytes, ttl_ms: int) -> bool:
        """Store ``value`` for ``ttl_ms``; False when Redis failed."""
        started = time.perf_counter()
        try:
            async with asyncio.timeout(self.timeout_s):
                await self.client.set(key, value, px=ttl_ms)
        except Exception as exc:
            self._failed("set", exc)
            return False
        _set_time.observe(time.perf_counter() - started)
        self.breaker.succeeded()
        return True

    # -- administration ---------------------------------------------------------------

    async def delete_matching(self, patterns: Iterable[str], batch: int = 500) -> int:
        """UNLINK every key matching any of ``patterns`` (SCAN MATCH, never KEYS).

        Raises:
            RedisUnavailable: the breaker is open or Redis failed part-way.
        """
        if self.open:
            raise RedisUnavailable(self._reason)
        started = time.perf_counter()
        removed = 0
        try:
            for pattern in patterns:
                keys: list[Any] = []
                async for key in self.client.scan_iter(match=pattern, count=1000):
                    keys.append(key)
                    if len(keys) >= batch:
                        removed += await self.client.unlink(*keys)
                        keys = []
                if keys:
                    removed += await self.client.unlink(*keys)
        except Exception as exc:
            self._failed("invalidate", exc)
            raise RedisUnavailable(f"{type(exc).__name__}: {exc}") from exc
        _invalidate_time.observe(time.perf_counter() - started)
        return int(removed)

    async def publish(self, channel: str, message: bytes) -> bool:
        """Publish ``message``; False when Redis failed (or the breaker is open)."""
        if self.open:
            return False
        try:
            await self.client.publish(channel, message)
        except Exception as exc:
            self._failed("publish", exc)
            return False
        return True

    # -- the breaker --------------------------------------------------------------------

    @property
    def open(self) -> bool:
        """True while Redis is skipped (the breaker is open)."""
        return self.breaker.open

    def failed(self, operation: str, exc: BaseException) -> None:
        """Count an error of a Redis call made elsewhere on this client (a plugin's own)."""
        self._failed(operation, exc)

    def _failed(self, operation: str, exc: BaseException) -> None:
        REDIS_ERRORS.labels(operation, type(exc).__name__).inc()
        if not _is_outage(exc):
            log.warning("redis %s failed: %s: %s", operation, type(exc).__name__, exc)
            return
        self._failed_quietly(f"{operation} {type(exc).__name__}: {exc}")

    def _failed_quietly(self, reason: str) -> None:
        breaker = self.breaker
        count = breaker.consecutive + 1
        opens = not breaker.open and count >= self.failures
        self._reason = (f"{count} consecutive errors, last {reason}" if opens else reason)[:200]
        breaker.record(False)  # opens it at `failures` in a row

    def trip(self, reason: str) -> None:
        """Open the breaker now (no-op if open) and start probing for recovery."""
        if self.open:
            return
        self._reason = reason[:200]
        self.breaker.trip()

    def _changed(self, state: State) -> None:
        """The breaker opened or closed: log it, tell health at once, probe while open."""
        if state == "open":
            self._opened_at = time.time()
            log.warning("redis breaker open (%s): cache serves L1 and recomputes", self._reason)
            self._report()
            with contextlib.suppress(RuntimeError):  # no running loop: the next probe recovers
                self._recovery = asyncio.get_running_loop().create_task(
                    self._recover(), name="quipu-cache-redis-recovery"
                )
            return
        down_for = time.time() - self._opened_at
        self._reason = ""
        log.warning("redis breaker closed: Redis answered again after %.1f s", down_for)
        self._report()

    async def _recover(self) -> None:
        while self.open:
            await asyncio.sleep(self.probe_interval_s)
            if await self.ping() is None:
                self.breaker.close()

    async def ping(self) -> BaseException | None:
        """PING within ``timeout_s`` and record its latency: None, or what went wrong."""
        started = time.perf_counter()
        try:
            async with asyncio.timeout(self.timeout_s):
                await self.client.ping()
        except Exception as exc:
            REDIS_ERRORS.labels("ping", type(exc).__name__).inc()
            return exc
        elapsed = time.perf_counter() - started
        _ping_time.observe(elapsed)
        self._latency_ms = round(elapsed * 1000, 2)
        return None

    def state(self) -> DependencyState:
        """What ``/health`` shows for ``redis``."""
        consecutive = self.breaker.consecutive
        if not self.open and consecutive:
            return DependencyState(
                status="degraded",
                detail=(
                    f"{consecutive} consecutive errors (last {self._reason}); the cache "
                    f"breaker opens at {self.failures}"
                ),
                checked_at=time.time(),
            )
        if self.open:
            since = time.strftime("%H:%M:%SZ", time.gmtime(self._opened_at))
            return DependencyState(
                status="down",
                detail=(
                    f"cache breaker open since {since} ({self._reason}); serving from the "
                    f"in-process tier and recomputing; probing every {self.probe_interval_s:g} s"
                ),
                checked_at=time.time(),
            )
        return DependencyState(
            status="up",
            detail=f"{self.kind}; cache tiers l1+redis",
            latency_ms=self._latency_ms,
            checked_at=time.time(),
        )

    async def health_probe(self) -> DependencyState:
        """The ``redis`` probe of the health monitor (PINGs only while the breaker is closed).

        A refused or broken connection opens the breaker at once; a slow PING counts as one
        error, like a slow lookup, so one blip does not send every lookup to compute.
        """
        if self.open:
            return self.state()
        exc = await self.ping()
        if exc is None:
            self.breaker.succeeded()
        elif isinstance(exc, TimeoutError) or not _is_outage(exc):
            self._failed_quietly(f"PING {type(exc).__name__}: {exc}")
        else:
            self.trip(f"PING failed: {type(exc).__name__}: {exc}")
        return self.state()

    def _report(self) -> None:
        if self.health is not None:
            self.health.report("redis", self.state())

    async def aclose(self) -> None:
        """Stop probing."""
        task, self._recovery = self._recovery, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
