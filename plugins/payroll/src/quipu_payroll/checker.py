"""Checking a slip: compare every declared amount with the legal breakdown.

Declared deductions are compared with amounts computed from the *earnings*
and the period's indicators, never from other declared deductions, so one
wrong line yields one finding (the líquido, which sums them, is checked on
its own). :mod:`quipu_payroll.diagnose` names the specific mistake when a
known one reproduces the declared amount to the peso.
"""

from collections.abc import Callable, Iterable
from typing import Final, Literal

import msgspec
from quipu_previred.indicators import AFP_LABELS, Indicators, afp_key, period_label

from quipu_payroll.context import context_findings
from quipu_payroll.diagnose import diagnose_afc, diagnose_afp, diagnose_salud, diagnose_tax
from quipu_payroll.engine import Breakdown, compute, effective_indicators
from quipu_payroll.findings import Finding, finding
from quipu_payroll.money import fmt_clp, fmt_pct, pct, peso
from quipu_payroll.rules import check_asignacion, check_gratificacion, check_minimum
from quipu_payroll.schemas import StructuredSlip
from quipu_payroll.tally import Tally
from quipu_payroll.totals import check_liquido, check_totals

__all__ = ["PayrollReport", "Recommendation", "check"]

Recommendation = Literal["approve", "review", "reject"]
_Diagnosis = Callable[[StructuredSlip, Indicators, Breakdown, int, int], Finding | None]

# Odoo asks a human when confidence < 80 (original-ai-service.md §7.4): cap a
# slip with warnings just below that, and one with errors well below it.
_CAP_WARNINGS: Final = 79.0
_CAP_ERRORS: Final = 49.0
_NOTHING_CHECKED: Final = 50.0


class PayrollReport(msgspec.Struct, frozen=True, kw_only=True):
    """The verdict on one slip (msgspec-encodable).

    ``errors``/``warnings`` are ``"CODE: message"`` strings for the original
    API's fields. ``confidence`` (0-100) is the share of comparisons that
    passed (a check skipped for a missing indicator counts as not passed),
    capped at 79 with warnings and 49 with errors; 50 when nothing could be
    compared.
    """

    findings: tuple[Finding, ...]
    errors: list[str]
    warnings: list[str]
    recommendation: Recommendation
    confidence: float
    checks_run: int
    checks_passed: int
    breakdown: Breakdown


_LINES: Final[tuple[tuple[str, str, str, _Diagnosis], ...]] = (
    ("afp", "PAY_AFP_MISMATCH", "AFP", diagnose_afp),
    ("salud", "PAY_HEALTH_MISMATCH", "Salud", diagnose_salud),
    ("afc", "PAY_AFC_MISMATCH", "Seguro de cesantía", diagnose_afc),
    ("impuesto", "PAY_TAX_MISMATCH", "Impuesto único", diagnose_tax),
)


def _explain(line: str, slip: StructuredSlip, bd: Breakdown) -> str:
    """The rule behind the computed amount, for the generic mismatch message."""
    if line == "afp" and bd.afp_tasa is not None and bd.base_afp is not None:
        return f"{fmt_pct(bd.afp_tasa)} (10 % + comisión) sobre {fmt_clp(bd.base_afp)}"
    if line == "salud" and bd.salud_legal is not None:
        plan = f" y plan Isapre {fmt_clp(bd.salud_plan)}" if bd.salud_plan is not None else ""
        return f"mayor entre 7 % legal {fmt_clp(bd.salud_legal)}{plan}"
    if line == "afc" and bd.afc_tasa is not None and bd.base_afc is not None:
        return f"{fmt_pct(bd.afc_tasa)} sobre {fmt_clp(bd.base_afc)}, contrato {slip.contrato}"
    if line == "impuesto" and bd.base_tributable is not None and bd.utm is not None:
        return (
            f"tramo {bd.impuesto_tramo} sobre base {fmt_clp(bd.base_tributable)}, UTM "
            f"{fmt_clp(bd.utm)} de {period_label(bd.periodo)}"
        )
    return "según la ley"


def _check_lines(slip: StructuredSlip, eff: Indicators, bd: Breakdown, tally: Tally) -> None:
    for line, code, label, diagnose in _LINES:
        expected: int | None = getattr(bd, line)
        path = f"descuentos.{line}"
        actual = tally.compare(path, expected, getattr(slip.descuentos, line))
        if actual is None or expected is None:
            continue
        specific = diagnose(slip, eff, bd, actual, expected)
        message = (
            f"{label} declarado {fmt_clp(actual)}; corresponde {fmt_clp(expected)} "
            f"({_explain(line, slip, bd)})."
        )
        tally.add(specific or finding(code, path, message, expected=expected, actual=actual))


def _check_afp_rate(slip: StructuredSlip, bd: Breakdown, tally: Tally) -> None:
    """A declared ``afp.tasa`` must be the period's official rate (10 % + commission).

    Reported on the rate itself unless the AFP line already said the amount was computed
    with it; a warning when the declared amount is right anyway (only the rate shown is
    wrong), an error otherwise.
    """
    declared, rate, base = slip.afp.tasa if slip.afp else None, bd.afp_tasa, bd.base_afp
    if declared is None or rate is None:
        return
    tally.run += 1
    if declared == rate:
        tally.passed += 1
        return
    if any(f.code == "PAY_AFP_RATE_MISMATCH" for f in tally.findings):
        return
    assert slip.afp is not None  # declared is not None
    key = afp_key(slip.afp.nombre)
    label = f"AFP {AFP_LABELS[key]}" if key else slip.afp.nombre
    amount = ""
    if bd.afp is not None and base is not None:
        amount = (
            f"; a la tasa oficial la cotización es {fmt_clp(bd.afp)} ({fmt_pct(rate)} sobre "
            f"{fmt_clp(base)}), a la declarada sería {fmt_clp(pct(base, declared))}"
        )
    message = (
        f"Tasa AFP declarada {fmt_pct(declared)}; la oficial de {label} para "
        f"{period_label(bd.periodo)} es {fmt_pct(rate)} (10 % + comisión){amount}."
    )
    declared_amount = slip.descuentos.afp
    right_amount = declared_amount is not None and peso(declared_amount) == bd.afp
    tally.add(
        finding(
            "PAY_AFP_RATE_MISMATCH",
            "afp.tasa",
            message,
            expected=fmt_pct(rate),
            actual=fmt_pct(declared),
            severity="warning" if right_amount else "error",
        )
    )


def check(
    slip: StructuredSlip,
    ind: Indicators,
    *,
    extra: Iterable[Finding] = (),
    tolerance: int = 0,
) -> PayrollReport:
    """Check ``slip`` against the law and the indicators ``ind`` of its period.

    ``extra`` carries findings produced while building the slip (for example
    by :func:`quipu_payroll.odoo.from_odoo`); they count like any other.
    ``tolerance`` (``[plugins.payroll] tolerance``, default 0) is how many pesos a
    declared amount may differ from the exact one and still pass.
    """
    bd = compute(slip, ind)
    eff = effective_indicators(slip, ind)
    tally = Tally(tolerance)
    for item in extra:
        tally.add(item)
    for item in context_findings(slip, ind, eff, bd):
        tally.add(item)
    check_minimum(slip, eff, bd, tally)
    check_gratificacion(slip, eff, bd, tally)
    check_asignacion(slip, eff, bd, tally)
    _check_lines(slip, eff, bd, tally)
    _check_afp_rate(slip, bd, tally)
    check_totals(slip, bd, tally)
    check_liquido(slip, bd, tally)
    return _report(tally, bd)


def _report(tally: Tally, bd: Breakdown) -> PayrollReport:
    errors = [f"{f.code}: {f.message}" for f in tally.findings if f.severity == "error"]
    warnings = [f"{f.code}: {f.message}" for f in tally.findings if f.severity == "warning"]
    considered = tally.run + tally.skipped
    confidence = 100.0 * tally.passed / considered if considered else _NOTHING_CHECKED
    if errors:
        recommendation: Recommendation = "reject"
        confidence = min(confidence, _CAP_ERRORS)
    elif warnings:
        recommendation = "review"
        confidence = min(confidence, _CAP_WARNINGS)
    else:
        recommendation = "approve"
    return PayrollReport(
        findings=tuple(tally.findings),
        errors=errors,
        warnings=warnings,
        recommendation=recommendation,
        confidence=round(confidence, 1),
        checks_run=tally.run,
        checks_passed=tally.passed,
        breakdown=bd,
    )
