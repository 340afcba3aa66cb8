"""The cache as one plugin sees it (``PluginContext.cache`` and ``cache_for(request)``).

This is where a request meets the cache: the route names the plugin, the request's
``Cache-Control`` becomes a directive, and each lookup adds a ``Server-Timing`` entry.
What a view needs of the cache is the :class:`Lookups` protocol (:class:`~quipu.cache.Cache`
is one), so the cache can hand out views (``Cache.for_plugin``) without an import cycle.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Protocol

from quipu.cache.http import NO_STORE, USE
from quipu.cache.policy import Policy
from quipu.cache.result import CacheResult, Compute, Invalidation
from quipu.observability import tracing
from quipu.observability.middleware import add_timing

if TYPE_CHECKING:
    pass

__all__ = ["Lookups", "PluginCache"]


class Lookups(Protocol):
    """What a :class:`PluginCache` calls on the cache (:class:`quipu.cache.Cache`)."""

    @property
    def policies(self) -> Mapping[str, Policy]: ...

    def policy(self, name: str) -> Policy: ...

    async def lookup(
        self, pol: Policy, request: Any, compute: Compute, company: Any, directive: int
    ) -> CacheResult: ...

    async def traced_lookup(
        self, pol: Policy, request: Any, compute: Compute, company: Any, directive: int
    ) -> CacheResult: ...

    async def get(
        self, policy: str, key: Any, *, company: int | str | None = None
    ) -> CacheResult | None: ...

    async def put(
        self, policy: str, key: Any, value: Any, *, company: int | str | None = None
    ) -> bool: ...

    async def invalidate(
        self,
        *,
        plugin: str | None = None,
        policy: str | None = None,
        company: int | str | None = None,
    ) -> Invalidation: ...


class PluginCache:
    """The cache as one plugin sees it during one request.

    Get one with :func:`plugin_cache` (``plugin_cache(request)``) in a handler.

    Args:
        cache: The process's cache.
        plugin: The plugin whose policies the local names refer to.
        directive: The request's ``Cache-Control`` (:func:`~quipu.cache.parse_cache_control`).
        scope: The request's ASGI scope, for ``Server-Timing``; None outside a request.
    """

    __slots__ = ("cache", "directive", "plugin", "scope")

    def __init__(self, cache: Lookups, plugin: str, directive: int = USE, scope: Any = None):
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
        cache = self.cache
        name = f"{self.plugin}.{policy}"
        pol = cache.policies.get(name) or cache.policy(name)
        lookup = cache.traced_lookup if tracing.ENABLED else cache.lookup
        result = await lookup(pol, key, compute, company, self.directive)
        scope = self.scope
        if scope is not None:
            label: str = result.status  # l1 hit, redis hit, miss, refresh, bypass
            if label == "hit":
                label = "l1 hit" if result.tier == "l1" else "redis hit"
            add_timing(scope, "cache", result.elapsed * 1000, label)
        return result

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
