"""Date rules F1–F5 (domain-chile.md §2.6)."""

from datetime import date, timedelta
from typing import Final

from quipu_dte.rules.context import Ctx, fmt_date, rule

__all__ = ["check_date_ranges", "check_due_date", "check_emission_date", "check_period"]

#: FchEmis range in SII-FORMATO p.11 (F1).
_EMISSION_RANGE: Final = (date(2003, 4, 1), date(2050, 12, 31))
#: FchVenc, FchCancel, FchRef range (F2, R7).
_OTHER_RANGE: Final = (date(2002, 8, 1), date(2050, 12, 31))


@rule("emission_date", "DTE_DATE_FUTURE", "DTE_DATE_OLD")
def check_emission_date(ctx: Ctx) -> bool:
    """FchEmis not after today in Chile (F3); warn when older than the configured days (F5)."""
    emitted = ctx.doc.id_doc.fecha_emision
    if emitted is None:
        return False
    cfg = ctx.config
    try:
        latest = ctx.today + timedelta(days=cfg.future_tolerance_days)
    except OverflowError:
        latest = date.max
    if emitted > latest:
        ctx.add(
            "DTE_DATE_FUTURE",
            "Encabezado.IdDoc.FchEmis",
            f"La fecha de emisión {fmt_date(emitted)} es posterior a hoy ({fmt_date(ctx.today)}).",
            expected=f"<= {latest.isoformat()}",
            actual=emitted.isoformat(),
        )
    elif (ctx.today - emitted).days > cfg.old_document_days:
        ctx.add(
            "DTE_DATE_OLD",
            "Encabezado.IdDoc.FchEmis",
            f"La fecha de emisión {fmt_date(emitted)} tiene {(ctx.today - emitted).days} días de "
            f"antigüedad (más de {cfg.old_document_days}); verifique que el documento corresponda "
            "al período.",
            actual=emitted.isoformat(),
        )
    return True


def _range(ctx: Ctx, value: date | None, bounds: tuple[date, date], path: str, label: str) -> None:
    low, high = bounds
    if value is not None and not low <= value <= high:
        ctx.add(
            "DTE_DATE_RANGE",
            path,
            f"{label} {fmt_date(value)} está fuera del rango aceptado por el SII "
            f"({fmt_date(low)} a {fmt_date(high)}).",
            expected=f"{low.isoformat()}..{high.isoformat()}",
            actual=value.isoformat(),
        )


@rule("date_ranges", "DTE_DATE_RANGE")
def check_date_ranges(ctx: Ctx) -> bool:
    """FchEmis in 2003-04-01..2050-12-31; FchVenc, FchCancel, FchRef in 2002-08-01..2050-12-31."""
    idd = ctx.doc.id_doc
    _range(
        ctx, idd.fecha_emision, _EMISSION_RANGE, "Encabezado.IdDoc.FchEmis", "La fecha de emisión"
    )
    _range(
        ctx,
        idd.fecha_vencimiento,
        _OTHER_RANGE,
        "Encabezado.IdDoc.FchVenc",
        "La fecha de vencimiento",
    )
    _range(
        ctx,
        idd.fecha_cancelacion,
        _OTHER_RANGE,
        "Encabezado.IdDoc.FchCancel",
        "La fecha de cancelación",
    )
    for i, ref in enumerate(ctx.doc.referencias):
        _range(
            ctx,
            ref.fecha_ref,
            _OTHER_RANGE,
            f"Referencia[{i}].FchRef",
            "La fecha del documento referenciado",
        )
    return idd.fecha_emision is not None


@rule("due_date", "DTE_DUE_BEFORE_EMISSION")
def check_due_date(ctx: Ctx) -> bool:
    """FchVenc not before FchEmis (F4, service policy)."""
    idd = ctx.doc.id_doc
    if idd.fecha_emision is None:
        return False
    if idd.fecha_vencimiento is None:
        return ctx.absence_known
    if idd.fecha_vencimiento < idd.fecha_emision:
        ctx.add(
            "DTE_DUE_BEFORE_EMISSION",
            "Encabezado.IdDoc.FchVenc",
            f"La fecha de vencimiento {fmt_date(idd.fecha_vencimiento)} es anterior a la emisión "
            f"({fmt_date(idd.fecha_emision)}).",
            expected=f">= {idd.fecha_emision.isoformat()}",
            actual=idd.fecha_vencimiento.isoformat(),
        )
    return True


@rule("period", "DTE_PERIOD_INVALID")
def check_period(ctx: Ctx) -> bool:
    """PeriodoDesde ≤ PeriodoHasta (F2)."""
    idd = ctx.doc.id_doc
    if idd.periodo_desde is None or idd.periodo_hasta is None:
        return ctx.absence_known
    if idd.periodo_desde > idd.periodo_hasta:
        ctx.add(
            "DTE_PERIOD_INVALID",
            "Encabezado.IdDoc.PeriodoDesde",
            f"El período facturado comienza ({fmt_date(idd.periodo_desde)}) después de terminar "
            f"({fmt_date(idd.periodo_hasta)}).",
            actual=idd.periodo_desde.isoformat(),
        )
    return True
