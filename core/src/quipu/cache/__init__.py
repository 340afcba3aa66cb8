"""Tiered cache: content-addressed L1 in memory, then Redis, then compute once.

A plugin declares its policies (``register_cache_policies`` → :class:`quipu.CachePolicy`)
and, in a handler::

    from litestar import Request, post
    from litestar.params import JSONBody
    from quipu.api import Caller, Plugin

    @post("/api/ai/validate")
    async def validate(
        request: Request, data: JSONBody[DteRequest], principal: Caller, plugin: Plugin[DteConfig]
    ) -> Response[bytes]:
        principal.require_company(data.company_id)
        result = await plugin.cache_for(request).get_or_compute(
            "validation",                       # the plugin's policy (dte.validation)
            normalise(data),                    # anything msgspec encodes
            lambda: run_validation(data),       # async () -> value, run once per miss
            company=data.company_id,            # None for scope="global" policies
        )
        return result.response()                # raw bytes + Cache-Status, no re-encoding

What happens:

- **Keys** are ``{plugin}:{policy}:v{version}:{company}:{digest}``, the digest a 128-bit
  BLAKE2b of the canonical (sorted) msgspec JSON of the request (:mod:`quipu.cache.keys`).
- **L1** (``[cache] l1_max_entries``, ``l1_max_bytes``) answers first; its copies never
  outlive their Redis entry. **Redis** is next (one GET); a Redis hit refills L1.
- **Single-flight**: concurrent identical misses in a process run ``compute`` once; the
  others wait for it (``Cache-Status: ...; collapsed``).
- **Storing** happens only if the policy's ``cache_if`` accepts the value; the Redis write
  happens in the background, so a miss never waits for it.
- **Degradation**: a Redis error or timeout is a miss (never an error response); a circuit
  breaker stops calling a dead Redis and probes it; ``/health`` says ``degraded`` and why.
- **Client control**: ``Cache-Control: no-cache`` recomputes and stores again;
  ``no-store`` computes without reading or writing.
- **Headers**: ``result.headers`` holds the RFC 9211 ``Cache-Status``, e.g.
  ``quipu; hit; ttl=712; detail=l1``, ``quipu; hit; ttl=12; detail=redis``,
  ``quipu; fwd=miss; stored; ttl=900``, ``quipu; fwd=request; stored; ttl=900``
  (no-cache), ``quipu; fwd=bypass`` (no-store); a ``Server-Timing`` ``cache`` entry is
  added to the response.

``plugin.cache_for(request).get(policy, key, company=)`` looks up without computing and
``.put(policy, key, value, company=)`` stores a value produced elsewhere (a streamed answer);
``.invalidate(policy, company=)`` removes the plugin's entries.

Admins invalidate with ``DELETE /_platform/cache?plugin=&policy=&company=``; bumping a
policy's ``version`` orphans all its entries at once. Metrics: :mod:`quipu.cache.metrics`.

Modules, each importing only those above it: :mod:`~quipu.cache.keys`,
:mod:`~quipu.cache.metrics`, :mod:`~quipu.cache.l1`, :mod:`~quipu.cache.redis_tier` (behind
:mod:`quipu.breaker`), :mod:`~quipu.cache.http` (Cache-Control, Cache-Status, responses),
:mod:`~quipu.cache.result`, :mod:`~quipu.cache.policy`, :mod:`~quipu.cache.invalidation`
(pub/sub), :mod:`~quipu.cache.request` (:class:`PluginCache`, a plugin's view),
:mod:`~quipu.cache.service` (:class:`Cache`: lookups, single-flight, stores), then the
response cache (:mod:`~quipu.cache.responses`, :mod:`~quipu.cache.serving`).
"""

from quipu.cache.http import NO_CACHE, NO_STORE, USE, parse_cache_control
from quipu.cache.keys import digest
from quipu.cache.redis_tier import RedisUnavailable
from quipu.cache.request import PluginCache
from quipu.cache.result import CacheResult, Invalidation, UnknownCachePolicy
from quipu.cache.service import Cache

__all__ = [
    "NO_CACHE",
    "NO_STORE",
    "USE",
    "Cache",
    "CacheResult",
    "Invalidation",
    "PluginCache",
    "RedisUnavailable",
    "UnknownCachePolicy",
    "digest",
    "parse_cache_control",
]
