"""The process-wide tiered cache: L1 in memory, then Redis, then compute (once).

The lookup path lives here; its parts are next door: policies ready for the request path
(:mod:`~quipu.cache.policy`), the tiers (:mod:`~quipu.cache.l1`,
:mod:`~quipu.cache.redis_tier`), invalidation over pub/sub (:mod:`~quipu.cache.invalidation`),
what an answer is (:mod:`~quipu.cache.result`). HTTP stays outside: a request's
``Cache-Control`` arrives as a directive, ``Cache-Status`` is written from the result
(:mod:`~quipu.cache.http`), and ``Server-Timing`` by the request's view
(:mod:`~quipu.cache.request`, which :meth:`Cache.for_plugin` hands out). See
:mod:`quipu.cache` for the API plugins use.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Mapping
from functools import partial
from typing import TYPE_CHECKING, Any

import msgspec

from quipu.cache.http import NO_STORE, USE, parse_cache_control
from quipu.cache.invalidation import Invalidator
from quipu.cache.l1 import L1
from quipu.cache.metrics import CACHE_OPERATION, track, untrack
from quipu.cache.policy import Policy
from quipu.cache.redis_tier import RedisTier, pack_entry, unpack_entry
from quipu.cache.request import PluginCache
from quipu.cache.result import UNSET, CacheResult, Compute, Invalidation, UnknownCachePolicy
from quipu.config import CacheSection, RedisSection, Settings
from quipu.observability import tracing
from quipu.records import CachePolicy

if TYPE_CHECKING:
    from quipu.health import DependencyState, HealthMonitor

__all__ = ["Cache"]

log = logging.getLogger("quipu.cache")

_encode = msgspec.json.Encoder().encode
_clock = time.perf_counter
_l1_get_time = CACHE_OPERATION.labels("l1", "get")


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
        self.policies: dict[str, Policy] = {
            name: Policy(name, policy, cfg.l1_max_ttl_s, cfg.hit_ratio_window_s)
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
        self.invalidation = Invalidator(self.policies, self.l1, self.redis, self.drain)
        track(self)

    # -- lifecycle ----------------------------------------------------------------------

    def start(self) -> None:
        """Listen for other processes' invalidations (needs a running loop and Redis)."""
        self.invalidation.start()

    async def close(self) -> None:
        """Finish pending writes (bounded by the Redis timeout), stop background tasks."""
        untrack(self)
        await self.invalidation.stop()
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
        return self.redis is not None and self.redis.breaker.open

    @property
    def generation(self) -> int:
        """Bumped by every invalidation: a value obtained across one is not stored."""
        return self.invalidation.generation

    async def health_probe(self) -> Any:
        """The ``redis`` probe for the health monitor (breaker-aware)."""
        assert self.redis is not None
        return await self.redis.health_probe()

    def redis_state(self) -> DependencyState:
        """Redis's state as the breaker sees it right now (what ``/health`` shows)."""
        assert self.redis is not None
        return self.redis.state()

    def redis_failed(self, operation: str, exc: BaseException) -> None:
        """Count a Redis error met outside the cache (a plugin's own calls) against the breaker."""
        if self.redis is not None:
            self.redis.failed(operation, exc)

    # -- lookups ------------------------------------------------------------------------

    def policy_names(self) -> list[str]:
        """Every known policy, as ``<plugin>.<name>``."""
        return sorted(self.policies)

    def policy(self, name: str) -> Policy:
        """The ready policy ``<plugin>.<name>``.

        Raises:
            UnknownCachePolicy: nobody declared it.
        """
        policy = self.policies.get(name)
        if policy is None:
            raise UnknownCachePolicy(
                f"no cache policy {name!r}; declared: {', '.join(self.policy_names()) or '-'}"
            )
        return policy

    def key(self, policy: str, request: Any, company: int | str | None = None) -> str:
        """The cache key ``request`` has under ``policy`` (``<plugin>.<name>``)."""
        return self.policy(policy).key(company, request)

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
        directive: int = USE,
    ) -> CacheResult:
        """The cached value of ``key`` under ``policy`` (``<plugin>.<name>``), else compute it.

        See :meth:`PluginCache.get_or_compute <quipu.cache.PluginCache.get_or_compute>`;
        this form names the plugin in ``policy``. ``directive`` is a request's
        ``Cache-Control`` as :func:`~quipu.cache.parse_cache_control` returns it.
        """
        lookup = self.traced_lookup if tracing.ENABLED else self.lookup
        return await lookup(self.policy(policy), key, compute, company, directive)

    async def get(
        self, policy: str, key: Any, *, company: int | str | None = None
    ) -> CacheResult | None:
        """The stored value of ``key`` (L1, then Redis), or None; never computes."""
        pol = self.policy(policy)
        full = pol.key(company, key)
        entry = self.l1.get(full, _clock())
        if entry is not None:
            now = _clock()
            pol.hit_l1.inc()
            pol.window.record(now, True)
            return CacheResult(entry[0], "hit", "l1", full, entry[1] - now, stored=True)
        found = await self.peek_redis(pol, full)
        if found is None:
            return None
        return CacheResult(found[0], "hit", "redis", full, found[1], stored=True)

    async def put(
        self, policy: str, key: Any, value: Any, *, company: int | str | None = None
    ) -> bool:
        """Store ``value`` (if the policy's condition accepts it); whether it was stored."""
        pol = self.policy(policy)
        full = pol.key(company, key)
        return self._store(pol, full, _encode(value), value, self.redis is not None)

    async def traced_lookup(
        self, pol: Policy, request: Any, compute: Compute, company: Any, directive: int
    ) -> CacheResult:
        """:meth:`lookup` in a ``cache lookup`` span; the computation is its child."""
        with tracing.span("cache lookup", {"quipu.cache.policy": pol.name}) as current:
            result = await self.lookup(pol, request, compute, company, directive)
            if current is not None:
                current.set_attribute("quipu.cache.status", result.status)
                current.set_attribute("quipu.cache.tier", result.tier or "none")
                current.set_attribute("quipu.cache.collapsed", result.collapsed)
            return result

    async def lookup(
        self, pol: Policy, request: Any, compute: Compute, company: Any, directive: int
    ) -> CacheResult:
        """:meth:`get_or_compute` for a ready policy (untraced: see :meth:`traced_lookup`)."""
        full = pol.key(company, request)
        started = _clock()
        if directive:
            return await self._uncached(pol, full, compute, directive, started)
        entry = self.l1.get(full, started)
        if entry is not None:
            now = _clock()
            _l1_get_time.observe(now - started)
            pol.hit_l1.inc()
            pol.window.record(now, True)
            return CacheResult(
                entry[0], "hit", "l1", full, entry[1] - now, stored=True, elapsed=now - started
            )
        _l1_get_time.observe(_clock() - started)

        # Single-flight: the first miss computes, identical ones meanwhile wait for it.
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
            return CacheResult(
                outcome.raw, "hit", "redis", full, outcome.ttl, stored=True, elapsed=now - started
            )
        return CacheResult(
            outcome.raw,
            "miss",
            None,
            full,
            outcome.ttl,
            outcome.value,
            stored=outcome.stored,
            collapsed=collapsed,
            detail=outcome.detail,
            elapsed=now - started,
        )

    async def peek_redis(self, pol: Policy, full: str) -> tuple[bytes, float] | None:
        """``(raw, seconds left)`` from Redis, refilling L1; every outcome counted."""
        redis = self.redis
        if redis is None or redis.breaker.open:
            pol.counters[
                "l1" if redis is None else "redis", "miss" if redis is None else "error"
            ].inc()
            pol.window.record(_clock(), False)
            return None
        generation = self.invalidation.generation
        ok, data = await redis.get(full)
        found = unpack_entry(data) if ok else None
        pol.counters["redis", "hit" if found else "miss" if ok else "error"].inc()
        pol.window.record(_clock(), found is not None)
        if found is None:
            return None
        raw, remaining = found
        if generation == self.invalidation.generation:  # no invalidation since the GET
            self.l1.put(full, raw, _clock() + min(remaining, pol.l1_ttl_s))
        return found

    def _landed(self, key: str, flight: asyncio.Future[_Outcome]) -> None:
        if self._inflight.get(key) is flight:
            del self._inflight[key]
        if not flight.cancelled():
            flight.exception()  # retrieved: waiters re-raise it, nobody logs it as lost

    async def _fill(self, pol: Policy, full: str, compute: Compute) -> _Outcome:
        """Redis, else compute and store: run once per key however many wait for it."""
        invalidation = self.invalidation
        generation = invalidation.generation
        redis = self.redis
        tier, result, detail, write = "l1", "miss", "", False
        if redis is not None:
            tier = "redis"
            if redis.breaker.open:
                result, detail = "error", "redis-unavailable"
            else:
                if tracing.ENABLED:
                    with tracing.span(
                        "cache redis get", {"db.system": "redis", "db.operation.name": "GET"}
                    ):
                        ok, data = await redis.get(full)
                else:
                    ok, data = await redis.get(full)
                found = unpack_entry(data) if ok else None
                if found is not None:
                    raw, remaining = found
                    if generation == invalidation.generation:  # no invalidation since the GET
                        self.l1.put(full, raw, _clock() + min(remaining, pol.l1_ttl_s))
                    return _Outcome(raw, UNSET, "redis", "hit", True, remaining)
                if ok:
                    write = True
                else:
                    result, detail = "error", "redis-unavailable"
        started = _clock()
        value = await compute()
        pol.compute_time.observe(_clock() - started)
        raw = _encode(value)
        stored = generation == invalidation.generation and self._store(pol, full, raw, value, write)
        return _Outcome(raw, value, tier, result, stored, pol.ttl_s, detail)

    def _store(self, pol: Policy, full: str, raw: bytes, value: Any, write: bool) -> bool:
        if pol.cache_if is not None:
            try:
                if not pol.cache_if(value):
                    return False
            except Exception:
                log.exception("cache_if of policy %s raised; not storing", pol.name)
                return False
        kept = self.l1.put(full, raw, _clock() + pol.l1_ttl_s)
        if write and self.write_redis(full, raw, pol.ttl_ms):
            return True
        return kept

    def write_redis(self, full: str, raw: bytes, ttl_ms: int) -> bool:
        """Store ``raw`` in Redis in the background (a miss never waits); whether started."""
        if self.redis is None or self.redis.breaker.open:
            return False
        task = asyncio.get_running_loop().create_task(
            self.redis.set(full, pack_entry(raw, ttl_ms), ttl_ms)
        )
        self._writes.add(task)
        task.add_done_callback(self._writes.discard)
        return True

    async def _uncached(
        self, pol: Policy, full: str, compute: Compute, directive: int, started: float
    ) -> CacheResult:
        value = await compute()
        raw = _encode(value)
        pol.counters["none", "bypass"].inc()
        if directive == NO_STORE:
            return CacheResult(raw, "bypass", None, full, 0.0, value, elapsed=_clock() - started)
        write = self.redis is not None and not self.redis.breaker.open
        stored = self._store(pol, full, raw, value, write)
        elapsed = _clock() - started
        return CacheResult(
            raw, "refresh", None, full, pol.ttl_s, value, stored=stored, elapsed=elapsed
        )

    # -- invalidation and metrics -------------------------------------------------------

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
        return await self.invalidation.invalidate(plugin=plugin, policy=policy, company=company)

    def window_counts(self) -> dict[tuple[str, str], tuple[int, int]]:
        """``(plugin, policy) -> (hits, lookups)`` over the hit-ratio window."""
        now = _clock()
        return {(p.plugin, p.local): p.window.counts(now) for p in self.policies.values()}
