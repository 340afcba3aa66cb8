"""Explaining a wrong amount: which known mistake reproduces it exactly?

Each function tries the usual mistakes for one line (a superseded tope, the
previous month's UF, no tope at all, a stale commission or UTM, the whole
Isapre plan off the tax base...) and returns the specific :class:`Finding`
when one reproduces the declared amount to the peso, else ``None`` (the
caller then reports the generic mismatch).
"""

from decimal import Decimal

from quipu_previred.indicators import AFP_LABELS, Indicators, afp_key, period_label

from quipu_payroll.breakdown import Breakdown
from quipu_payroll.findings import Finding, finding
from quipu_payroll.history import earlier_runs, run_label, since_label
from quipu_payroll.legal import TASA_AFP_OBLIGATORIA
from quipu_payroll.money import fmt_clp, fmt_num, fmt_pct, pct, peso
from quipu_payroll.schemas import StructuredSlip
from quipu_payroll.tax import impuesto_unico

__all__ = ["diagnose_afc", "diagnose_afp", "diagnose_salud", "diagnose_tax"]

_LINE = {"afp": "AFP calculada", "salud": "Salud calculada", "afc": "Seguro de cesantía calculado"}
_TOPE_KEY = {"afp": "afp_tope_uf", "salud": "salud_tope_uf", "afc": "afc_tope_uf"}


def _tope_mistakes(
    line: str, ind: Indicators, bd: Breakdown, rate: Decimal, actual: int, expected: int
) -> Finding | None:
    """Superseded tope, previous month's UF, or no tope at all."""
    key, path = _TOPE_KEY[line], f"descuentos.{line}"
    tope_uf: Decimal | None = getattr(ind, key)
    base: int | None = {"afp": bd.base_afp, "salud": bd.base_salud, "afc": bd.base_afc}[line]
    if ind.uf is None or tope_uf is None or base is None:
        return None
    tail = (
        f"Corresponde {fmt_clp(expected)} sobre base {fmt_clp(base)}; declarado {fmt_clp(actual)}."
    )
    for run in earlier_runs(key, bd.periodo, tope_uf):
        old_base = min(bd.imponible, peso(run.value * ind.uf))
        if old_base != base and pct(old_base, rate) == actual:
            since = since_label(key, bd.periodo, tope_uf)
            message = (
                f"{_LINE[line]} sobre tope {fmt_num(run.value)} UF de {run_label(run)}; "
                f"desde {since} el tope es {fmt_num(tope_uf)} UF. {tail}"
            )
            return finding("PAY_TOPE_STALE", path, message, expected=expected, actual=actual)
    if ind.uf_mes_anterior is not None:
        old_base = min(bd.imponible, peso(tope_uf * ind.uf_mes_anterior))
        if old_base != base and pct(old_base, rate) == actual:
            message = (
                f"{_LINE[line]} con el tope en pesos de la UF del mes anterior "
                f"({fmt_clp(ind.uf_mes_anterior)}); el tope usa la UF del último día de "
                f"{period_label(bd.periodo)} ({fmt_num(ind.uf)}). {tail}"
            )
            return finding("PAY_UF_STALE", path, message, expected=expected, actual=actual)
    if bd.imponible > base and pct(bd.imponible, rate) == actual:
        message = (
            f"{_LINE[line]} sobre el imponible completo {fmt_clp(bd.imponible)}, sin el tope "
            f"de {fmt_num(tope_uf)} UF ({fmt_clp(base)}). {tail}"
        )
        return finding("PAY_TOPE_NOT_APPLIED", path, message, expected=expected, actual=actual)
    return None


def diagnose_afp(
    slip: StructuredSlip, ind: Indicators, bd: Breakdown, actual: int, expected: int
) -> Finding | None:
    """Tope mistakes, a commission the AFP no longer charges, or another AFP's rate."""
    rate, base = bd.afp_tasa, bd.base_afp
    if rate is None or base is None or slip.afp is None:
        return None
    declared = slip.afp.tasa
    if declared is not None and declared != rate and pct(base, declared) == actual:
        message = (
            f"AFP declarada {fmt_clp(actual)} = {fmt_pct(declared)} (tasa declarada) sobre "
            f"{fmt_clp(base)}; la tasa oficial de {_afp_label(slip.afp.nombre)} para "
            f"{period_label(bd.periodo)} es {fmt_pct(rate)} (10 % + comisión): corresponde "
            f"{fmt_clp(expected)} = {fmt_pct(rate)} sobre {fmt_clp(base)}."
        )
        return finding(
            "PAY_AFP_RATE_MISMATCH", "descuentos.afp", message, expected=expected, actual=actual
        )
    found = _tope_mistakes("afp", ind, bd, rate, actual, expected)
    if found is not None:
        return found
    key = afp_key(slip.afp.nombre)
    if key is None or slip.afp.tasa is not None:
        return None
    label = AFP_LABELS[key]
    commission = ind.commission(key)
    for run in earlier_runs(f"afp_{key}_comision_pct", bd.periodo, commission):
        old_rate = TASA_AFP_OBLIGATORIA + run.value
        if pct(base, old_rate) == actual:
            message = (
                f"AFP {label} calculada con {fmt_pct(old_rate)} (comisión {fmt_pct(run.value)} "
                f"de {run_label(run)}); en {period_label(bd.periodo)} la tasa es "
                f"{fmt_pct(rate)}. Corresponde {fmt_clp(expected)}; declarado {fmt_clp(actual)}."
            )
            return finding(
                "PAY_AFP_RATE_STALE", "descuentos.afp", message, expected=expected, actual=actual
            )
    for other in ind.afp:
        if other.nombre != key and pct(base, other.tasa_trabajador_pct) == actual:
            message = (
                f"AFP declarada {fmt_clp(actual)} coincide con la tasa de AFP "
                f"{AFP_LABELS[other.nombre]} ({fmt_pct(other.tasa_trabajador_pct)}), no con la de "
                f"AFP {label} ({fmt_pct(rate)}): corresponde {fmt_clp(expected)}."
            )
            return finding(
                "PAY_AFP_MISMATCH", "descuentos.afp", message, expected=expected, actual=actual
            )
    return None


def _afp_label(name: str) -> str:
    key = afp_key(name)
    return f"AFP {AFP_LABELS[key]}" if key is not None else f"la AFP {name}"


def diagnose_salud(
    slip: StructuredSlip, ind: Indicators, bd: Breakdown, actual: int, expected: int
) -> Finding | None:
    """Tope mistakes on the legal 7 %, an Isapre plan at another UF, or below 7 %."""
    legal, fonasa = bd.salud_legal, ind.fonasa_pct
    if legal is not None and fonasa is not None and expected == legal:
        found = _tope_mistakes("salud", ind, bd, fonasa, actual, expected)
        if found is not None:
            return found
    plan_uf, uf_prev = slip.salud.plan_uf, ind.uf_mes_anterior
    stale = peso(plan_uf * uf_prev) if plan_uf is not None and uf_prev is not None else None
    if (
        slip.salud.tipo == "isapre"
        and legal is not None
        and stale is not None
        and max(legal, stale) == actual != legal
    ):
        message = (
            f"Plan Isapre de {fmt_num(plan_uf or 0)} UF convertido con la UF del mes anterior "
            f"({fmt_num(uf_prev or 0)}); corresponde la UF del último día del mes "
            f"({fmt_num(ind.uf or 0)}): {fmt_clp(expected)}, declarado {fmt_clp(actual)}."
        )
        return finding(
            "PAY_UF_STALE", "descuentos.salud", message, expected=expected, actual=actual
        )
    if legal is not None and actual < legal:
        message = (
            f"Salud declarada {fmt_clp(actual)} es menor que el 7 % legal sobre "
            f"{fmt_clp(bd.base_salud or 0)} ({fmt_clp(legal)}); corresponde {fmt_clp(expected)}."
        )
        return finding(
            "PAY_HEALTH_BELOW_LEGAL", "descuentos.salud", message, expected=expected, actual=actual
        )
    return None


def diagnose_afc(
    slip: StructuredSlip, ind: Indicators, bd: Breakdown, actual: int, expected: int
) -> Finding | None:
    """The worker share of the wrong contract type, or tope mistakes."""
    path = "descuentos.afc"
    indefinido = ind.afc_trabajador_indefinido
    base = bd.base_afc
    if (
        slip.contrato != "indefinido"
        and indefinido
        and base is not None
        and actual == pct(base, indefinido)
    ):
        kind = "a plazo fijo" if slip.contrato == "plazo_fijo" else "por obra o faena"
        employer = ind.afc_empleador_plazo_fijo
        paid = f"; el empleador cotiza {fmt_pct(employer)}" if employer is not None else ""
        message = (
            f"Contrato {kind}: el trabajador no cotiza seguro de cesantía (Ley 19.728"
            f"{paid}). Se descontó {fmt_clp(actual)}, el {fmt_pct(indefinido)} de un contrato "
            f"indefinido; corresponde {fmt_clp(expected)}."
        )
        return finding("PAY_AFC_CONTRACT", path, message, expected=expected, actual=actual)
    if slip.contrato == "indefinido" and actual == 0 and expected > 0:
        message = (
            f"Contrato indefinido con seguro de cesantía del trabajador declarado $0: "
            f"corresponde {fmt_pct(bd.afc_tasa or Decimal(0))} sobre {fmt_clp(base or 0)} = "
            f"{fmt_clp(expected)} (si tiene 11 o más años de antigüedad, indique "
            "indefinido_11_anios)."
        )
        return finding("PAY_AFC_CONTRACT", path, message, expected=expected, actual=actual)
    if bd.afc_tasa:
        return _tope_mistakes("afc", ind, bd, bd.afc_tasa, actual, expected)
    return None


def diagnose_tax(
    slip: StructuredSlip, ind: Indicators, bd: Breakdown, actual: int, expected: int
) -> Finding | None:
    """The whole Isapre plan off the tax base, or another month's UTM."""
    base, utm, path = bd.base_tributable, bd.utm, "descuentos.impuesto"
    if base is None or utm is None:
        return None
    legal, salud = bd.salud_legal, bd.salud
    if legal is not None and salud is not None and salud > legal:
        wrong_base = max(base - (salud - legal), 0)
        if impuesto_unico(wrong_base, utm).impuesto == actual:
            message = (
                f"Se rebajó de la base tributable la cotización de salud completa "
                f"({fmt_clp(salud)}); solo es rebajable el 7 % legal con tope ({fmt_clp(legal)}). "
                f"Base correcta {fmt_clp(base)}: impuesto {fmt_clp(expected)}; declarado "
                f"{fmt_clp(actual)} (base {fmt_clp(wrong_base)})."
            )
            return finding("PAY_HEALTH_TAX_BASE", path, message, expected=expected, actual=actual)
    d = slip.descuentos
    if None not in (d.afp, d.salud, d.afc) and bd.apv_rebaja is not None:
        # A wrong AFP, salud or AFC line moves the employer's tax base with it:
        # say so instead of presenting the tax as an independent mistake.
        declared = [peso(x) for x in (d.afp, d.salud, d.afc) if x is not None]
        deductible = min(declared[1], legal) if legal is not None else declared[1]
        own_base = max(bd.imponible - declared[0] - deductible - declared[2] - bd.apv_rebaja, 0)
        if own_base != base and impuesto_unico(own_base, utm).impuesto == actual:
            message = (
                f"Impuesto único {fmt_clp(actual)} es coherente con los descuentos declarados "
                f"(base {fmt_clp(own_base)}), que difieren de los legales; con ellos corregidos "
                f"la base es {fmt_clp(base)} y corresponde {fmt_clp(expected)}."
            )
            return finding("PAY_TAX_MISMATCH", path, message, expected=expected, actual=actual)
    for run in earlier_runs("utm", bd.periodo, utm):
        if impuesto_unico(base, run.value).impuesto == actual:
            message = (
                f"Impuesto único calculado con la UTM de {run_label(run)} ({fmt_clp(run.value)}); "
                f"para {period_label(bd.periodo)} la UTM es {fmt_clp(utm)}: corresponde "
                f"{fmt_clp(expected)} sobre base {fmt_clp(base)}, declarado {fmt_clp(actual)}."
            )
            return finding("PAY_UTM_STALE", path, message, expected=expected, actual=actual)
    return None
