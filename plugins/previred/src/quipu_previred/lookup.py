"""One lookup of a month's indicators, shared by the route, the payroll plugin and chat.

Sources, in order (the first that has the month answers):

1. **admin**: values an admin loaded with ``PUT`` (Redis ``previred:indicators:{period}``),
   laid key by key over the month's shipped values when there are any;
2. **published**: the values shipped with the plugin (``data/YYYY.toml``), each cited;
3. **previred_fetch**: the stored result of an earlier Previred fetch, else a new fetch
   (:mod:`quipu_previred.fetch`) when the caller allows it.

No source → :class:`~quipu_previred.errors.IndicatorsNotFound` (404): never extrapolated.

Answers go through the platform cache under ``previred.indicators_closed`` (months before
the current one, 30 days) or ``previred.indicators_current`` (the current month and
later, 1 hour), keyed by the period and the shipped data's fingerprint, so a release with
new data never serves old entries. Admin loads and forced refetches invalidate both.
"""

from __future__ import annotations

import functools
import logging
from typing import TYPE_CHECKING, Any, Final

import msgspec
from quipu.api import NotStarted, ServiceKey

from quipu_previred.clock import current_period
from quipu_previred.config import PreviredConfig
from quipu_previred.documents import (
    IndicatorsDocument,
    admin_document,
    fetched_document,
    published_document,
)
from quipu_previred.errors import IndicatorsNotFound
from quipu_previred.fetch import PreviredService
from quipu_previred.flat import from_flat
from quipu_previred.model import Indicators, Origin
from quipu_previred.periods import parse_period, period_label
from quipu_previred.published import load_published, published_fingerprint, published_month
from quipu_previred.store import AdminRecord, read_record
from quipu_previred.versions import bump_version, indicators_version

if TYPE_CHECKING:
    from litestar.connection import ASGIConnection
    from quipu.api import LlmGateway, PluginCache, PluginContext, PluginRedis

__all__ = [
    "CLOSED_POLICY",
    "CURRENT_POLICY",
    "INDICATORS",
    "PLUGIN",
    "IndicatorsLookup",
    "ResolvedIndicators",
    "cache_key",
    "policy_for",
    "storable",
]

log = logging.getLogger("quipu.previred")

#: The plugin's entry-point name (its cache namespace and the gateway's plugin label).
PLUGIN: Final = "previred"
CLOSED_POLICY: Final = "indicators_closed"
CURRENT_POLICY: Final = "indicators_current"


def policy_for(period: str) -> str:
    """``indicators_current`` for the current month and later, else ``indicators_closed``."""
    return CURRENT_POLICY if period >= current_period() else CLOSED_POLICY


def cache_key(period: str, *, fetch: bool) -> dict[str, Any]:
    """The cache key of a month's answer.

    The shipped data's fingerprint is part of it, and so is ``fetch``: a lookup that may
    not fetch (a slip check) never shares a computation in flight with one that may, so
    neither answers for the other.
    """
    return {"period": period, "data": published_fingerprint(), "fetch": fetch}


def storable(doc: Any) -> bool:
    """Answers built while Redis could not be read are not cached."""
    return isinstance(doc, IndicatorsDocument) and not doc.metadata.warnings


class IndicatorsLookup:
    """The month's indicators, for the plugin's routes and tool and for other plugins.

    The previred plugin provides one per app under :data:`INDICATORS`; payroll resolves
    slips and keys its cached answers with it. ``IndicatorsLookup(None)`` (no platform:
    a library caller, a tool outside an app) answers from the shipped values only.
    """

    def __init__(
        self,
        platform: PluginContext[PreviredConfig] | None,
        fetcher: PreviredService | None = None,
    ) -> None:
        self.platform = platform
        config = platform.config if platform is not None else None
        if not isinstance(config, PreviredConfig):
            config = PreviredConfig(fetch_urls=())
        #: The Previred fetch; the plugin's lifespan gives it its HTTP client.
        self.fetcher = fetcher or PreviredService(config)

    # -- the platform's services, when there is one ----------------------------------------

    def _redis(self) -> PluginRedis | None:
        try:
            return self.platform.redis if self.platform is not None else None
        except NotStarted:
            return None

    def _cache(self, request: ASGIConnection[Any, Any, Any, Any] | None) -> PluginCache | None:
        if self.platform is None:
            return None
        try:
            return self.platform.cache_for(request) if request else self.platform.cache
        except NotStarted:
            return None

    def _gateway(self) -> LlmGateway | None:
        try:
            return self.platform.llm if self.platform is not None else None
        except NotStarted:
            return None

    # -- answers ---------------------------------------------------------------------------

    async def build(self, period: str, *, fetch: bool, force: bool = False) -> IndicatorsDocument:
        """Answer ``period`` from the sources in order, without the cache.

        ``fetch`` allows a new Previred fetch; ``force`` skips the stored fetch result and
        downloads again.

        Raises:
            PeriodError: ``period`` is not ``YYYY-MM``.
            IndicatorsNotFound: no source has the month (404).
            FetchUnavailable: the fetch could not run now (503).
            ExtractionRefused: Previred's document or its extraction was refused (502).
        """
        parse_period(period)
        redis = self._redis()
        warnings: list[str] = []
        if redis is not None and redis.down:
            # The platform's breaker says Redis is down: do not wait for its timeouts here.
            warnings.append("Redis no disponible (circuito abierto)")
            redis = None
        admin, warning = await read_record(redis, AdminRecord, period)
        if warning:
            warnings.append(f"{warning}: no se pudieron leer valores cargados por un administrador")
        month = published_month(period)
        published = load_published(period)
        if admin is not None:
            return admin_document(admin, month, published, warnings)
        if month is not None and published is not None:
            return published_document(month, published, warnings)
        service = self.fetcher
        if not force:
            stored, warning = await service.stored(redis, period)
            if warning:
                warnings.append(warning)
            if stored is not None:
                return fetched_document(stored, warnings)
        if not fetch:
            raise IndicatorsNotFound(
                detail=f"No hay indicadores para {period} ({period_label(period)}): no están en "
                "los valores publicados incluidos, ningún administrador los cargó y aún no se han "
                f"obtenido de Previred (GET /api/payroll/indicators/{period} los descarga)."
            )
        record = await service.fetch(
            redis=redis, gateway=self._gateway(), period=period, force=force
        )
        return fetched_document(record, warnings)

    async def document(
        self,
        period: str,
        *,
        fetch: bool,
        request: ASGIConnection[Any, Any, Any, Any] | None = None,
    ) -> Any:
        """The month's answer through the platform cache: a ``CacheResult``.

        With a ``request``, its ``Cache-Control`` is honoured and the lookup shows in its
        ``Server-Timing``. Without the platform's cache the answer is computed, wrapped
        like a miss.
        """
        cache = self._cache(request)
        if cache is None:
            return _Uncached(await self.build(period, fetch=fetch))
        return await cache.get_or_compute(
            policy_for(period),
            cache_key(period, fetch=fetch),
            lambda: self.build(period, fetch=fetch),
        )

    async def invalidate(self) -> None:
        """Drop every cached answer of the plugin (after an admin load or a forced refetch)."""
        cache = self._cache(None)
        if cache is None:
            return
        try:
            await cache.invalidate()
        except Exception as exc:  # Redis down: L1 is cleared; Redis entries expire by TTL
            log.warning("invalidating the cached Previred answers failed: %s", exc)

    async def resolve(self, period: str) -> ResolvedIndicators | None:
        """The indicators of ``period`` from admin loads, shipped values or a stored fetch.

        It never starts a Previred download (a slip check must stay fast; Odoo's monthly
        indicator cron fetches), and it answers ``None`` when no source has the month.
        Shares the route's cache entries.
        """
        try:
            result = await self.document(period, fetch=False)
        except IndicatorsNotFound:
            return None
        return _from_raw(result.raw)

    async def version(self, period: str) -> str | None:
        """The version of ``period``'s indicators (bumped by every change), or None when it
        cannot be read now: key answers computed from them with it."""
        return await indicators_version(self._redis(), period)

    async def bump(self, period: str) -> None:
        """Mark ``period``'s indicators as changed (after the change is visible)."""
        await bump_version(self._redis(), period)


class _Uncached:
    """A computed answer shaped like a ``CacheResult`` miss."""

    hit = False
    status = "bypass"

    def __init__(self, doc: IndicatorsDocument) -> None:
        self.value = doc
        self.raw = msgspec.json.encode(doc)
        self.headers: dict[str, str] = {"Cache-Status": "quipu; fwd=bypass"}

    def decode(self, type: type[IndicatorsDocument]) -> IndicatorsDocument:
        return self.value


class ResolvedIndicators(msgspec.Struct, frozen=True, kw_only=True):
    """A month's indicators and where they came from (for the payroll checker)."""

    indicators: Indicators
    source: str
    period: str


_ORIGINS: Final[dict[str, Origin]] = {
    "admin": "admin",
    "published": "published",
    "previred_fetch": "llm",
}


@functools.lru_cache(maxsize=512)
def _from_raw(raw: bytes) -> ResolvedIndicators:
    doc = msgspec.json.decode(raw, type=IndicatorsDocument)
    meta = doc.metadata
    ind = from_flat(
        doc.indicators,
        period=meta.period,
        origin=_ORIGINS[meta.source],
        provisional=meta.provisional,
        strict=False,
    )
    return ResolvedIndicators(indicators=ind, source=meta.source, period=meta.period)


#: The indicators lookup the previred plugin provides to other plugins (payroll).
INDICATORS: Final = ServiceKey("previred.indicators", IndicatorsLookup)
