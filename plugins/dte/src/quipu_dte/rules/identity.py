"""Document type, folio and RUT rules (domain-chile.md §1, §2.1, §2.2)."""

from typing import Final

from quipu_dte.codes import DOC_TYPES
from quipu_dte.rules.context import Ctx, rule
from quipu_dte.rut import format_rut, is_xsd_canonical, parse_rut

__all__ = ["check_doc_type", "check_folio", "check_ruts", "check_same_parties"]

_MAX_FOLIO: Final = 9_999_999_999  # positiveInteger, at most 10 digits (SII-XSD)


@rule("doc_type", "DTE_TYPE_UNKNOWN")
def check_doc_type(ctx: Ctx) -> bool:
    """TipoDTE must be an electronic document type the SII accepts."""
    if not ctx.known_type:
        known = ", ".join(str(c) for c in DOC_TYPES)
        ctx.add(
            "DTE_TYPE_UNKNOWN",
            "Encabezado.IdDoc.TipoDTE",
            f"El tipo de documento {ctx.tipo} no es un DTE válido. Tipos permitidos: {known}.",
            actual=str(ctx.tipo),
        )
    return True


@rule("folio", "DTE_FOLIO_INVALID")
def check_folio(ctx: Ctx) -> bool:
    """Folio is a positive integer of at most 10 digits."""
    folio = ctx.doc.id_doc.folio
    if folio is None:
        return False
    if not 1 <= folio <= _MAX_FOLIO:
        ctx.add(
            "DTE_FOLIO_INVALID",
            "Encabezado.IdDoc.Folio",
            f"El folio {folio} no es válido: debe ser un entero positivo de hasta 10 dígitos.",
            actual=str(folio),
        )
    return True


def _check_one(ctx: Ctx, raw: str | None, path: str, label: str) -> None:
    if raw is None:
        return
    rut = parse_rut(raw)
    if rut is None:
        ctx.add(
            "DTE_RUT_FORMAT",
            path,
            f"El RUT {label} «{raw}» no tiene formato válido; se espera cuerpo y dígito "
            "verificador, por ejemplo 76354771-K.",
            actual=raw,
        )
        return
    if not ctx.is_flat and not is_xsd_canonical(raw):
        # Inside SII XML dots or a lowercase k are schema errors (RUTType), the
        # SII rejects the whole envío; on Odoo's flat form they are harmless.
        ctx.add(
            "DTE_RUT_NOT_CANONICAL",
            path,
            f"El RUT {label} «{raw}» debe ir sin puntos, con guion y K mayúscula: {rut.canonical}.",
            expected=rut.canonical,
            actual=raw,
        )
    if not rut.dv_ok:
        ctx.add(
            "DTE_RUT_CHECK_DIGIT",
            path,
            f"El RUT {label} {format_rut(raw)} tiene dígito verificador {rut.dv}; "
            f"el correcto es {rut.expected_dv}.",
            expected=rut.expected_dv,
            actual=rut.dv,
        )
    if not rut.in_sii_range:
        ctx.add(
            "DTE_RUT_RANGE",
            path,
            f"El RUT {label} {format_rut(raw)} está fuera del rango que acepta el SII "
            "(cuerpo entre 100.000 y 99.999.999).",
            actual=rut.canonical,
        )


@rule("ruts", "DTE_RUT_FORMAT", "DTE_RUT_CHECK_DIGIT", "DTE_RUT_RANGE", "DTE_RUT_NOT_CANONICAL")
def check_ruts(ctx: Ctx) -> bool:
    """RUTEmisor, RUTRecep and RUTOtr: format, módulo-11 check digit and SII range."""
    doc = ctx.doc
    _check_one(ctx, doc.emisor.rut, "Encabezado.Emisor.RUTEmisor", "del emisor")
    _check_one(ctx, doc.receptor.rut, "Encabezado.Receptor.RUTRecep", "del receptor")
    for i, ref in enumerate(doc.referencias):
        _check_one(ctx, ref.rut_otro, f"Referencia[{i}].RUTOtr", "de la referencia (RUTOtr)")
    return doc.emisor.rut is not None


@rule("same_parties", "DTE_RUT_SAME_PARTIES")
def check_same_parties(ctx: Ctx) -> bool:
    """Emisor and receptor differ, except on guías (internal transfers)."""
    emisor, receptor = ctx.emisor_rut, ctx.receptor_rut
    if emisor is None or receptor is None:
        return False
    if emisor == receptor and ctx.tipo != 52:
        ctx.add(
            "DTE_RUT_SAME_PARTIES",
            "Encabezado.Receptor.RUTRecep",
            f"El emisor y el receptor tienen el mismo RUT ({emisor.canonical}); revise si el "
            "documento corresponde.",
            actual=emisor.canonical,
        )
    return True
