"""Presence rules: required fields, recommended fields, zones not allowed for the type.

Obligatoriedad from SII-FORMATO (p.9–11) and DTE_v10.xsd cardinalities as
summarised in domain-chile.md §2.2.
"""

from typing import Final

from quipu_dte.money import ZERO
from quipu_dte.rules.context import Ctx, rule

__all__ = ["check_not_allowed", "check_recommended", "check_required"]

_T: Final = "Encabezado.Totales"
_TRASLADO: Final = (
    "el indicador de traslado; se esperaba un código de 1 a 9: 1 si la guía constituye "
    "venta, 2 ventas por efectuar, 3 consignación, 4 entrega gratuita, 5 traslado interno, "
    "6 otros traslados, 7 devolución, 8 traslado para exportación o 9 venta para exportación"
)


def _missing(ctx: Ctx, path: str, label: str) -> None:
    ctx.add(
        "DTE_REQUIRED_FIELD",
        path,
        f"Falta {label} ({path.rpartition('.')[2]}), obligatorio para "
        f"{ctx.info.name if ctx.known_type else 'este tipo de documento'}.",
    )


@rule("required_fields", "DTE_REQUIRED_FIELD")
def check_required(ctx: Ctx) -> bool:
    """Fields whose absence makes the SII reject the DTE, by type and input form."""
    doc, info = ctx.doc, ctx.info
    idd, em, rc, t = doc.id_doc, doc.emisor, doc.receptor, doc.totales
    need = [
        (idd.folio is None, "Encabezado.IdDoc.Folio", "el folio"),
        (idd.fecha_emision is None, "Encabezado.IdDoc.FchEmis", "la fecha de emisión"),
        (em.rut is None, "Encabezado.Emisor.RUTEmisor", "el RUT del emisor"),
        (t.mnt_total is None, f"{_T}.MntTotal", "el monto total"),
    ]
    if not ctx.is_flat:
        need += [
            (em.razon_social is None, "Encabezado.Emisor.RznSoc", "la razón social del emisor"),
            (em.giro is None, "Encabezado.Emisor.GiroEmis", "el giro del emisor"),
            (not doc.detalle, "Detalle", "al menos una línea de detalle"),
        ]
        if info.boleta:
            need.append(
                (
                    idd.ind_servicio is None,
                    "Encabezado.IdDoc.IndServicio",
                    "el indicador de servicio",
                )
            )
        else:
            need += [
                (not em.acteco, "Encabezado.Emisor.Acteco", "el código de actividad económica"),
                (rc.rut is None, "Encabezado.Receptor.RUTRecep", "el RUT del receptor"),
                (
                    rc.razon_social is None,
                    "Encabezado.Receptor.RznSocRecep",
                    "la razón social del receptor",
                ),
            ]
        if ctx.tipo == 52 and idd.ind_traslado in (8, 9):
            need.append(
                (
                    em.cdg_traslado is None,
                    "Encabezado.Emisor.GuiaExport.CdgTraslado",
                    "el código de traslado de exportación",
                )
            )
        if em.cdg_traslado == 4:
            need += [
                (
                    em.folio_aut is None,
                    "Encabezado.Emisor.GuiaExport.FolioAut",
                    "el folio de autorización",
                ),
                (
                    em.fecha_aut is None,
                    "Encabezado.Emisor.GuiaExport.FchAut",
                    "la fecha de autorización",
                ),
            ]
        if info.export:
            need.append(
                (
                    doc.otra_moneda is None,
                    "Encabezado.OtraMoneda",
                    "la zona OtraMoneda (montos en pesos)",
                )
            )
        # Repeated zones: only the missing fields are listed, so a 60-line document does
        # not build ~200 paths to report none (41 → 5 µs, issue 12). Order is unchanged.
        for i, ln in enumerate(doc.detalle):
            if ln.nro_lin_det is None:
                need.append((True, f"Detalle[{i}].NroLinDet", "el número de línea"))
            if ln.nombre is None:
                need.append((True, f"Detalle[{i}].NmbItem", "el nombre del ítem"))
            if ln.monto_item is None:
                need.append((True, f"Detalle[{i}].MontoItem", "el monto del ítem"))
        for i, ref in enumerate(doc.referencias):
            if ref.tipo_doc_ref is None:
                need.append(
                    (True, f"Referencia[{i}].TpoDocRef", "el tipo de documento referenciado")
                )
            if ref.folio_ref is None:
                need.append(
                    (True, f"Referencia[{i}].FolioRef", "el folio del documento referenciado")
                )
            if ref.fecha_ref is None:
                need.append(
                    (True, f"Referencia[{i}].FchRef", "la fecha del documento referenciado")
                )
        for i, dr in enumerate(doc.dsc_rcg_global):
            if dr.tipo_mov is None:
                need.append((True, f"DscRcgGlobal[{i}].TpoMov", "el tipo de movimiento (D/R)"))
            if dr.tipo_valor is None:
                need.append((True, f"DscRcgGlobal[{i}].TpoValor", "el tipo de valor (%/$)"))
            if dr.valor is None:
                need.append((True, f"DscRcgGlobal[{i}].ValorDR", "el valor"))
        for i, tax in enumerate(t.impto_reten):
            if tax.tipo_imp is None:
                need.append((True, f"{_T}.ImptoReten[{i}].TipoImp", "el código de impuesto"))
            if tax.monto_imp is None:
                need.append((True, f"{_T}.ImptoReten[{i}].MontoImp", "el monto del impuesto"))
    if ctx.tipo == 52:
        # Obligatoriedad 1 for guías in both forms (SII-FORMATO p.11): without it the
        # guía's amounts cannot be judged (only IndTraslado 1 is a sale, A3).
        need.append((idd.ind_traslado is None, "Encabezado.IdDoc.IndTraslado", _TRASLADO))
    if ctx.known_type and not info.exempt and not info.boleta:
        arith = ctx.arithmetic
        # Based on the declared line amounts: a guía valued at 0 needs no IVA.
        affected = (t.mnt_neto or ZERO) != 0 or (arith.has_lines and arith.neto_decl != 0)
        if affected:
            if arith.has_lines:
                need.append((t.mnt_neto is None, f"{_T}.MntNeto", "el monto neto"))
            need.append((t.iva is None, f"{_T}.IVA", "el IVA"))
            if not ctx.is_flat:
                need.append((t.tasa_iva is None, f"{_T}.TasaIVA", "la tasa de IVA"))
    if ctx.known_type and not info.boleta and ctx.arithmetic.has_lines:
        need.append(
            (t.mnt_exe is None and ctx.arithmetic.exe_decl != 0, f"{_T}.MntExe", "el monto exento")
        )
    for missing, path, label in need:
        if missing:
            _missing(ctx, path, label)
    return True


@rule("recommended_fields", "DTE_RECOMMENDED_FIELD")
def check_recommended(ctx: Ctx) -> bool:
    """FmaPago: optional in the XSD but expected on 33, 34 and 43 (SII assumes crédito)."""
    if ctx.is_flat:
        return False
    if ctx.tipo in {33, 34, 43} and ctx.doc.id_doc.fma_pago is None:
        ctx.add(
            "DTE_RECOMMENDED_FIELD",
            "Encabezado.IdDoc.FmaPago",
            "Falta la forma de pago (FmaPago); si se omite el SII asume crédito (2).",
        )
    return True


@rule("not_allowed", "DTE_FIELD_NOT_ALLOWED")
def check_not_allowed(ctx: Ctx) -> bool:
    """Zones with obligatoriedad 0 for the type (DscRcgGlobal, IndNoRebaja, CredEC, Comisiones)."""
    doc, info = ctx.doc, ctx.info
    if not ctx.known_type:
        return False
    name = info.name
    checks = [
        (
            bool(doc.dsc_rcg_global) and not info.global_dr_allowed,
            "DscRcgGlobal",
            f"{name} no admite descuentos o recargos globales (DscRcgGlobal).",
        ),
        (
            doc.id_doc.ind_no_rebaja is not None and ctx.tipo != 61,
            "Encabezado.IdDoc.IndNoRebaja",
            "IndNoRebaja solo se usa en notas de crédito.",
        ),
        (
            doc.totales.cred_ec is not None and not info.cred_ec_allowed,
            f"{_T}.CredEC",
            f"El crédito especial de empresas constructoras (CredEC) no corresponde en {name}.",
        ),
        (
            doc.totales.comisiones is not None and not info.comisiones_allowed,
            f"{_T}.Comisiones",
            f"La zona Comisiones no corresponde en {name}.",
        ),
    ]
    for bad, path, message in checks:
        if bad:
            ctx.add("DTE_FIELD_NOT_ALLOWED", path, message)
    return True
