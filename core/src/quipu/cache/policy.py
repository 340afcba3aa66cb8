"""A declared cache policy made ready for the request path: key prefix, TTLs, bound metrics."""

from __future__ import annotations

from typing import Any

from quipu.cache.keys import GLOBAL, company_segment, digest
from quipu.cache.metrics import CACHE_COLLAPSED, CACHE_COMPUTE, CACHE_REQUESTS, HitWindow
from quipu.records import CachePolicy

__all__ = ["Policy"]

#: The ``(tier, result)`` pairs a lookup is counted under (``quipu_cache_requests_total``).
OUTCOMES = (
    ("l1", "hit"),
    ("l1", "miss"),
    ("redis", "hit"),
    ("redis", "miss"),
    ("redis", "error"),
    ("none", "bypass"),
)


class Policy:
    """One ``<plugin>.<name>`` policy with everything a lookup needs precomputed.

    Args:
        name: ``<plugin>.<name>``.
        policy: The declaration (TTL overrides applied).
        l1_max_ttl_s: ``[cache] l1_max_ttl_s``: L1 copies live at most this long.
        window_s: ``[cache] hit_ratio_window_s``.
    """

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
        # Pre-bound children: no labels() lookup per request.
        self.counters = {
            (tier, result): CACHE_REQUESTS.labels(self.plugin, self.local, tier, result)
            for tier, result in OUTCOMES
        }
        self.hit_l1 = self.counters["l1", "hit"]
        self.compute_time = CACHE_COMPUTE.labels(self.plugin, self.local)
        self.collapsed = CACHE_COLLAPSED.labels(self.plugin, self.local)

    def key(self, company: int | str | None, request: Any) -> str:
        """``{plugin}:{policy}:v{version}:{company}:{digest}`` of ``request``.

        Raises:
            ValueError: ``company`` is missing for a per-company policy, or not a valid id.
        """
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

    def matches(self, plugin: str | None, policy: str | None) -> bool:
        """Whether this is ``plugin``'s policy ``policy`` (None: any)."""
        return (plugin is None or self.plugin == plugin) and (
            policy is None or self.local == policy
        )
