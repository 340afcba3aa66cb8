"""The process-wide tiered cache: L1 in memory, then Redis, then compute (once).

See :mod:`quipu.cache` for the API plugins use.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import time
from collections.abc import Awaitable, Callable, Mapping
from functools import partial
from typing import TYPE_CHECKING, Any, Literal, TypeVar

import msgspec

from quipu.cache.keys import GLOBAL, company_segment, digest, glob_escape
from quipu.cache.l1 import L1
from quipu.cache.metrics import (
    CACHE_COLLAPSED,
    CACHE_COMPUTE,
    CACHE_OPERATION,
    CACHE_REQUESTS,
    HitWindow,
    track,
    untrack,
)
from quipu.cache.redis_tier import RedisTier, is_disconnect
from quipu.config import CacheSection, RedisSection, Settings
from quipu.observability import tracing
from quipu.observability.middleware import add_timing
from quipu.records import CachePolicy
from quipu.state import STATE_KEY

if TYPE_CHECKING:
    from litestar import Response
    from litestar.connection import ASGIConnection

    from quipu.health import DependencyState, HealthMonitor

__all__ = [
    "Cache",
    "CacheResult",
    "Invalidation",
    "PluginCache",
    "UnknownCachePolicy",
    "parse_cache_control",
    "plugin_cache",
]

log = logging.getLogger("quipu.cache")

T = TypeVar("T")
Compute = Callable[[], Awaitable[Any]]
Status = Literal["hit", "miss", "refresh", "bypass"]

#: Request ``Cache-Control`` directives, as :func:`parse_cache_control` returns them.
USE, NO_CACHE, NO_STORE = 0, 1, 2
#: Redis channel on which invalidations reach the other processes' L1.
INVALIDATION_CHANNEL = "quipu:cache:invalidate"
#: Redis values are ``_FORMAT`` + expiry (unix ms, 8 bytes big-endian) + the msgspec JSON.
_FORMAT = 1
_HEADER = 9
_UNSET: Any = object()
_encode = msgspec.json.Encoder().encode
_decode = msgspec.json.decode
_clock = time.perf_counter
_l1_get_time = CACHE_OPERATION.labels("l1", "get")


class UnknownCachePolicy(LookupError):
    """No plugin declared the cache policy asked for (a programming error)."""


class CacheResult:
    """One answer of the cache.

    Attributes:
        raw: The value as msgspec JSON bytes: return it as the response body unchanged.
        status: ``hit`` (served from a tier), ``miss`` (computed), ``refresh`` (computed
            because the request said ``Cache-Control: no-cache``; stored again) or
            ``bypass`` (``no-store``: computed, neither read nor written).
        tier: ``l1`` or ``redis`` for hits, else None.
        key: The cache key, ``{plugin}:{policy}:v{version}:{company}:{digest}``.
        headers: ``Cache-Status`` (RFC 9211) for the response.
        stored: Whether the value is (now) in the cache.
        collapsed: Whether this miss waited for an identical computation in flight.
    """

    __slots__ = ("_value", "collapsed", "headers", "key", "raw", "status", "stored", "tier")

    def __init__(
        self,
        raw: bytes,
        status: Status,
        tier: Literal["l1", "redis"] | None,
        key: str,
        headers: dict[str, str],
        value: Any = _UNSET,
        *,
        stored: bool = False,
        collapsed: bool = False,
    ) -> None:
        self.raw = raw
        self.status = status
        self.tier = tier
        self.key = key
        self.headers = headers
        self._value = value
        self.stored = stored
        self.collapsed = collapsed

    @property
    def hit(self) -> bool:
        """Whether a tier answered (nothing was computed)."""
        return self.status == "hit"

    @property
    def value(self) -> Any:
        """The value: what ``compute`` returned on a miss, else ``raw`` decoded (untyped)."""
        if self._value is _UNSET:
            self._value = _decode(self.raw)
        return self._value

    def decode(self, type: type[T]) -> T:
        """``raw`` decoded and validated as ``type``."""
        return _decode(self.raw, type=type)

    def response(
        self, status_code: int = 200, headers: Mapping[str, str] | None = None
    ) -> Response[bytes]:
        """A Litestar JSON response with ``raw`` as the body and the cache headers."""
        from litestar import Response

        merged = {**self.headers, **headers} if headers else self.headers
        return Response(
            content=self.raw,
            status_code=status_code,
            media_type="application/json",
            headers=merged,
        )

    def __repr__(self) -> str:
        return f"CacheResult({self.status}, tier={self.tier}, key={self.key!r})"


class Invalidation(msgspec.Struct, frozen=True, kw_only=True):
    """What ``DELETE /_platform/cache`` removed."""

    policies: list[str]
    company: str | None
    redis_removed: int
    l1_removed: int
    redis: Literal["ok", "disabled"]


class _Outcome:
    """What the single computation of a missing key produced, shared by its waiters."""

    __slots__ = ("detail", "raw", "result", "stored", "tier", "ttl", "value")

    def __init__(
        self,
        raw: bytes,
        value: Any,
        tier: str,
        result: str,
        stored: bool,
        ttl: float,
        detail: str = "",
    ) -> None:
        self.raw = raw
        self.value = value
        self.tier = tier
        self.result = result
        self.stored = stored
        self.ttl = ttl
        self.detail = detail


class _Policy:
    """A declared policy, ready for the request path (prefix, TTLs, bound metrics)."""

    __slots__ = (
        "cache_if",
        "collapsed",
        "compute_time",
        "counters",
        "hit_l1",
        "l1_ttl_s",
        "local",
        "name",
        "per_company",
        "plugin",
        "prefix",
        "ttl_ms",
        "ttl_s",
        "window",
    )

    def __init__(self, name: str, policy: CachePolicy, l1_max_ttl_s: float, window_s: float):
        self.name = name
        self.plugin, _, self.local = name.partition(".")
        self.prefix = f"{self.plugin}:{self.local}:v{policy.version}:"
        self.ttl_s = float(policy.ttl_s)
        self.ttl_ms = max(1, int(policy.ttl_s * 1000))
        self.l1_ttl_s = min(self.ttl_s, l1_max_ttl_s)
        self.per_company = policy.scope == "company"
        self.cache_if = policy.cache_if
        self.window = HitWindow(window_s)
        self.counters = {
            (tier, result): CACHE_REQUESTS.labels(self.plugin, self.local, tier, result)
            for tier, result in (
                ("l1", "hit"),
                ("l1", "miss"),
                ("redis", "hit"),
                ("redis", "miss"),
                ("redis", "error"),
                ("none", "bypass"),
            )
        }
        self.hit_l1 = self.counters["l1", "hit"]
        self.compute_time = CACHE_COMPUTE.labels(self.plugin, self.local)
        self.collapsed = CACHE_COLLAPSED.labels(self.plugin, self.local)

    def key(self, company: int | str | None, request: Any) -> str:
        if not self.per_company:
            return f"{self.prefix}{GLOBAL}:{digest(request)}"
        if type(company) is not int:
            if company is None:
                raise ValueError(
                    f"cache policy {self.name!r} is per company: pass company=<id> "
                    "(or declare it with scope='global')"
                )
            company = company_segment(company)
        return f"{self.prefix}{company}:{digest(request)}"


def parse_cache_control(value: str | None) -> int:
    """``USE``, ``NO_CACHE`` (recompute and store) or ``NO_STORE`` (neither read nor write)."""
    if not value:
        return USE
    names = {part.split("=", 1)[0].strip().lower() for part in value.split(",")}
    if "no-store" in names:
        return NO_STORE
    if "no-cache" in names:
        return NO_CACHE
    return USE


def _unpack(data: bytes | None) -> tuple[bytes, float] | None:
    """``(raw, seconds left)`` of a stored Redis value, or None (absent, foreign, expired)."""
    if data is None or len(data) <= _HEADER or data[0] != _FORMAT:
        return None
    remaining = int.from_bytes(data[1:_HEADER], "big") / 1000 - time.time()
    return (data[_HEADER:], remaining) if remaining > 0 else None


def _miss_status(outcome: _Outcome, collapsed: bool) -> str:
    status = "quipu; fwd=miss"
    if outcome.stored:
        status += f"; stored; ttl={int(outcome.ttl)}"
    if collapsed:
        status += "; collapsed"
    if outcome.detail:
        status += f"; detail={outcome.detail}"
    return status


class Cache:
    """L1 + Redis cache of one process, for every plugin's declared policies.

    Created by the platform lifespan and stored at ``platform_state(app).services["cache"]``.

    Args:
        policies: ``registry.cache_policies`` (``<plugin>.<name>`` → policy, TTL overrides
            applied).
        redis: The process's ``redis.asyncio`` client, or None for an L1-only cache.
        settings: ``[cache]`` and ``[redis]`` come from here.
        health: Where the Redis breaker reports ``redis``.
    """

    def __init__(
        self,
        policies: Mapping[str, CachePolicy],
        *,
        redis: Any = None,
        settings: Settings | None = None,
        health: HealthMonitor | None = None,
    ) -> None:
        cfg: CacheSection = settings.cache if settings else CacheSection()
        rcfg: RedisSection = settings.redis if settings else RedisSection()
        self.config = cfg
        self.l1 = L1(cfg.l1_max_entries, cfg.l1_max_bytes)
        self._policies = {
            name: _Policy(name, policy, cfg.l1_max_ttl_s, cfg.hit_ratio_window_s)
            for name, policy in policies.items()
        }
        self.redis: RedisTier | None = None
        if redis is not None:
            from quipu.cache.connect import redis_kind

            url = settings.secrets.redis_url if settings else None
            self.redis = RedisTier(
                redis,
                failures=rcfg.breaker_failures,
                probe_interval_s=rcfg.breaker_probe_interval_s,
                timeout_s=rcfg.socket_timeout_s,
                health=health,
                kind=redis_kind(url or ""),
            )
        self._inflight: dict[str, asyncio.Future[_Outcome]] = {}
        self._writes: set[asyncio.Task[bool]] = set()
        self._generation = 0
        self._origin = os.urandom(8).hex()
        self._listener: asyncio.Task[None] | None = None
        track(self)

    # -- lifecycle ----------------------------------------------------------------------

    def start(self) -> None:
        """Listen for other processes' invalidations (needs a running loop and Redis)."""
        if self.redis is not None and self._listener is None:
            self._listener = asyncio.get_running_loop().create_task(
                self._listen(), name="quipu-cache-invalidations"
            )

    async def close(self) -> None:
        """Finish pending writes (bounded by the Redis timeout), stop background tasks."""
        untrack(self)
        if self._listener is not None:
            self._listener.cancel()
            await asyncio.gather(self._listener, return_exceptions=True)
            self._listener = None
        await self.drain()
        if self.redis is not None:
            await self.redis.aclose()

    async def drain(self) -> None:
        """Wait until every background Redis write has finished (tests, shut-down)."""
        while self._writes:
            await asyncio.gather(*list(self._writes), return_exceptions=True)

    @property
    def breaker_open(self) -> bool:
        """Whether Redis is being skipped right now."""
        return self.redis is not None and self.redis.open

    async def health_probe(self) -> Any:
        """The ``redis`` probe for the health monitor (breaker-aware)."""
        assert self.redis is not None
        return await self.redis.health_probe()

    def redis_state(self) -> DependencyState:
        """Redis's state as the breaker sees it right now (what ``/health`` shows)."""
        assert self.redis is not None
        return self.redis.state()

    def redis_failed(self, operation: str, exc: BaseException) -> None:
        """Count a Redis error met outside the cache (chat sessions...) towards the breaker."""
        if self.redis is not None:
            self.redis.failed(operation, exc)

    # -- lookups ------------------------------------------------------------------------

    def policy_names(self) -> list[str]:
        """Every known policy, as ``<plugin>.<name>``."""
        return sorted(self._policies)

    def key(self, policy: str, request: Any, company: int | str | None = None) -> str:
        """The cache key ``request`` has under ``policy`` (``<plugin>.<name>``)."""
        return self._policy(policy).key(company, request)

    def for_plugin(
        self, plugin: str, *, cache_control: str | None = None, scope: Any = None
    ) -> PluginCache:
        """A view bound to ``plugin``, a request's ``Cache-Control`` and its ASGI scope."""
        return PluginCache(self, plugin, parse_cache_control(cache_control), scope)

    async def get_or_compute(
        self,
        policy: str,
        key: Any,
        compute: Compute,
        *,
        company: int | str | None = None,
        cache_control: str | None = None,
    ) -> CacheResult:
        """The cached value of ``key`` under ``policy`` (``<plugin>.<name>``), else compute it.

        See :meth:`PluginCache.get_or_compute`; this form names the plugin in ``policy``.
        """
        lookup = self._traced_lookup if tracing.ENABLED else self._lookup
        return await lookup(
            self._policy(policy), key, compute, company, parse_cache_control(cache_control), None
        )

    async def get(
        self, policy: str, key: Any, *, company: int | str | None = None
    ) -> CacheResult | None:
        """The stored value of ``key`` (L1, then Redis), or None; never computes."""
        pol = self._policy(policy)
        return await self._peek(pol, pol.key(company, key))

    async def put(
        self, policy: str, key: Any, value: Any, *, company: int | str | None = None
    ) -> bool:
        """Store ``value`` (if the policy's condition accepts it); whether it was stored."""
        pol = self._policy(policy)
        full = pol.key(company, key)
        return self._store(pol, full, _encode(value), value, self.redis is not None)

    def _policy(self, name: str) -> _Policy:
        policy = self._policies.get(name)
        if policy is None:
            raise UnknownCachePolicy(
                f"no cache policy {name!r}; declared: {', '.join(self.policy_names()) or '-'}"
            )
        return policy

    async def _traced_lookup(
        self,
        pol: _Policy,
        request: Any,
        compute: Compute,
        company: int | str | None,
        directive: int,
        scope: Any,
    ) -> CacheResult:
        """:meth:`_lookup` in a ``cache lookup`` span; the computation is its child."""
        with tracing.span("cache lookup", {"quipu.cache.policy": pol.name}) as current:
            result = await self._lookup(pol, request, compute, company, directive, scope)
            if current is not None:
                current.set_attribute("quipu.cache.status", result.status)
                current.set_attribute("quipu.cache.tier", result.tier or "none")
                current.set_attribute("quipu.cache.collapsed", result.collapsed)
            return result

    async def _lookup(
        self,
        pol: _Policy,
        request: Any,
        compute: Compute,
        company: int | str | None,
        directive: int,
        scope: Any,
    ) -> CacheResult:
        full = pol.key(company, request)
        started = _clock()
        if directive:
            return await self._uncached(pol, full, compute, directive, scope, started)
        entry = self.l1.get(full, started)
        if entry is not None:
            now = _clock()
            _l1_get_time.observe(now - started)
            pol.hit_l1.inc()
            pol.window.record(now, True)
            if scope is not None:
                add_timing(scope, "cache", (now - started) * 1000, "l1 hit")
            return CacheResult(
                entry[0],
                "hit",
                "l1",
                full,
                {"Cache-Status": f"quipu; hit; ttl={int(entry[1] - now)}; detail=l1"},
                stored=True,
            )
        _l1_get_time.observe(_clock() - started)

        flight = self._inflight.get(full)
        collapsed = flight is not None
        if flight is None:
            flight = asyncio.get_running_loop().create_task(self._fill(pol, full, compute))
            self._inflight[full] = flight
            flight.add_done_callback(partial(self._landed, full))
        else:
            pol.collapsed.inc()
        outcome = await asyncio.shield(flight)

        now = _clock()
        hit = outcome.result == "hit"
        pol.counters[outcome.tier, outcome.result].inc()
        pol.window.record(now, hit)
        if hit:
            if scope is not None:
                add_timing(scope, "cache", (now - started) * 1000, "redis hit")
            return CacheResult(
                outcome.raw,
                "hit",
                "redis",
                full,
                {"Cache-Status": f"quipu; hit; ttl={int(outcome.ttl)}; detail=redis"},
                stored=True,
            )
        if scope is not None:
            add_timing(scope, "cache", (now - started) * 1000, "miss")
        return CacheResult(
            outcome.raw,
            "miss",
            None,
            full,
            {"Cache-Status": _miss_status(outcome, collapsed)},
            outcome.value,
            stored=outcome.stored,
            collapsed=collapsed,
        )

    async def _peek(self, pol: _Policy, full: str) -> CacheResult | None:
        started = _clock()
        entry = self.l1.get(full, started)
        if entry is not None:
            now = _clock()
            pol.hit_l1.inc()
            pol.window.record(now, True)
            status = f"quipu; hit; ttl={int(entry[1] - now)}; detail=l1"
            return CacheResult(entry[0], "hit", "l1", full, {"Cache-Status": status}, stored=True)
        found = await self._peek_redis(pol, full)
        if found is None:
            return None
        raw, remaining = found
        status = f"quipu; hit; ttl={int(remaining)}; detail=redis"
        return CacheResult(raw, "hit", "redis", full, {"Cache-Status": status}, stored=True)

    async def _peek_redis(self, pol: _Policy, full: str) -> tuple[bytes, float] | None:
        """``(raw, seconds left)`` from Redis, refilling L1; every outcome counted."""
        redis = self.redis
        if redis is None or redis.open:
            pol.counters[
                "l1" if redis is None else "redis", "miss" if redis is None else "error"
            ].inc()
            pol.window.record(_clock(), False)
            return None
        generation = self._generation
        ok, data = await redis.get(full)
        found = _unpack(data) if ok else None
        pol.counters["redis", "hit" if found else "miss" if ok else "error"].inc()
        pol.window.record(_clock(), found is not None)
        if found is None:
            return None
        raw, remaining = found
        if generation == self._generation:  # no invalidation since the GET
            self.l1.put(full, raw, _clock() + min(remaining, pol.l1_ttl_s))
        return found

    def _landed(self, key: str, flight: asyncio.Future[_Outcome]) -> None:
        if self._inflight.get(key) is flight:
            del self._inflight[key]
        if not flight.cancelled():
            flight.exception()  # retrieved: waiters re-raise it, nobody logs it as lost

    async def _fill(self, pol: _Policy, full: str, compute: Compute) -> _Outcome:
        """Redis, else compute and store: run once per key however many wait for it."""
        generation = self._generation
        redis = self.redis
        tier, result, detail, write = "l1", "miss", "", False
        if redis is not None:
            tier = "redis"
            if redis.open:
                result, detail = "error", "redis-unavailable"
            else:
                if tracing.ENABLED:
                    with tracing.span(
                        "cache redis get", {"db.system": "redis", "db.operation.name": "GET"}
                    ):
                        ok, data = await redis.get(full)
                else:
                    ok, data = await redis.get(full)
                found = _unpack(data) if ok else None
                if found is not None:
                    raw, remaining = found
                    if generation == self._generation:  # no invalidation since the GET
                        self.l1.put(full, raw, _clock() + min(remaining, pol.l1_ttl_s))
                    return _Outcome(raw, _UNSET, "redis", "hit", True, remaining)
                if ok:
                    write = True
                else:
                    result, detail = "error", "redis-unavailable"
        started = _clock()
        value = await compute()
        pol.compute_time.observe(_clock() - started)
        raw = _encode(value)
        stored = generation == self._generation and self._store(pol, full, raw, value, write)
        return _Outcome(raw, value, tier, result, stored, pol.ttl_s, detail)

    def _store(self, pol: _Policy, full: str, raw: bytes, value: Any, write: bool) -> bool:
        if pol.cache_if is not None:
            try:
                if not pol.cache_if(value):
                    return False
            except Exception:
                log.exception("cache_if of policy %s raised; not storing", pol.name)
                return False
        kept = self.l1.put(full, raw, _clock() + pol.l1_ttl_s)
        if write and self._write_redis(full, raw, pol.ttl_ms):
            return True
        return kept

    def _write_redis(self, full: str, raw: bytes, ttl_ms: int) -> bool:
        """Store ``raw`` in Redis in the background (a miss never waits); whether started."""
        if self.redis is None or self.redis.open:
            return False
        expires = int(time.time() * 1000) + ttl_ms
        data = _FORMAT.to_bytes(1, "big") + expires.to_bytes(8, "big") + raw
        task = asyncio.get_running_loop().create_task(self.redis.set(full, data, ttl_ms))
        self._writes.add(task)
        task.add_done_callback(self._writes.discard)
        return True

    async def _uncached(
        self, pol: _Policy, full: str, compute: Compute, directive: int, scope: Any, started: float
    ) -> CacheResult:
        value = await compute()
        raw = _encode(value)
        pol.counters["none", "bypass"].inc()
        if directive == NO_STORE:
            status, stored = "quipu; fwd=bypass", False
            kind: Status = "bypass"
        else:
            write = self.redis is not None and not self.redis.open
            stored = self._store(pol, full, raw, value, write)
            status = (
                f"quipu; fwd=request; stored; ttl={int(pol.ttl_s)}"
                if stored
                else ("quipu; fwd=request")
            )
            kind = "refresh"
        if scope is not None:
            add_timing(scope, "cache", (_clock() - started) * 1000, kind)
        return CacheResult(raw, kind, None, full, {"Cache-Status": status}, value, stored=stored)

    # -- invalidation -------------------------------------------------------------------

    def _targets(self, plugin: str | None, policy: str | None) -> list[_Policy]:
        targets = [
            p
            for p in self._policies.values()
            if (plugin is None or p.plugin == plugin) and (policy is None or p.local == policy)
        ]
        if not targets:
            wanted = f"{plugin or '*'}.{policy or '*'}"
            raise UnknownCachePolicy(
                f"no cache policy matches {wanted}; declared: "
                f"{', '.join(self.policy_names()) or '-'}"
            )
        return targets

    def _drop_local(self, targets: list[_Policy], company: str | None) -> int:
        prefixes = tuple(f"{p.plugin}:{p.local}:v" for p in targets)
        self._generation += 1  # computations in flight now will not store their result

        def doomed(key: str) -> bool:
            if not key.startswith(prefixes):
                return False
            return company is None or key.split(":", 4)[3] == company

        return self.l1.remove_where(doomed)

    async def invalidate(
        self,
        *,
        plugin: str | None = None,
        policy: str | None = None,
        company: int | str | None = None,
    ) -> Invalidation:
        """Remove entries of the matching policies (every version), optionally of one company.

        Clears this process's L1, deletes the Redis keys (SCAN MATCH + UNLINK) and tells the
        other processes to clear their L1. Global policies are left alone when ``company``
        is given.

        Raises:
            UnknownCachePolicy: no declared policy matches ``plugin``/``policy``.
            RedisUnavailable: Redis failed; L1 was cleared but Redis entries may remain.
        """
        targets = self._targets(plugin, policy)
        segment = None if company is None else company_segment(company)
        if segment is not None:
            targets = [p for p in targets if p.per_company]
        l1_removed = self._drop_local(targets, segment)
        redis_removed = 0
        if self.redis is not None and targets:
            # A write still on its way would land after the SCAN and outlive the invalidation.
            await self.drain()
            pattern_company = "*" if segment is None else glob_escape(segment)
            # Every version of the policy: old versions are unreachable but still use memory.
            redis_removed = await self.redis.delete_matching(
                f"{p.plugin}:{p.local}:v*:{pattern_company}:*" for p in targets
            )
            message = msgspec.json.encode(
                {"origin": self._origin, "policies": [p.name for p in targets], "company": segment}
            )
            await self.redis.publish(INVALIDATION_CHANNEL, message)
        return Invalidation(
            policies=[p.name for p in targets],
            company=segment,
            redis_removed=redis_removed,
            l1_removed=l1_removed,
            redis="disabled" if self.redis is None else "ok",
        )

    def _on_invalidation(self, data: bytes) -> None:
        try:
            message = msgspec.json.decode(data)
            if message.get("origin") == self._origin:
                return
            targets = [self._policies[n] for n in message["policies"] if n in self._policies]
            company = message.get("company")
        except (msgspec.DecodeError, AttributeError, KeyError, TypeError):
            log.warning("ignoring a malformed cache invalidation message")
            return
        if targets:
            self._drop_local(targets, company)

    async def _listen(self) -> None:
        assert self.redis is not None
        tier = self.redis
        while True:
            if tier.open:
                await asyncio.sleep(tier.probe_interval_s)
                continue
            pubsub = None
            try:
                pubsub = tier.client.pubsub()
                await pubsub.subscribe(INVALIDATION_CHANNEL)
                while True:
                    message = await pubsub.get_message(ignore_subscribe_messages=True, timeout=1.0)
                    if message is not None and message.get("type") == "message":
                        self._on_invalidation(message["data"])
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                log.debug("invalidation listener: %s: %s", type(exc).__name__, exc)
                # The subscription is the one connection always open: when Redis dies it
                # breaks at once, so probe now rather than at the next health round. (A
                # timeout is a slow Redis: the request path's own timeouts deal with it.)
                if is_disconnect(exc):
                    with contextlib.suppress(Exception):
                        await tier.health_probe()
                await asyncio.sleep(tier.probe_interval_s)
            finally:
                if pubsub is not None:
                    try:
                        await pubsub.aclose()
                    except Exception:  # the connection is already gone
                        log.debug("closing the invalidation subscription failed")

    # -- metrics ------------------------------------------------------------------------

    def window_counts(self) -> dict[tuple[str, str], tuple[int, int]]:
        """``(plugin, policy) -> (hits, lookups)`` over the hit-ratio window."""
        now = _clock()
        return {(p.plugin, p.local): p.window.counts(now) for p in self._policies.values()}


class PluginCache:
    """The cache as one plugin sees it during one request.

    Get one with :func:`plugin_cache` (``plugin_cache(request)``) in a handler.
    """

    __slots__ = ("cache", "directive", "plugin", "scope")

    def __init__(self, cache: Cache, plugin: str, directive: int = USE, scope: Any = None):
        self.cache = cache
        self.plugin = plugin
        self.directive = directive
        self.scope = scope

    async def get_or_compute(
        self,
        policy: str,
        key: Any,
        compute: Compute,
        *,
        company: int | str | None = None,
    ) -> CacheResult:
        """The cached value of ``key`` under the plugin's ``policy``, else ``await compute()``.

        Args:
            policy: The local name of a policy the plugin declared (``validation``).
            key: The normalised request, anything msgspec encodes; equal keys share an entry.
            compute: ``async () -> value``; called at most once per process for concurrent
                identical misses. Its value must be msgspec-encodable; it is stored only if
                the policy's ``cache_if`` accepts it.
            company: The company the answer belongs to (``scope="company"`` policies);
                None for ``scope="global"`` policies.

        Returns:
            A :class:`CacheResult`; send ``result.response()`` (or ``result.raw`` with
            ``result.headers``).

        Raises:
            UnknownCachePolicy: the plugin declared no such policy.
            ValueError: ``company`` missing for a per-company policy, or not a valid id.
            Exception: whatever ``compute`` raised (nothing is stored).

        Redis errors never raise: they count as misses.
        """
        pol = self.cache._policies.get(f"{self.plugin}.{policy}")
        if pol is None:
            pol = self.cache._policy(f"{self.plugin}.{policy}")
        lookup = self.cache._traced_lookup if tracing.ENABLED else self.cache._lookup
        return await lookup(pol, key, compute, company, self.directive, self.scope)

    async def get(
        self, policy: str, key: Any, *, company: int | str | None = None
    ) -> CacheResult | None:
        """The stored value of ``key`` under ``policy`` (L1, then Redis), or None.

        Never computes and ignores ``Cache-Control``: for callers that produce the value
        elsewhere (a streamed answer) and :meth:`put` it when done.
        """
        return await self.cache.get(f"{self.plugin}.{policy}", key, company=company)

    async def put(
        self, policy: str, key: Any, value: Any, *, company: int | str | None = None
    ) -> bool:
        """Store ``value`` under ``key`` if ``policy``'s condition accepts it (unless the
        request said ``Cache-Control: no-store``); whether it was stored."""
        if self.directive == NO_STORE:
            return False
        return await self.cache.put(f"{self.plugin}.{policy}", key, value, company=company)

    async def invalidate(
        self, policy: str | None = None, *, company: int | str | None = None
    ) -> Invalidation:
        """Remove this plugin's entries (of ``policy``, of ``company``); see Cache.invalidate."""
        return await self.cache.invalidate(plugin=self.plugin, policy=policy, company=company)


def plugin_cache(request: ASGIConnection[Any, Any, Any, Any]) -> PluginCache:
    """The cache bound to the plugin serving ``request`` and to its ``Cache-Control``.

    Raises:
        RuntimeError: the route does not belong to a plugin, or the cache is not set up
            (the platform lifespan did not run).
    """
    scope = request.scope
    plugin = scope["route_handler"].opt.get("plugin")
    if plugin is None:
        raise RuntimeError("plugin_cache() needs a route registered by a plugin")
    cache = scope["litestar_app"].state[STATE_KEY].services.get("cache")
    if cache is None:
        raise RuntimeError("the cache is not set up: the platform lifespan has not run")
    control = None
    for name, value in scope["headers"]:
        if name == b"cache-control":
            control = value.decode("latin-1")
            break
    return PluginCache(cache, plugin, parse_cache_control(control), scope)
