"""Invalidation: drop entries here and in Redis, and tell the other processes over pub/sub.

Every process keeps its own L1, so removing Redis keys is not enough: the process that
invalidates publishes ``{origin, policies, company}`` on :data:`INVALIDATION_CHANNEL` and
every other process's listener drops the matching L1 entries. Each drop bumps
:attr:`Invalidator.generation`; a lookup that read Redis or started computing before the
bump does not store what it got, so nothing from before an invalidation survives it.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
from collections.abc import Awaitable, Callable, Mapping

import msgspec

from quipu.cache.keys import company_segment, glob_escape
from quipu.cache.l1 import L1
from quipu.cache.policy import Policy
from quipu.cache.redis_tier import RedisTier, is_disconnect
from quipu.cache.result import Invalidation, UnknownCachePolicy

__all__ = ["INVALIDATION_CHANNEL", "Invalidator"]

log = logging.getLogger("quipu.cache")

#: Redis channel on which invalidations reach the other processes' L1.
INVALIDATION_CHANNEL = "quipu:cache:invalidate"


class Invalidator:
    """Removes a cache's entries on demand and applies the other processes' removals.

    Args:
        policies: The cache's ready policies by ``<plugin>.<name>``.
        l1: The cache's in-process tier.
        redis: Its Redis tier, or None (then invalidation is local only).
        drain: Waits for the cache's background Redis writes.
    """

    def __init__(
        self,
        policies: Mapping[str, Policy],
        l1: L1,
        redis: RedisTier | None,
        drain: Callable[[], Awaitable[None]],
    ) -> None:
        self.policies = policies
        self.l1 = l1
        self.redis = redis
        self.drain = drain
        self.generation = 0
        """Bumped by every drop: a result obtained across one is not stored."""
        self.origin = os.urandom(8).hex()
        self._listener: asyncio.Task[None] | None = None

    def start(self) -> None:
        """Listen for other processes' invalidations (needs a running loop and Redis)."""
        if self.redis is not None and self._listener is None:
            self._listener = asyncio.get_running_loop().create_task(
                self._listen(), name="quipu-cache-invalidations"
            )

    async def stop(self) -> None:
        """Stop listening."""
        if self._listener is not None:
            self._listener.cancel()
            await asyncio.gather(self._listener, return_exceptions=True)
            self._listener = None

    def targets(self, plugin: str | None, policy: str | None) -> list[Policy]:
        """The policies matching ``plugin``/``policy`` (None: any).

        Raises:
            UnknownCachePolicy: none matches.
        """
        targets = [p for p in self.policies.values() if p.matches(plugin, policy)]
        if not targets:
            wanted = f"{plugin or '*'}.{policy or '*'}"
            raise UnknownCachePolicy(
                f"no cache policy matches {wanted}; declared: "
                f"{', '.join(sorted(self.policies)) or '-'}"
            )
        return targets

    def drop_local(self, targets: list[Policy], company: str | None) -> int:
        """Remove ``targets``' L1 entries (of ``company``); how many were removed."""
        prefixes = tuple(f"{p.plugin}:{p.local}:v" for p in targets)
        self.generation += 1  # computations in flight now will not store their result

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
        """See :meth:`quipu.cache.Cache.invalidate`."""
        targets = self.targets(plugin, policy)
        segment = None if company is None else company_segment(company)
        if segment is not None:
            targets = [p for p in targets if p.per_company]
        l1_removed = self.drop_local(targets, segment)
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
                {"origin": self.origin, "policies": [p.name for p in targets], "company": segment}
            )
            await self.redis.publish(INVALIDATION_CHANNEL, message)
        return Invalidation(
            policies=[p.name for p in targets],
            company=segment,
            redis_removed=redis_removed,
            l1_removed=l1_removed,
            redis="disabled" if self.redis is None else "ok",
        )

    def on_message(self, data: bytes) -> None:
        """Apply another process's invalidation (ours and malformed ones are ignored)."""
        try:
            message = msgspec.json.decode(data)
            if message.get("origin") == self.origin:
                return
            targets = [self.policies[n] for n in message["policies"] if n in self.policies]
            company = message.get("company")
        except (msgspec.DecodeError, AttributeError, KeyError, TypeError):
            log.warning("ignoring a malformed cache invalidation message")
            return
        if targets:
            self.drop_local(targets, company)

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
                        self.on_message(message["data"])
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
