"""The answer of ``GET /api/payroll/indicators/{period}``: values plus where they came from.

The shape is the original service's (original-ai-service.md §1.3.10, §7.5)::

    {"success": true,
     "indicators": {"uf": 39179.01, "utm": 68923, ...},      # flat numbers, Odoo reads these
     "metadata": {"source": "published", "period": "2025-07", "obtained_at": "2026-11",
                  "fields_count": 71, "url": null, "size_bytes": null,
                  "provisional": [...], "sources": [{"keys": [...], "source": "..."}], ...}}

``metadata.source`` is ``admin`` (values an admin loaded, over the shipped ones key by
key), ``published`` (shipped with the plugin, each value cited) or ``previred_fetch``
(downloaded from Previred and extracted by the LLM, range-checked).
"""

from __future__ import annotations

from typing import Literal

import msgspec

from quipu_previred.flat import to_flat
from quipu_previred.keys import SCALAR_KEYS
from quipu_previred.model import AFP_NAMES, Indicators
from quipu_previred.published import PublishedMonth, published_fingerprint
from quipu_previred.store import AdminRecord, FetchedRecord, Numbers

__all__ = [
    "IndicatorsDocument",
    "IndicatorsMetadata",
    "Source",
    "SourceNote",
    "admin_document",
    "fetched_document",
    "overlay",
    "published_document",
]

Source = Literal["admin", "published", "previred_fetch"]


class SourceNote(msgspec.Struct, frozen=True):
    """The citation shared by some flat keys."""

    keys: list[str]
    source: str


class IndicatorsMetadata(msgspec.Struct, frozen=True, kw_only=True):
    """Provenance of the values (see the module docstring).

    Attributes:
        source: Where the values come from: ``admin``, ``published`` or ``previred_fetch``.
        period: The remuneration month, ``YYYY-MM``.
        obtained_at: When they were obtained: the admin load or the fetch (ISO 8601 UTC),
            or the month the shipped data was compiled (``YYYY-MM``).
        fields_count: Number of keys in ``indicators``.
        provisional: Keys carried without a month-specific source (shipped data).
        sources: Citations, grouped by source text.
        url, size_bytes, sha256, model: The Previred document and the model that read it
            (``previred_fetch`` only; ``url`` and ``size_bytes`` as the original answered).
        loaded_by, admin_keys, base_source: Who loaded admin values, which keys they set,
            and what they were laid over (``published`` or none).
        notes: Remarks of the shipped data on gaps of the year.
        warnings: Something could not be read (Redis down): such answers are not cached.
        data_version: Fingerprint of the shipped data files.
    """

    source: Source
    period: str
    obtained_at: str | None
    fields_count: int
    provisional: list[str] = []
    sources: list[SourceNote] = []
    url: str | None = None
    size_bytes: int | None = None
    sha256: str | None = None
    model: str | None = None
    loaded_by: str | None = None
    admin_keys: list[str] = []
    base_source: Literal["published"] | None = None
    notes: list[str] = []
    warnings: list[str] = []
    data_version: str | None = None


class IndicatorsDocument(msgspec.Struct, frozen=True, kw_only=True):
    """``{"success": true, "indicators": {...}, "metadata": {...}}``."""

    indicators: Numbers
    metadata: IndicatorsMetadata
    success: bool = True


def _grouped(sources: dict[str, str], skip: set[str]) -> list[SourceNote]:
    groups: dict[str, list[str]] = {}
    for key, text in sources.items():
        if key not in skip:
            groups.setdefault(text, []).append(key)
    return [SourceNote(keys, text) for text, keys in groups.items()]


def overlay(base: Indicators, top: Indicators) -> Indicators:
    """``base`` with every value ``top`` knows replaced (admin values over shipped ones).

    Scalars and AFP commissions are replaced one by one; asignación familiar brackets
    form one table, so ``top``'s brackets (when it has any) replace ``base``'s whole.
    """
    scalars = {key: getattr(top, key) for key in SCALAR_KEYS if getattr(top, key) is not None}
    rates = {rate.nombre: rate for rate in base.afp} | {rate.nombre: rate for rate in top.afp}
    top_keys = set(to_flat(top))
    return msgspec.structs.replace(
        base,
        afp=tuple(rates[name] for name in AFP_NAMES if name in rates),
        asig_fam=top.asig_fam or base.asig_fam,
        provisional=tuple(key for key in base.provisional if key not in top_keys),
        origin="admin",
        **scalars,
    )


def published_document(
    month: PublishedMonth, ind: Indicators, warnings: list[str]
) -> IndicatorsDocument:
    """The shipped values of a month, each key with its citation."""
    flat = to_flat(ind)
    return IndicatorsDocument(
        indicators=flat,
        metadata=IndicatorsMetadata(
            source="published",
            period=month.period,
            obtained_at=month.compiled,
            fields_count=len(flat),
            provisional=sorted(month.provisional),
            sources=_grouped(month.sources, set()),
            notes=list(month.notes),
            warnings=warnings,
            data_version=published_fingerprint(),
        ),
    )


def admin_document(
    record: AdminRecord, month: PublishedMonth | None, base: Indicators | None, warnings: list[str]
) -> IndicatorsDocument:
    """Admin-loaded values, laid over the month's shipped values when there are any."""
    mine = record.to_indicators()
    merged = overlay(base, mine) if base is not None else mine
    flat = to_flat(merged)
    who = f"Cargado por un administrador ({record.loaded_by}, {record.loaded_at})"
    sources = [SourceNote(list(record.keys), f"{who}: {record.source}" if record.source else who)]
    if month is not None:
        sources += _grouped(month.sources, set(record.keys))
    return IndicatorsDocument(
        indicators=flat,
        metadata=IndicatorsMetadata(
            source="admin",
            period=record.period,
            obtained_at=record.loaded_at,
            fields_count=len(flat),
            provisional=sorted(merged.provisional),
            sources=sources,
            loaded_by=record.loaded_by,
            admin_keys=list(record.keys),
            base_source="published" if base is not None else None,
            notes=[record.note] if record.note else [],
            warnings=warnings,
            data_version=published_fingerprint() if base is not None else None,
        ),
    )


def fetched_document(record: FetchedRecord, warnings: list[str]) -> IndicatorsDocument:
    """Values extracted from Previred's document for the month."""
    flat = dict(record.indicators)
    note = (
        f"Documento de Previred {record.url} ({record.size_bytes} bytes, sha256 "
        f"{record.sha256[:16]}…), extraído con {record.model} y verificado por rangos"
    )
    return IndicatorsDocument(
        indicators=flat,
        metadata=IndicatorsMetadata(
            source="previred_fetch",
            period=record.period,
            obtained_at=record.obtained_at,
            fields_count=len(flat),
            sources=[SourceNote(sorted(flat), note)],
            url=record.url,
            size_bytes=record.size_bytes,
            sha256=record.sha256,
            model=record.model,
            warnings=warnings,
        ),
    )
