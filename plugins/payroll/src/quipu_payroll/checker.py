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
from quipu_previred.indicators import Indicators, period_label

from quipu_payroll.context import context_findings
from quipu_payroll.diagnose import diagnose_afc, diagnose_afp, diagnose_salud, diagnose_tax
from quipu_payroll.engine import Breakdown, compute, effective_indicators
from quipu_payroll.findings import Finding, finding
from quipu_payroll.money import fmt_clp, fmt_pct
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


def check(slip: StructuredSlip, ind: Indicators, *, extra: Iterable[Finding] = ()) -> PayrollReport:
    """Check ``slip`` against the law and the indicators ``ind`` of its period.

    ``extra`` carries findings produced while building the slip (for example
    by :func:`quipu_payroll.odoo.from_odoo`); they count like any other.
    """
    bd = compute(slip, ind)
    eff = effective_indicators(slip, ind)
    tally = Tally()
    for item in extra:
        tally.add(item)
    for item in context_findings(slip, ind, eff, bd):
        tally.add(item)
    check_minimum(slip, eff, bd, tally)
    check_gratificacion(slip, eff, bd, tally)
    check_asignacion(slip, eff, bd, tally)
    _check_lines(slip, eff, bd, tally)
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
