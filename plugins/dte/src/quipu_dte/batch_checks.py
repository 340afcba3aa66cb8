"""Checks across the items of one ``POST /api/ai/validate/batch`` call.

Each item is validated on its own (possibly in another thread or process); what only the
batch as a whole can show is found here afterwards, by pure functions: documents in,
findings out. Today that is a folio sent twice: ``(RUTEmisor, TipoDTE, Folio)`` is the
natural key of a DTE (domain-chile.md §2.7), so its second appearance in one batch is a
``DTE_DUPLICATE_FOLIO``, as it is inside one envío (:func:`quipu_dte.rules.validate_batch`)
or against the vendor's history.
"""

from collections.abc import Sequence

import msgspec

from quipu_dte.model import DteDocument
from quipu_dte.rules.catalogue import CATALOGUE
from quipu_dte.rules.config import DEFAULT_RULE_CONFIG, RuleConfig
from quipu_dte.rules.engine import confidence
from quipu_dte.rules.report import Finding, Recommendation, ValidationReport
from quipu_dte.rut import canonical_rut

__all__ = [
    "DocumentKey",
    "document_key",
    "duplicate_folio_findings",
    "duplicate_key_findings",
    "with_findings",
]

_CODE = "DTE_DUPLICATE_FOLIO"

#: (canonical RUTEmisor, TipoDTE, Folio): the natural key of a DTE.
DocumentKey = tuple[str, int, int]


def document_key(doc: DteDocument) -> DocumentKey | None:
    """The natural key with the RUT in canonical form; None without RUT or folio.

    Small and msgspec-encodable: a caller that caches an item's result can store its
    keys beside it and still run :func:`duplicate_key_findings` over a batch.
    """
    rut, folio = doc.emisor.rut, doc.id_doc.folio
    if rut is None or folio is None:
        return None
    return canonical_rut(rut) or rut, doc.id_doc.tipo_dte, folio


def duplicate_folio_findings(
    items: Sequence[Sequence[DteDocument] | None],
    config: RuleConfig = DEFAULT_RULE_CONFIG,
) -> dict[tuple[int, int], Finding]:
    """A ``DTE_DUPLICATE_FOLIO`` for each document whose key appeared in an earlier item.

    ``items[i]`` holds the documents of the batch's item ``i`` (one, or several for an
    envío), ``None`` for an item that could not be read. The answer maps ``(item index,
    document index in the item)`` to its finding; the first appearance is not flagged.
    Repeats inside one item are left to :func:`~quipu_dte.rules.validate_batch`, which
    already reports them. ``config`` applies its disabled codes and severity overrides.
    """
    keys = [None if docs is None else [document_key(d) for d in docs] for docs in items]
    return duplicate_key_findings(keys, config)


def duplicate_key_findings(
    items: Sequence[Sequence[DocumentKey | None] | None],
    config: RuleConfig = DEFAULT_RULE_CONFIG,
) -> dict[tuple[int, int], Finding]:
    """:func:`duplicate_folio_findings` over the items' :func:`document_key` values."""
    if _CODE in config.disabled_codes:
        return {}
    severity = config.severity_overrides.get(_CODE) or CATALOGUE[_CODE].severity
    first: dict[DocumentKey, int] = {}
    out: dict[tuple[int, int], Finding] = {}
    for index, keys in enumerate(items):
        for position, key in enumerate(keys or ()):
            if key is None:
                continue
            earlier = first.setdefault(key, index)
            if earlier == index:
                continue
            rut, tipo, folio = key
            out[index, position] = Finding(
                code=_CODE,
                severity=severity,
                path="Encabezado.IdDoc.Folio",
                expected=None,
                actual=str(folio),
                message=(
                    f"El folio {folio} (tipo {tipo}) del emisor {rut} ya viene en "
                    f"documents[{earlier}] de este mismo lote: el RUT del emisor, el tipo y "
                    "el folio identifican un DTE y no pueden repetirse."
                ),
            )
    return out


def with_findings(report: ValidationReport, extra: Sequence[Finding]) -> ValidationReport:
    """``report`` with ``extra`` findings appended, verdict and confidence recomputed."""
    if not extra:
        return report
    findings = (*report.findings, *extra)
    errors = tuple(f.as_text() for f in findings if f.severity == "error")
    warnings = tuple(f.as_text() for f in findings if f.severity == "warning")
    recommendation: Recommendation = "reject" if errors else "review" if warnings else "send"
    total = report.rules_evaluated + len(report.rules_skipped)
    coverage = report.rules_evaluated / total if total else 0.0
    return msgspec.structs.replace(
        report,
        findings=findings,
        errors=errors,
        warnings=warnings,
        recommendation=recommendation,
        confidence=confidence(recommendation, coverage, len(warnings)),
    )
