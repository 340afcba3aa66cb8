"""Rules against the vendor's history: duplicate folio, unusual total."""

from decimal import Decimal

from quipu_dte.rules.context import Ctx, fmt, fmt_date, rule
from quipu_dte.rules.history import belongs_to

__all__ = ["check_duplicate", "check_unusual_total"]


@rule("duplicate_folio", "DTE_DUPLICATE_FOLIO")
def check_duplicate(ctx: Ctx) -> bool:
    """(RUTEmisor, TipoDTE, Folio) is the DTE natural key: it must not repeat (§2.7)."""
    history, folio = ctx.history, ctx.doc.id_doc.folio
    if history is None or folio is None:
        return False
    rut = ctx.emisor_rut.canonical if ctx.emisor_rut else None
    for entry in history.documents:
        if entry.folio != folio or entry.tipo_dte != ctx.tipo:
            continue
        if not belongs_to(entry, history, rut):
            continue
        when = f" el {fmt_date(entry.fecha_emision)}" if entry.fecha_emision else ""
        amount = f" por ${fmt(entry.monto_total)}" if entry.monto_total is not None else ""
        ctx.add(
            "DTE_DUPLICATE_FOLIO",
            "Encabezado.IdDoc.Folio",
            f"El folio {folio} (tipo {ctx.tipo}) de este emisor ya fue recibido{when}{amount}.",
            actual=str(folio),
        )
        break
    return True


@rule("unusual_total", "DTE_TOTAL_UNUSUAL")
def check_unusual_total(ctx: Ctx) -> bool:
    """MntTotal far above the vendor's previous totals of the same type (warning)."""
    history, total = ctx.history, ctx.doc.totales.mnt_total
    if history is None or total is None:
        return False
    rut = ctx.emisor_rut.canonical if ctx.emisor_rut else None
    previous = [
        e.monto_total
        for e in history.documents
        if e.tipo_dte == ctx.tipo
        and e.monto_total is not None
        and e.monto_total > 0
        and belongs_to(e, history, rut)
    ]
    cfg = ctx.config
    if len(previous) < cfg.min_history:
        return False
    top: Decimal = max(previous)
    if total > top * cfg.unusual_total_factor:
        ctx.add(
            "DTE_TOTAL_UNUSUAL",
            "Encabezado.Totales.MntTotal",
            f"El monto total ${fmt(total)} es más de {fmt(cfg.unusual_total_factor)} veces el "
            f"mayor documento anterior de este proveedor (${fmt(top)}, "
            f"{len(previous)} documentos).",
            expected=f"<= {top * cfg.unusual_total_factor}",
            actual=total,
        )
    return True
