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
from typing import Any, Final

import msgspec

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

__all__ = [
    "CLOSED_POLICY",
    "CURRENT_POLICY",
    "PLUGIN",
    "ResolvedIndicators",
    "build_document",
    "cache_key",
    "cached_document",
    "invalidate",
    "policy_for",
    "resolve_indicators",
    "service_of",
    "storable",
]

log = logging.getLogger("quipu.previred")

#: The plugin's entry-point name (its cache namespace and the gateway's plugin label).
PLUGIN: Final = "previred"
CLOSED_POLICY: Final = "indicators_closed"
CURRENT_POLICY: Final = "indicators_current"
SERVICE: Final = "previred"

_NO_FETCH = PreviredService(PreviredConfig(fetch_urls=()))


def service_of(state: Any) -> PreviredService:
    """The plugin's service from the platform state, or one that never fetches."""
    found = state.services.get(SERVICE) if state is not None else None
    return found if isinstance(found, PreviredService) else _NO_FETCH


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


async def build_document(
    state: Any, period: str, *, fetch: bool, force: bool = False
) -> IndicatorsDocument:
    """Answer ``period`` from the sources in order, without the cache.

    ``state`` is the platform state (``.redis``, ``.services``). ``fetch`` allows a new
    Previred fetch; ``force`` skips the stored fetch result and downloads again.

    Raises:
        PeriodError: ``period`` is not ``YYYY-MM``.
        IndicatorsNotFound: no source has the month (404).
        FetchUnavailable: the fetch could not run now (503).
        ExtractionRefused: Previred's document or its extraction was refused (502).
    """
    parse_period(period)
    redis = getattr(state, "redis", None)
    warnings: list[str] = []
    cache = state.services.get("cache") if state is not None else None
    if redis is not None and getattr(cache, "breaker_open", False):
        # The cache's breaker says Redis is down: do not wait for its timeouts here.
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
    service = service_of(state)
    if not force:
        stored, warning = await service.stored(redis, period)
        if warning:
            warnings.append(warning)
        if stored is not None:
            return fetched_document(stored, warnings)
    if not fetch:
        raise IndicatorsNotFound(
            detail=f"No hay indicadores para {period} ({period_label(period)}): no están en los "
            "valores publicados incluidos, ningún administrador los cargó y aún no se han "
            f"obtenido de Previred (GET /api/payroll/indicators/{period} los descarga)."
        )
    gateway = state.services.get("llm") if state is not None else None
    record = await service.fetch(redis=redis, gateway=gateway, period=period, force=force)
    return fetched_document(record, warnings)


def storable(doc: Any) -> bool:
    """Answers built while Redis could not be read are not cached."""
    return isinstance(doc, IndicatorsDocument) and not doc.metadata.warnings


async def cached_document(
    state: Any, period: str, *, fetch: bool, cache_control: str | None = None, scope: Any = None
) -> Any:
    """The month's answer through the platform cache: a ``CacheResult`` (see quipu.cache).

    Falls back to an uncached answer wrapped like a miss when the cache or the plugin's
    policies are not there (the previred plugin not loaded).
    """
    cache = state.services.get("cache") if state is not None else None
    policy = policy_for(period)
    if cache is None or f"{PLUGIN}.{policy}" not in cache.policy_names():
        return _Uncached(await build_document(state, period, fetch=fetch))
    view = cache.for_plugin(PLUGIN, cache_control=cache_control, scope=scope)
    return await view.get_or_compute(
        policy,
        cache_key(period, fetch=fetch),
        lambda: build_document(state, period, fetch=fetch),
    )


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


async def invalidate(state: Any) -> None:
    """Drop every cached answer of the plugin (after an admin load or a forced refetch)."""
    cache = state.services.get("cache") if state is not None else None
    if cache is None:
        return
    try:
        await cache.invalidate(plugin=PLUGIN)
    except Exception as exc:  # Redis down: L1 is cleared; Redis entries expire by TTL
        log.warning("invalidating the cached Previred answers failed: %s", exc)


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


async def resolve_indicators(app_state: Any, period: str) -> ResolvedIndicators | None:
    """The indicators of ``period`` from admin loads, shipped values or a stored fetch.

    ``app_state`` is ``quipu.state.platform_state(request)``. It never starts a Previred
    download (a slip check must stay fast; Odoo's monthly indicator cron fetches), and it
    answers ``None`` when no source has the month. Shares the route's cache entries.
    """
    try:
        result = await cached_document(app_state, period, fetch=False)
    except IndicatorsNotFound:
        return None
    return _from_raw(result.raw)
