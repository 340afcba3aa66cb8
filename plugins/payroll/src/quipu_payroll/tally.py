"""The running count of one check: comparisons made, passed, and findings."""

from decimal import Decimal

from quipu_payroll.findings import Finding, finding
from quipu_payroll.money import fmt_clp, peso

__all__ = ["Tally"]


class Tally:
    """Collects findings and counts comparisons (the basis of the confidence)."""

    def __init__(self) -> None:
        self.findings: list[Finding] = []
        self.run = 0
        self.passed = 0
        self.skipped = 0

    def add(self, item: Finding) -> None:
        """Record a finding."""
        self.findings.append(item)

    def compare(self, path: str, expected: int | None, declared: Decimal | None) -> int | None:
        """Compare a declared amount with the computed one.

        Returns the declared amount in whole pesos when it differs by more than
        one peso (the caller reports it), else ``None``. A one-peso difference
        is recorded here as ``PAY_ROUNDING``; a declared amount with no
        computable counterpart counts as skipped.
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
        if abs(actual - expected) == 1:
            message = (
                f"{path}: declarado {fmt_clp(actual)}, calculado {fmt_clp(expected)}. Diferencia "
                "de 1 peso: redondeo distinto del half-up por línea que usa Previred."
            )
            self.add(finding("PAY_ROUNDING", path, message, expected=expected, actual=actual))
            return None
        return actual
