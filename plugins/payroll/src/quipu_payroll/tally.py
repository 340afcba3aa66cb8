"""The running count of one check: comparisons made, passed, and findings."""

from decimal import Decimal

from quipu_payroll.findings import Finding, finding
from quipu_payroll.money import fmt_clp, peso

__all__ = ["Tally"]


class Tally:
    """Collects findings and counts comparisons (the basis of the confidence).

    ``tolerance`` is ``[plugins.payroll] tolerance``: pesos a declared amount may differ
    from the exact one and still pass. 0 (the default) is strict: every contribution and
    the tax are rounded half-up to whole pesos, so the exact figure is unambiguous.
    """

    def __init__(self, tolerance: int = 0) -> None:
        self.findings: list[Finding] = []
        self.run = 0
        self.passed = 0
        self.skipped = 0
        self.tolerance = tolerance

    def within(self, actual: int, expected: int) -> bool:
        """True when ``actual`` is ``expected`` or within the configured tolerance."""
        return abs(actual - expected) <= self.tolerance

    def add(self, item: Finding) -> None:
        """Record a finding."""
        self.findings.append(item)

    def compare(self, path: str, expected: int | None, declared: Decimal | None) -> int | None:
        """Compare a declared amount with the computed one.

        Returns the declared amount in whole pesos when it differs (the caller
        reports it, stating declared and expected), else ``None``. A difference
        within the configured tolerance passes, recorded as the ``PAY_ROUNDING``
        note; a declared amount with no computable counterpart counts as skipped.
        """
        if declared is None:
            return None
        if expected is None:
            self.skipped += 1
            return None
        self.run += 1
        actual = peso(declared)
        if actual == expected:
            self.passed += 1
            return None
        if self.within(actual, expected):
            self.passed += 1
            diff = actual - expected
            message = (
                f"{path}: declarado {fmt_clp(actual)}, calculado {fmt_clp(expected)} "
                f"(diferencia {diff:+d} peso{'s' if abs(diff) > 1 else ''}), dentro de la "
                f"tolerancia configurada de {self.tolerance} peso"
                f"{'s' if self.tolerance > 1 else ''}."
            )
            self.add(finding("PAY_ROUNDING", path, message, expected=expected, actual=actual))
            return None
        return actual
