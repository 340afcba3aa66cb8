"""Earnings rules: minimum wage, gratificación art. 50, asignación familiar."""

from quipu_previred.indicators import Indicators, period_label

from quipu_payroll.breakdown import Breakdown
from quipu_payroll.findings import Severity, finding
from quipu_payroll.history import earlier_runs, run_label, since_label
from quipu_payroll.legal import GRATIFICACION_PCT, GRATIFICACION_TOPE_IMM_ANUAL
from quipu_payroll.money import fmt_clp, fmt_num, pct, peso
from quipu_payroll.schemas import StructuredSlip
from quipu_payroll.tally import Tally

__all__ = ["check_asignacion", "check_gratificacion", "check_minimum"]


def check_minimum(slip: StructuredSlip, eff: Indicators, bd: Breakdown, tally: Tally) -> None:
    """Sueldo base >= IMM (art. 44), prorated by days and, for part time, by hours."""
    minimo, imm = bd.minimo_legal, bd.imm
    if minimo is None or imm is None:
        tally.skipped += 1  # the IMM is missing (reported by context_findings)
        return
    tally.run += 1
    if bd.sueldo_base >= minimo:
        tally.passed += 1
        return
    days = f", proporcional a {slip.dias_trabajados} días" if slip.dias_trabajados < 30 else ""
    label = period_label(bd.periodo)
    head = f"Sueldo base {fmt_clp(bd.sueldo_base)} bajo el ingreso mínimo de {label}"
    jornada = slip.jornada
    severity: Severity
    if jornada.tipo == "completa":
        message, severity = f"{head} ({fmt_clp(imm)}{days}): {fmt_clp(minimo)}.", "error"
    elif jornada.tipo == "parcial" and jornada.horas_semanales is not None:
        message = (
            f"{head} proporcional a {fmt_num(jornada.horas_semanales)} h semanales{days}: "
            f"{fmt_clp(minimo)} (IMM {fmt_clp(imm)})."
        )
        severity = "warning"
    else:
        message = (
            f"{head} ({fmt_clp(imm)}{days}). Si la jornada es parcial el mínimo es proporcional "
            "a las horas pactadas: indique jornada.horas_semanales."
        )
        severity = "warning"
    tally.add(
        finding(
            "PAY_BELOW_MINIMUM",
            "haberes.sueldo_base",
            message,
            expected=minimo,
            actual=bd.sueldo_base,
            severity=severity,
        )
    )


def check_gratificacion(slip: StructuredSlip, eff: Indicators, bd: Breakdown, tally: Tally) -> None:
    """Art. 50 monthly: min(25 % of the month's remuneración, 4.75 IMM / 12)."""
    if slip.haberes.regimen_gratificacion != "art50_mensual":
        return  # art. 47 (annual, on profits) or convencional: nothing to compare monthly
    expected, tope, imm = bd.gratificacion_legal, bd.gratificacion_tope, eff.sueldo_minimo
    actual = tally.compare("haberes.gratificacion", expected, slip.haberes.gratificacion)
    if actual is None or expected is None or tope is None or imm is None:
        return
    path = "haberes.gratificacion"
    base = bd.sueldo_base + bd.otros_imponibles
    rule = (
        f"25 % de {fmt_clp(base)} = {fmt_clp(pct(base, GRATIFICACION_PCT))}, tope 4,75 IMM / 12 "
        f"= {fmt_clp(tope)} (IMM {fmt_clp(imm)})"
    )
    if actual > tope:
        message = (
            f"Gratificación {fmt_clp(actual)} supera el tope art. 50 ({rule}). Si es una "
            "gratificación convencional, declare regimen_gratificacion = convencional."
        )
        tally.add(
            finding("PAY_GRATIFICACION_OVER_CAP", path, message, expected=expected, actual=actual)
        )
        return
    if actual < expected:
        for run in earlier_runs("sueldo_minimo", bd.periodo, imm):
            old_tope = peso(GRATIFICACION_TOPE_IMM_ANUAL * run.value / 12)
            if min(pct(base, GRATIFICACION_PCT), old_tope) == actual:
                since = since_label("sueldo_minimo", bd.periodo, imm)
                message = (
                    f"Gratificación con el tope 4,75 IMM de {run_label(run)} ({fmt_clp(old_tope)}, "
                    f"IMM {fmt_clp(run.value)}); desde {since} el IMM es {fmt_clp(imm)} y "
                    f"corresponde {fmt_clp(expected)}."
                )
                code = "PAY_GRATIFICACION_STALE_IMM"
                tally.add(finding(code, path, message, expected=expected, actual=actual))
                return
    message = (
        f"Gratificación art. 50 mensual declarada {fmt_clp(actual)}; corresponde "
        f"{fmt_clp(expected)} ({rule}). Si se paga anualmente o es convencional, declare "
        "el régimen."
    )
    severity: Severity = "warning" if actual > expected else "error"
    tally.add(
        finding(
            "PAY_GRATIFICACION_MISMATCH",
            path,
            message,
            expected=expected,
            actual=actual,
            severity=severity,
        )
    )


def _fits_a_bracket(amount: int, cargas: int | None, eff: Indicators) -> bool:
    """True when some bracket's amount per carga yields ``amount`` (for ``cargas`` if known)."""
    for tramo in eff.asig_fam:
        monto = peso(tramo.monto)
        if cargas is not None and monto * cargas == amount:
            return True
        if cargas is None and (amount == 0 or (monto > 0 and amount % monto == 0)):
            return True
    return False


def check_asignacion(slip: StructuredSlip, eff: Indicators, bd: Breakdown, tally: Tally) -> None:
    """Asignación familiar: the bracket of the reference income times the cargas."""
    declared = slip.haberes.asignacion_familiar
    tramo_n = bd.asignacion_familiar_tramo
    if declared is None or tramo_n is None:
        tally.compare("haberes.asignacion_familiar", bd.asignacion_familiar, declared)
        return
    h = slip.haberes
    # The bracket is uncertain when judged on the month's income or a partial month; a
    # declared amount that no bracket produces is wrong whatever the bracket, though.
    uncertain = h.ingreso_promedio_semestre is None or slip.dias_trabajados < 30
    soft = uncertain and _fits_a_bracket(peso(declared), bd.cargas_familiares, eff)
    income = (
        h.ingreso_promedio_semestre if h.ingreso_promedio_semestre is not None else bd.imponible
    )
    tramos = {t.tramo: t for t in eff.asig_fam}
    monto = peso(tramos[tramo_n].monto)
    letter = "ABCD"[tramo_n - 1]
    rule = f"ingreso de referencia {fmt_clp(income)}: tramo {letter}, {fmt_clp(monto)} por carga"
    if h.ingreso_promedio_semestre is None:
        rule += " (se usó el imponible del mes; la ley usa el promedio del semestre anterior)"
    expected = bd.asignacion_familiar
    if expected is None:  # the declared amount fits no whole number of cargas
        tally.run += 1
        actual = peso(declared)
        other = next((t for t in eff.asig_fam if t.monto > 0 and actual % peso(t.monto) == 0), None)
        fit = f"; coincide con el tramo {'ABCD'[other.tramo - 1]}" if other else ""
        message = f"Asignación familiar {fmt_clp(actual)} no corresponde al {rule}{fit}."
    else:
        maybe = tally.compare("haberes.asignacion_familiar", expected, declared)
        if maybe is None:
            return
        actual = maybe
        message = (
            f"Asignación familiar declarada {fmt_clp(actual)}; corresponde {fmt_clp(expected)} "
            f"({rule}, {bd.cargas_familiares} cargas)."
        )
    tally.add(
        finding(
            "PAY_ASIGFAM_MISMATCH",
            "haberes.asignacion_familiar",
            message,
            expected=expected,
            actual=actual,
            severity="warning" if soft else "error",
        )
    )
