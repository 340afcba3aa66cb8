"""Findings and the validation report returned by :func:`quipu_dte.rules.validate`."""

from typing import Any, Literal

import msgspec

from quipu_dte.rules.catalogue import Severity

__all__ = ["Finding", "Recommendation", "ValidationReport"]

Recommendation = Literal["send", "review", "reject"]


class Finding(msgspec.Struct, frozen=True, kw_only=True):
    """One problem found by a rule.

    ``expected``/``actual`` are plain strings without thousands separators
    (``"146363"``), or ``None`` when the rule is not about a value; ``message``
    is Spanish for an accountant, with Chilean number formatting.
    """

    code: str
    severity: Severity
    path: str
    expected: str | None
    actual: str | None
    message: str

    def as_text(self) -> str:
        """``"CODE: message"`` — the string form used in ``errors``/``warnings``."""
        return f"{self.code}: {self.message}"


class ValidationReport(msgspec.Struct, frozen=True, kw_only=True):
    """Result of validating one document.

    ``errors``/``warnings`` are the string lists of the original API;
    ``findings`` carry the structured detail. ``recommendation`` is ``reject``
    if there is any error, ``review`` if any warning, else ``send``.
    ``confidence`` (0–100) is rule-based, see :func:`quipu_dte.rules.engine.confidence`.
    """

    ruleset_version: str
    document: str
    recommendation: Recommendation
    confidence: float
    errors: tuple[str, ...]
    warnings: tuple[str, ...]
    findings: tuple[Finding, ...]
    #: Rules that had the data they need / rule ids skipped for lack of data.
    rules_evaluated: int
    rules_skipped: tuple[str, ...]

    def to_response(self) -> dict[str, Any]:
        """The original ``DTEValidationResponse`` shape (§1.3.6)."""
        return {
            "confidence": self.confidence,
            "warnings": list(self.warnings),
            "errors": list(self.errors),
            "recommendation": self.recommendation,
        }

    def codes(self) -> list[str]:
        """Finding codes in report order (handy in tests and logs)."""
        return [f.code for f in self.findings]
