"""Totals arithmetic: A4–A12, A15–A17 (domain-chile.md §2.3, §2.4).

See :mod:`quipu_dte.rules.derive` for how expected and accepted values are built.
"""

from decimal import Decimal
from typing import Final

from quipu_dte.codes import TAXES
from quipu_dte.money import ZERO, fmt_pct
from quipu_dte.rules.context import Ctx, fmt, rule
from quipu_dte.rules.derive import Expectation

__all__ = [
    "check_cred_ec",
    "check_exento",
    "check_global_dr",
    "check_iva",
    "check_iva_no_ret",
    "check_iva_rate",
    "check_monto_nf",
    "check_neto",
    "check_taxes",
    "check_total",
    "check_total_zero",
]

_T: Final = "Encabezado.Totales"
_HUNDRED: Final = Decimal(100)


def _compare(
    ctx: Ctx,
    code: str,
    path: str,
    label: str,
    declared: Decimal | None,
    exp: Expectation | None,
    basis: str = "",
) -> bool:
    """Report ``code`` if ``declared`` is not accepted; returns False if not checkable."""
    if exp is None or declared is None:
        return exp is not None
    if exp.ok(declared, ctx.config.amount_tolerance):
        return True
    why = basis or exp.why()
    ctx.add(
        code,
        path,
        f"{label} declarado {fmt(declared)}, esperado {fmt(exp.expected)}"
        + (f" ({why})" if why else "")
        + ".",
        expected=exp.expected,
        actual=declared,
    )
    return True


@rule("global_dr", "DTE_DSCRCG_INVALID")
def check_global_dr(ctx: Ctx) -> bool:
    """Global D/R: % ≤ 100, result not negative, % when lines carry different taxes (A17)."""
    doc = ctx.doc
    if not doc.dsc_rcg_global:
        return ctx.absence_known
    for i, dr in enumerate(doc.dsc_rcg_global):
        if dr.tipo_valor == "%" and dr.valor is not None and dr.valor > _HUNDRED:
            ctx.add(
                "DTE_DSCRCG_INVALID",
                f"DscRcgGlobal[{i}].ValorDR",
                f"El descuento/recargo global {i + 1} es de {fmt_pct(dr.valor)}; no puede "
                "superar el 100%.",
                actual=dr.valor,
            )
    arith = ctx.arithmetic
    if arith.affected_exp < 0 or arith.exe_exp < 0:
        ctx.add(
            "DTE_DSCRCG_INVALID",
            "DscRcgGlobal",
            "Los descuentos globales superan el subtotal de las líneas a las que se aplican.",
        )
    tax_sets = {ln.cod_imp_adic for ln in doc.detalle if ln.ind_exe is None}
    if len(tax_sets) > 1:
        for i, dr in enumerate(doc.dsc_rcg_global):
            if dr.tipo_valor == "$" and dr.ind_exe is None:
                ctx.add(
                    "DTE_DSCRCG_INVALID",
                    f"DscRcgGlobal[{i}].TpoValor",
                    "Las líneas afectas tienen distintos impuestos adicionales; el descuento "
                    "o recargo global debe expresarse en porcentaje (%).",
                    expected="%",
                    actual="$",
                )
    return True


@rule("neto", "DTE_NETO_MISMATCH")
def check_neto(ctx: Ctx) -> bool:
    """MntNeto = Σ affected MontoItem − global D + global R (A4; boleta: gross / 1,19)."""
    arith = ctx.arithmetic
    if ctx.info.exempt:
        return True  # not applicable; DTE_EXEMPT_WITH_IVA covers a MntNeto here
    basis = "suma de líneas afectas"
    if ctx.doc.dsc_rcg_global:
        basis += " con descuentos/recargos globales"
    if arith.gross_lines:
        basis += ", descontado el IVA incluido"
    return _compare(
        ctx,
        "DTE_NETO_MISMATCH",
        f"{_T}.MntNeto",
        "Monto neto",
        ctx.doc.totales.mnt_neto,
        arith.neto,
        basis,
    )


@rule("exento", "DTE_EXENTO_MISMATCH")
def check_exento(ctx: Ctx) -> bool:
    """MntExe = Σ exempt MontoItem − exempt global D + exempt global R (A5)."""
    return _compare(
        ctx,
        "DTE_EXENTO_MISMATCH",
        f"{_T}.MntExe",
        "Monto exento",
        ctx.doc.totales.mnt_exe,
        ctx.arithmetic.exento,
        "suma de líneas exentas",
    )


@rule("iva_rate", "DTE_IVA_RATE")
def check_iva_rate(ctx: Ctx) -> bool:
    """TasaIVA = 19 whenever the document has a net amount (A7)."""
    tasa = ctx.doc.totales.tasa_iva
    if ctx.info.exempt:
        return True  # not applicable; DTE_EXEMPT_WITH_IVA covers a TasaIVA here
    if tasa is None:
        return ctx.absence_known
    legal = ctx.config.iva_rate
    if tasa != legal:
        ctx.add(
            "DTE_IVA_RATE",
            f"{_T}.TasaIVA",
            f"Tasa de IVA declarada {fmt_pct(tasa)}; la tasa general es {fmt_pct(legal)}.",
            expected=legal,
            actual=tasa,
        )
    return True


@rule("iva", "DTE_IVA_MISMATCH")
def check_iva(ctx: Ctx) -> bool:
    """IVA = round(MntNeto × TasaIVA / 100) (A6); boleta: gross − neto (A15)."""
    if ctx.info.exempt:
        return True  # not applicable; DTE_EXEMPT_WITH_IVA covers an IVA here
    return _compare(
        ctx, "DTE_IVA_MISMATCH", f"{_T}.IVA", "IVA", ctx.doc.totales.iva, ctx.arithmetic.iva
    )


@rule("taxes", "DTE_TAX_CODE_UNKNOWN", "DTE_TAX_RATE", "DTE_TAX_AMOUNT_MISMATCH")
def check_taxes(ctx: Ctx) -> bool:
    """ImptoReten: known code, legal rate, MontoImp = rate × Σ lines with that code (A9)."""
    arith = ctx.arithmetic
    if not arith.taxes and not arith.missing_tax_codes:
        return ctx.absence_known
    for tax in arith.taxes:
        q = f"{_T}.ImptoReten[{tax.index}]"
        code = tax.entry.tipo_imp
        if tax.info is None:
            if code is not None:
                ctx.add(
                    "DTE_TAX_CODE_UNKNOWN",
                    f"{q}.TipoImp",
                    f"El código de impuesto {code} no está en la tabla de impuestos "
                    "adicionales y retenciones conocida; no se pudo verificar el total.",
                    actual=code,
                )
            continue
        rate = tax.entry.tasa_imp
        if rate is not None and tax.info.rate is not None and rate != tax.info.rate:
            ctx.add(
                "DTE_TAX_RATE",
                f"{q}.TasaImp",
                f"Tasa declarada {fmt_pct(rate)} para {tax.info.name} (código {code}); la tasa "
                f"legal es {fmt_pct(tax.info.rate)}.",
                expected=tax.info.rate,
                actual=rate,
            )
        _compare(
            ctx,
            "DTE_TAX_AMOUNT_MISMATCH",
            f"{q}.MontoImp",
            f"{tax.info.name} (código {code})",
            tax.entry.monto_imp,
            tax.expectation,
        )
    for code, amount in arith.missing_tax_codes:
        ctx.add(
            "DTE_TAX_AMOUNT_MISMATCH",
            f"{_T}.ImptoReten",
            f"Hay líneas con el impuesto {TAXES[code].name} (código {code}) pero falta su "
            f"monto en Totales; esperado {fmt(amount)}.",
            expected=amount,
            actual=None,
        )
    return True


@rule("total", "DTE_TOTAL_MISMATCH")
def check_total(ctx: Ctx) -> bool:
    """MntTotal = neto + IVA + exento + impuestos adicionales − retenciones − CredEC (A8)."""
    return _compare(
        ctx,
        "DTE_TOTAL_MISMATCH",
        f"{_T}.MntTotal",
        "Monto total",
        ctx.doc.totales.mnt_total,
        ctx.arithmetic.total,
    )


@rule("iva_no_ret", "DTE_IVA_NO_RET_MISMATCH")
def check_iva_no_ret(ctx: Ctx) -> bool:
    """IVANoRet = IVA − IVA retenido (A10)."""
    t = ctx.doc.totales
    arith = ctx.arithmetic
    if t.iva_no_ret is None:
        return ctx.absence_known
    ret_decl, ret_exp = arith.iva_retenido
    ivas = [v for v in (t.iva, arith.iva.expected if arith.iva else None) if v is not None]
    if not ivas:
        return False
    accepted = frozenset(i - r for i in ivas for r in (ret_decl, ret_exp))
    iva = ivas[-1]
    exp = Expectation(iva - ret_exp, accepted, lambda: f"IVA {fmt(iva)} − retenido {fmt(ret_exp)}")
    return _compare(
        ctx, "DTE_IVA_NO_RET_MISMATCH", f"{_T}.IVANoRet", "IVA no retenido", t.iva_no_ret, exp
    )


@rule("cred_ec", "DTE_CRED_EC_MISMATCH")
def check_cred_ec(ctx: Ctx) -> bool:
    """CredEC ≤ round(IVA × 0,65) (A11; DL 910 art. 21 may cap it lower, never higher)."""
    cred = ctx.doc.totales.cred_ec
    if cred is None:
        return ctx.absence_known
    top = ctx.arithmetic.cred_ec_max()
    if top is None:
        return False
    if cred > top + ctx.config.amount_tolerance:
        ctx.add(
            "DTE_CRED_EC_MISMATCH",
            f"{_T}.CredEC",
            f"Crédito empresas constructoras declarado {fmt(cred)}; no puede superar "
            f"{fmt(top)} (65% del IVA).",
            expected=top,
            actual=cred,
        )
    return True


@rule("monto_nf", "DTE_MONTO_NF_MISMATCH")
def check_monto_nf(ctx: Ctx) -> bool:
    """MontoNF = Σ IndExe 2 − Σ IndExe 6; MontoPeriodo = MntTotal + MontoNF (A12)."""
    t = ctx.doc.totales
    arith = ctx.arithmetic
    evaluated = False
    if t.monto_nf is not None and arith.has_lines:
        exp = Expectation(
            arith.nf_exp, frozenset({arith.nf_exp, arith.nf_decl}), "suma de ítems no facturables"
        )
        evaluated = _compare(
            ctx, "DTE_MONTO_NF_MISMATCH", f"{_T}.MontoNF", "Monto no facturable", t.monto_nf, exp
        )
    if t.monto_periodo is not None and t.mnt_total is not None:
        totals = {t.mnt_total} | ({arith.total.expected} if arith.total else set())
        nf = t.monto_nf or ZERO
        accepted = frozenset(x + nf for x in totals)
        base = arith.total.expected if arith.total else t.mnt_total
        exp = Expectation(base + nf, accepted, "monto total + monto no facturable")
        evaluated = (
            _compare(
                ctx,
                "DTE_MONTO_NF_MISMATCH",
                f"{_T}.MontoPeriodo",
                "Monto del período",
                t.monto_periodo,
                exp,
            )
            or evaluated
        )
    return evaluated or ctx.absence_known


@rule("total_zero", "DTE_TOTAL_ZERO")
def check_total_zero(ctx: Ctx) -> bool:
    """A sale document with MntTotal 0 is suspicious (not guías without sale or text fixes)."""
    total = ctx.doc.totales.mnt_total
    if total is None:
        return False
    sale = (
        ctx.tipo in {33, 34, 39, 41, 46, 56}
        or (ctx.tipo == 52 and ctx.doc.id_doc.ind_traslado == 1)
        or (ctx.tipo == 61 and not ctx.text_correction)
    )
    if sale and total == 0 and not ctx.text_correction:
        ctx.add(
            "DTE_TOTAL_ZERO",
            f"{_T}.MntTotal",
            f"El documento ({ctx.info.name}) tiene monto total 0; verifique que corresponda.",
            actual=total,
        )
    return True
