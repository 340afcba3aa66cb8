"""Folio/CAF/TED rules (domain-chile.md §2.7, F6, F7)."""

import calendar
from datetime import date
from decimal import Decimal

from quipu_dte.rules.context import Ctx, fmt, fmt_date, rule
from quipu_dte.rut import canonical_rut

__all__ = ["add_months", "check_caf", "check_ted"]


def add_months(day: date, months: int) -> date:
    """``day`` plus ``months`` calendar months, clamped to the month's last day."""
    index = day.month - 1 + months
    year, month = day.year + index // 12, index % 12 + 1
    if year > date.max.year:
        return date.max  # absurd input dates must not crash the engine
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


@rule(
    "caf",
    "DTE_FOLIO_OUTSIDE_CAF",
    "DTE_CAF_MISMATCH",
    "DTE_CAF_EXPIRED",
    "DTE_CAF_AFTER_EMISSION",
)
def check_caf(ctx: Ctx) -> bool:
    """Folio inside CAF range, CAF of this emisor and type, not expired, not after emission."""
    caf = ctx.doc.caf
    if caf is None:
        return False
    doc, cfg = ctx.doc, ctx.config
    folio = doc.id_doc.folio
    low, high = caf.folio_desde, caf.folio_hasta
    if folio is not None and low is not None and high is not None and not low <= folio <= high:
        ctx.add(
            "DTE_FOLIO_OUTSIDE_CAF",
            "Encabezado.IdDoc.Folio",
            f"El folio {folio} está fuera del rango autorizado por el CAF ({low} a {high}).",
            expected=f"{low}..{high}",
            actual=str(folio),
        )
    emisor = ctx.emisor_rut.canonical if ctx.emisor_rut else None
    if caf.rut_emisor is not None and emisor is not None:
        caf_rut = canonical_rut(caf.rut_emisor)
        if caf_rut != emisor:
            ctx.add(
                "DTE_CAF_MISMATCH",
                "CAF.DA.RE",
                f"El CAF pertenece al RUT {caf.rut_emisor}, no al emisor {emisor}.",
                expected=emisor,
                actual=caf.rut_emisor,
            )
    if caf.tipo_dte is not None and caf.tipo_dte != ctx.tipo:
        ctx.add(
            "DTE_CAF_MISMATCH",
            "CAF.DA.TD",
            f"El CAF autoriza documentos tipo {caf.tipo_dte}, no tipo {ctx.tipo}.",
            expected=str(ctx.tipo),
            actual=str(caf.tipo_dte),
        )
    authorised, emitted = caf.fecha_autorizacion, doc.id_doc.fecha_emision
    if authorised is not None and emitted is not None:
        if emitted < authorised:
            ctx.add(
                "DTE_CAF_AFTER_EMISSION",
                "Encabezado.IdDoc.FchEmis",
                f"El documento se emitió el {fmt_date(emitted)}, antes de que se autorizara su "
                f"CAF ({fmt_date(authorised)}).",
                expected=f">= {authorised.isoformat()}",
                actual=emitted.isoformat(),
            )
        elif ctx.tipo in cfg.caf_expiry_types and authorised >= cfg.caf_expiry_since:
            expiry = add_months(authorised, cfg.caf_validity_months)
            if emitted > expiry:
                ctx.add(
                    "DTE_CAF_EXPIRED",
                    "CAF.DA.FA",
                    f"El CAF se autorizó el {fmt_date(authorised)} y venció el {fmt_date(expiry)} "
                    f"({cfg.caf_validity_months} meses); el SII rechaza documentos firmados con "
                    "un CAF vencido.",
                    expected=f"<= {expiry.isoformat()}",
                    actual=emitted.isoformat(),
                )
    return True


@rule("ted", "DTE_TED_MISMATCH")
def check_ted(ctx: Ctx) -> bool:
    """TED/DD mirrors RUTEmisor, TipoDTE, Folio, FchEmis, RUTRecep and MntTotal."""
    ted = ctx.doc.ted
    if ted is None:
        return False
    doc = ctx.doc
    pairs = [
        ("RE", canonical_rut(ted.rut_emisor), canonical_rut(doc.emisor.rut), "RUT del emisor"),
        ("TD", ted.tipo_dte, doc.tipo_dte, "tipo de documento"),
        ("F", ted.folio, doc.id_doc.folio, "folio"),
        ("FE", ted.fecha_emision, doc.id_doc.fecha_emision, "fecha de emisión"),
        (
            "RR",
            canonical_rut(ted.rut_receptor),
            canonical_rut(doc.receptor.rut),
            "RUT del receptor",
        ),
        ("MNT", ted.monto_total, doc.totales.mnt_total, "monto total"),
    ]
    for field, in_ted, in_doc, label in pairs:
        if in_ted is None or in_doc is None or in_ted == in_doc:
            continue
        shown_ted = fmt(in_ted) if isinstance(in_ted, Decimal) else str(in_ted)
        shown_doc = fmt(in_doc) if isinstance(in_doc, Decimal) else str(in_doc)
        ctx.add(
            "DTE_TED_MISMATCH",
            f"TED.DD.{field}",
            f"El timbre electrónico indica {label} {shown_ted}, "
            f"pero el documento dice {shown_doc}.",
            expected=str(in_doc),
            actual=str(in_ted),
        )
    return True
