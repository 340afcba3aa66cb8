"""Run the rule catalogue over a document and build the report.

Confidence (0–100) is rule-based and answers "how sure is the deterministic
check about its recommendation". With ``c`` = share of catalogue rules that had
the data they need (a full XML reaches ~0.9, Odoo's flat form ~0.5) and ``W``
the number of warnings::

    reject  → 95 + 5·c                            errors are exact facts
    review  → clamp(60 + 20·c − 5·(W − 1), 40, 80)   warnings are judgement calls
    send    → 50 + 50·c                           clean is only as good as what was checked

rounded to one decimal.
"""

from collections.abc import Sequence
from datetime import date
from decimal import localcontext
from typing import Final

from quipu_dte.model import DteDocument
from quipu_dte.money import ARITHMETIC_CONTEXT

# Rule modules register themselves on import.
from quipu_dte.rules import (
    caf,
    dates,
    doctypes,
    identity,
    lines,
    references,
    schema,
    structure,
    totals,
    vendor,
)
from quipu_dte.rules.catalogue import RULESET_VERSION
from quipu_dte.rules.config import DEFAULT_RULE_CONFIG, RuleConfig
from quipu_dte.rules.context import RULES, Ctx, Rule
from quipu_dte.rules.history import HistoryDocument, VendorHistory
from quipu_dte.rules.report import Recommendation, ValidationReport
from quipu_dte.rut import canonical_rut

__all__ = ["ORDERED_RULES", "confidence", "validate", "validate_batch"]

#: Evaluation order, and therefore finding order: who and what first (type,
#: RUT, structure), then amounts, type rules, references, dates, CAF, history.
#: Within a module, registration order. Explicit because import order is not
#: a contract (formatters sort imports).
_MODULE_ORDER: Final = [
    m.__name__
    for m in (identity, structure, schema, lines, totals, doctypes, references, dates, caf, vendor)
]
ORDERED_RULES: Final[tuple[Rule, ...]] = tuple(
    sorted(RULES, key=lambda r: _MODULE_ORDER.index(r.check.__module__))
)


def confidence(recommendation: Recommendation, coverage: float, warnings: int) -> float:
    """The documented confidence formula (see module docstring)."""
    if recommendation == "reject":
        value = 95 + 5 * coverage
    elif recommendation == "review":
        value = min(80.0, max(40.0, 60 + 20 * coverage - 5 * (warnings - 1)))
    else:
        value = 50 + 50 * coverage
    return round(value, 1)


def validate(
    doc: DteDocument,
    *,
    today: date,
    history: VendorHistory | None = None,
    config: RuleConfig = DEFAULT_RULE_CONFIG,
) -> ValidationReport:
    """Validate one document with every rule of the catalogue.

    ``today`` is the validation date in America/Santiago (the caller owns the
    clock so results are reproducible and cacheable). Pure and deterministic:
    same inputs, same report.
    """
    ctx = Ctx(doc, today, history, config)
    skipped: list[str] = []
    with localcontext(ARITHMETIC_CONTEXT):
        for registered in ORDERED_RULES:
            if not registered.check(ctx):
                skipped.append(registered.id)
    findings = tuple(ctx.findings)
    errors = tuple(f.as_text() for f in findings if f.severity == "error")
    warnings = tuple(f.as_text() for f in findings if f.severity == "warning")
    recommendation: Recommendation = "reject" if errors else "review" if warnings else "send"
    evaluated = len(ORDERED_RULES) - len(skipped)
    return ValidationReport(
        ruleset_version=RULESET_VERSION,
        document=doc.natural_key,
        recommendation=recommendation,
        confidence=confidence(recommendation, evaluated / len(ORDERED_RULES), len(warnings)),
        errors=errors,
        warnings=warnings,
        findings=findings,
        rules_evaluated=evaluated,
        rules_skipped=tuple(skipped),
    )


def validate_batch(
    docs: Sequence[DteDocument],
    *,
    today: date,
    history: VendorHistory | None = None,
    config: RuleConfig = DEFAULT_RULE_CONFIG,
) -> list[ValidationReport]:
    """Validate the documents of one envío; a folio repeated inside the batch is a duplicate.

    Each document sees the given history plus the documents before it in the
    batch, so the second copy of a folio gets ``DTE_DUPLICATE_FOLIO``.
    """
    base = history or VendorHistory()
    seen: list[HistoryDocument] = []
    reports = []
    for doc in docs:
        extended = VendorHistory(rut_emisor=base.rut_emisor, documents=(*base.documents, *seen))
        reports.append(validate(doc, today=today, history=extended, config=config))
        seen.append(
            HistoryDocument(
                tipo_dte=doc.tipo_dte,
                folio=doc.folio,
                fecha_emision=doc.id_doc.fecha_emision,
                monto_total=doc.totales.mnt_total,
                rut_emisor=canonical_rut(doc.emisor.rut) or doc.emisor.rut,
            )
        )
    return reports
