"""Type-specific rules (domain-chile.md §2.8): exempt documents and exports."""

from typing import Final

from quipu_dte.money import ZERO
from quipu_dte.rules.context import Ctx, fmt, rule

__all__ = ["check_exempt_without_iva", "check_export_receptor", "check_should_be_exempt"]

_FOREIGN_RECEIVER = "55555555-5"
#: Affected type → the exempt type to issue instead when nothing is affected (A14).
_EXEMPT_TYPE: Final = {33: ("factura exenta", 34), 39: ("boleta exenta", 41)}
#: Exempt type → the document to issue instead when the sale is affected.
_AFFECTED_TYPE: Final = {
    34: "una factura electrónica (33)",
    41: "una boleta electrónica (39)",
}


@rule("exempt_without_iva", "DTE_EXEMPT_WITH_IVA")
def check_exempt_without_iva(ctx: Ctx) -> bool:
    """34, 41 and exports carry no MntNeto, IVA or TasaIVA (A13)."""
    if not ctx.info.exempt:
        return True  # not applicable
    t = ctx.doc.totales
    # Odoo's flat form always sends monto_neto/monto_iva, as 0 on exempt
    # invoices; a zero is harmless there, so only non-zero values are reported.
    # In XML the element itself is not allowed, zero or not.
    strict = not ctx.is_flat
    for value, field, label in (
        (t.mnt_neto, "MntNeto", "monto neto"),
        (t.iva, "IVA", "IVA"),
        (t.tasa_iva, "TasaIVA", "tasa de IVA"),
    ):
        if value is None or (value == 0 and not strict):
            continue
        ctx.add(
            "DTE_EXEMPT_WITH_IVA",
            f"Encabezado.Totales.{field}",
            f"Un documento exento ({ctx.info.name}) no lleva {label}; se declaró {fmt(value)} "
            f"y se esperaba {'ninguna' if field == 'TasaIVA' else '0'}. Si la venta está "
            f"afecta, emita {_AFFECTED_TYPE.get(ctx.tipo, 'una factura electrónica (33)')}.",
            expected="0" if field != "TasaIVA" else None,
            actual=value,
        )
    return True


@rule("should_be_exempt", "DTE_SHOULD_BE_EXEMPT")
def check_should_be_exempt(ctx: Ctx) -> bool:
    """A 33 (39) with no affected line must be issued as a 34 (41) (SII-FORMATO p.31, A14)."""
    exempt_type = _EXEMPT_TYPE.get(ctx.tipo)
    if exempt_type is None:
        return True  # not applicable
    doc, t = ctx.doc, ctx.doc.totales
    if doc.detalle:
        all_exempt = all(ln.ind_exe == 1 for ln in doc.detalle)
    elif t.mnt_exe is not None:
        all_exempt = t.mnt_exe > 0 and not (t.mnt_neto or ZERO) and not (t.iva or ZERO)
    else:
        return False
    if all_exempt:
        if doc.detalle:
            what = f"Las {len(doc.detalle)} líneas son exentas (IndExe = 1)"
        else:
            what = f"Monto exento {fmt(t.mnt_exe)} sin monto neto ni IVA"
        name, code = exempt_type
        ctx.add(
            "DTE_SHOULD_BE_EXEMPT",
            "Encabezado.IdDoc.TipoDTE",
            f"{what}: sin ninguna venta afecta, el tipo declarado {ctx.tipo} "
            f"({ctx.info.name}) no corresponde; se esperaba {name} (tipo {code}).",
            expected=str(code),
            actual=str(ctx.tipo),
        )
    return True


@rule("export_receptor", "DTE_EXPORT_RECEPTOR")
def check_export_receptor(ctx: Ctx) -> bool:
    """Export documents name the foreign receiver as 55.555.555-5 (SII-FORMATO p.15)."""
    if not ctx.info.export:
        return True  # not applicable
    if ctx.receptor_rut is None:
        return False
    if ctx.receptor_rut.canonical != _FOREIGN_RECEIVER:
        ctx.add(
            "DTE_EXPORT_RECEPTOR",
            "Encabezado.Receptor.RUTRecep",
            "En documentos de exportación el RUT del receptor extranjero es 55.555.555-5.",
            expected=_FOREIGN_RECEIVER,
            actual=ctx.receptor_rut.canonical,
        )
    return True
