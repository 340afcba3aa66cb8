"""Declared subtotals, the tax base and the líquido."""

from quipu_payroll.breakdown import Breakdown
from quipu_payroll.findings import finding
from quipu_payroll.money import fmt_clp, peso
from quipu_payroll.schemas import StructuredSlip
from quipu_payroll.tally import Tally

__all__ = ["check_liquido", "check_totals"]


def _declared_sums(slip: StructuredSlip, bd: Breakdown) -> tuple[int, int, int]:
    """(haberes, descuentos legales, otros) as the slip itself declares them."""
    h, d = slip.haberes, slip.descuentos
    asig = peso(h.asignacion_familiar) if h.asignacion_familiar is not None else 0
    haberes = bd.imponible + bd.no_imponibles + asig
    legales = sum(peso(x) for x in (d.afp, d.salud, d.afc, d.impuesto) if x is not None)
    return haberes, legales, peso(d.apv) + peso(d.otros)


def check_totals(slip: StructuredSlip, bd: Breakdown, tally: Tally) -> None:
    """Declared subtotals against the sum of the slip's own lines, and the tax base."""
    t = slip.totales
    if t is None:
        return
    haberes, legales, otros = _declared_sums(slip, bd)
    for path, expected, declared in (
        ("totales.imponible", bd.imponible, t.imponible),
        ("totales.haberes", haberes, t.haberes),
    ):
        actual = tally.compare(path, expected, declared)
        if actual is not None:
            message = (
                f"{path} declarado {fmt_clp(actual)}; la suma de sus líneas es {fmt_clp(expected)}."
            )
            tally.add(
                finding("PAY_TOTAL_MISMATCH", path, message, expected=expected, actual=actual)
            )
    if t.descuentos is not None:
        # Some Odoo structures total only the legal deductions (+ APV), others everything.
        accepted = {legales + otros, legales + peso(slip.descuentos.apv), legales}
        tally.run += 1
        actual = peso(t.descuentos)
        if any(tally.within(actual, a) for a in accepted):
            tally.passed += 1
        else:
            message = (
                f"totales.descuentos declarado {fmt_clp(actual)}; la suma de los descuentos "
                f"declarados es {fmt_clp(legales + otros)} ({fmt_clp(legales)} legales)."
            )
            tally.add(
                finding(
                    "PAY_TOTAL_MISMATCH",
                    "totales.descuentos",
                    message,
                    expected=legales + otros,
                    actual=actual,
                )
            )
    base = bd.base_tributable
    actual = tally.compare("totales.base_tributable", base, t.base_tributable)
    if actual is None or base is None:
        return
    legal, salud = bd.salud_legal, bd.salud
    if (
        legal is not None
        and salud is not None
        and salud > legal
        and actual == base - (salud - legal)
    ):
        code = "PAY_HEALTH_TAX_BASE"
        message = (
            f"Base tributable {fmt_clp(actual)} rebaja la salud completa ({fmt_clp(salud)}); "
            f"solo es rebajable el 7 % legal ({fmt_clp(legal)}): corresponde {fmt_clp(base)}."
        )
    else:
        code = "PAY_TAX_BASE_MISMATCH"
        message = (
            f"Base tributable declarada {fmt_clp(actual)}; corresponde {fmt_clp(base)} = imponible "
            f"{fmt_clp(bd.imponible)} menos AFP, 7 % legal de salud, cesantía y APV-B."
        )
    tally.add(finding(code, "totales.base_tributable", message, expected=base, actual=actual))


def check_liquido(slip: StructuredSlip, bd: Breakdown, tally: Tally) -> None:
    """Líquido = haberes - descuentos (domain-chile.md §3.1 item 8)."""
    declared = slip.liquido
    if declared is not None and declared < 0:
        tally.run += 1
        message = f"Líquido declarado negativo: {fmt_clp(declared)}." + (
            f" Corresponde {fmt_clp(bd.liquido)} = haberes {fmt_clp(bd.total_haberes)} − "
            f"descuentos {fmt_clp(bd.total_descuentos)}."
            if bd.liquido is not None
            and bd.total_haberes is not None
            and bd.total_descuentos is not None
            else ""
        )
        tally.add(
            finding(
                "PAY_LIQUIDO_NEGATIVE",
                "liquido",
                message,
                expected=bd.liquido,
                actual=peso(declared),
            )
        )
        return
    actual = tally.compare("liquido", bd.liquido, declared)
    if actual is None or bd.liquido is None:
        return
    haberes, legales, otros = _declared_sums(slip, bd)
    if actual == haberes - legales - otros:
        reason = "cuadra con las líneas declaradas, pero los montos legales dan"
    else:
        reason = "no cuadra con haberes menos descuentos; con los montos legales corresponde"
    message = f"Líquido declarado {fmt_clp(actual)} {reason} {fmt_clp(bd.liquido)}"
    if bd.total_haberes is not None and bd.total_descuentos is not None:
        message += (
            f" = haberes {fmt_clp(bd.total_haberes)} − descuentos {fmt_clp(bd.total_descuentos)}"
        )
    message += "."
    tally.add(
        finding("PAY_LIQUIDO_MISMATCH", "liquido", message, expected=bd.liquido, actual=actual)
    )
