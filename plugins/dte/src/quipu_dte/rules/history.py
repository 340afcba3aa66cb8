"""Vendor history: previous documents of the same emisor, as an ERP sends them.

Odoo sends ``history`` as a list of flat dicts (original-ai-service.md §7.1):
``[{"tipo_dte": "33", "folio": "1001", "fecha_emision": "2025-09-30",
"monto_total": 119000.0, ...}]``. The original service also accepted rejection
records (``error_code``, ``message``). Both shapes, and
``{"rut_emisor": "...", "documents": [...]}``, are read by :func:`parse_history`.
"""

import statistics
from collections.abc import Mapping
from datetime import date
from decimal import Decimal
from typing import Any, Final

import msgspec

from quipu_dte.parse.coerce import Reader, is_empty
from quipu_dte.rut import canonical_rut

__all__ = [
    "MAX_HISTORY",
    "HistoryDocument",
    "VendorHistory",
    "belongs_to",
    "parse_history",
    "summarize_history",
]

MAX_HISTORY: Final = 500


class HistoryDocument(msgspec.Struct, frozen=True, kw_only=True):
    """One earlier document (or rejection record) of the vendor."""

    tipo_dte: int | None = None
    folio: int | None = None
    fecha_emision: date | None = None
    monto_total: Decimal | None = None
    monto_neto: Decimal | None = None
    monto_iva: Decimal | None = None
    monto_exento: Decimal | None = None
    #: When absent the entry is assumed to belong to the vendor being validated.
    rut_emisor: str | None = None
    #: Free ERP state, e.g. "accepted", "rejected", "draft".
    estado: str | None = None
    error_code: str | None = None
    message: str | None = None


class VendorHistory(msgspec.Struct, frozen=True, kw_only=True):
    """Previous documents of one vendor (send as JSON ``history``)."""

    rut_emisor: str | None = None
    documents: tuple[HistoryDocument, ...] = ()


def parse_history(raw: Any, *, base: str = "history") -> VendorHistory:
    """Read history from a list of dicts or ``{"rut_emisor", "documents"}``.

    ``None``/empty gives an empty history. Unknown keys are ignored; a value of
    the wrong type raises :class:`~quipu_dte.errors.DteInputError`.
    """
    if isinstance(raw, VendorHistory):
        return raw
    r = Reader(base)
    if is_empty(raw) or raw == []:
        return VendorHistory()
    rut: str | None = None
    items: Any = raw
    prefix = ""
    if isinstance(raw, Mapping):
        rut = r.text(raw.get("rut_emisor"), "rut_emisor", max_chars=20)
        items = raw.get("documents") or []
        prefix = "documents"
    entries = r.many(items, prefix, limit=MAX_HISTORY)
    docs = []
    for i, e in enumerate(entries):
        q = f"{prefix}[{i}]" if prefix else f"[{i}]"
        docs.append(
            HistoryDocument(
                tipo_dte=r.integer(e.get("tipo_dte"), f"{q}.tipo_dte"),
                folio=r.integer(e.get("folio"), f"{q}.folio"),
                fecha_emision=r.date(e.get("fecha_emision"), f"{q}.fecha_emision"),
                monto_total=r.decimal(e.get("monto_total"), f"{q}.monto_total"),
                monto_neto=r.decimal(e.get("monto_neto"), f"{q}.monto_neto"),
                monto_iva=r.decimal(e.get("monto_iva"), f"{q}.monto_iva"),
                monto_exento=r.decimal(e.get("monto_exento"), f"{q}.monto_exento"),
                rut_emisor=r.text(e.get("rut_emisor"), f"{q}.rut_emisor", max_chars=20),
                estado=r.text(e.get("estado", e.get("state")), f"{q}.estado", max_chars=50),
                error_code=r.text(e.get("error_code"), f"{q}.error_code", max_chars=100),
                message=r.text(e.get("message"), f"{q}.message", max_chars=500),
            )
        )
    r.problems = [(p.replace(f"{base}.[", f"{base}["), m) for p, m in r.problems]
    r.raise_if_failed()
    return VendorHistory(rut_emisor=rut, documents=tuple(docs))


def belongs_to(entry: HistoryDocument, history: VendorHistory, rut: str | None) -> bool:
    """True when ``entry`` is from the vendor with canonical RUT ``rut``."""
    owner = entry.rut_emisor or history.rut_emisor
    if owner is None or rut is None:
        return True
    return canonical_rut(owner) == rut


def _num(value: Decimal) -> int | str:
    """JSON-friendly amount: int when whole, else the exact string."""
    return int(value) if value == value.to_integral_value() else str(value)


def summarize_history(history: VendorHistory | None) -> dict[str, Any]:
    """Compact, JSON-ready facts about a vendor's history for the AI review.

    Returns ``{"documents", "first_date", "last_date", "by_type": {"33":
    {"count", "total_min", "total_median", "total_max", "last_date",
    "last_folio"}}, "rejections", "recent_error_codes"}``. Amounts are ints
    (whole pesos) and dates ISO strings; deterministic for a given input.
    """
    docs = history.documents if history is not None else ()
    dates = sorted(d.fecha_emision for d in docs if d.fecha_emision is not None)
    by_type: dict[str, dict[str, Any]] = {}
    for tipo in sorted({d.tipo_dte for d in docs if d.tipo_dte is not None}):
        group = [d for d in docs if d.tipo_dte == tipo]
        totals = sorted(d.monto_total for d in group if d.monto_total is not None)
        dated = [d for d in group if d.fecha_emision is not None]
        last = max(dated, key=lambda d: (d.fecha_emision, d.folio or 0)) if dated else None
        folios = [d.folio for d in group if d.folio is not None]
        by_type[str(tipo)] = {
            "count": len(group),
            "total_min": _num(totals[0]) if totals else None,
            "total_median": _num(statistics.median(totals)) if totals else None,
            "total_max": _num(totals[-1]) if totals else None,
            "last_date": last.fecha_emision.isoformat() if last and last.fecha_emision else None,
            "last_folio": (last.folio if last else None) or (max(folios) if folios else None),
        }
    rejected = [
        d
        for d in docs
        if d.error_code or (d.estado or "").lower() in {"rejected", "rechazado", "reject"}
    ]
    return {
        "documents": len(docs),
        "first_date": dates[0].isoformat() if dates else None,
        "last_date": dates[-1].isoformat() if dates else None,
        "by_type": by_type,
        "rejections": len(rejected),
        "recent_error_codes": sorted({d.error_code for d in rejected[-10:] if d.error_code}),
    }
