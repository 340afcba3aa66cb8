"""Request and response bodies of the DTE routes.

Requests keep the original service's field names and ignore keys they do not know (Odoo
sends ``"mode": "reception"``). Responses extend the original ``{confidence, warnings,
errors, recommendation}`` with structured findings, the AI review's status and the rule
set's version; see the plugin's README for every field.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any, Literal

import msgspec

from quipu_dte.match_types import Candidate, LineMatch
from quipu_dte.openapi import (
    DTE_DATA_SCHEMA,
    HISTORY_SCHEMA,
    MATCH_INVOICE_SCHEMA,
    PENDING_POS_SCHEMA,
    schema_extra,
)

__all__ = [
    "AiInfo",
    "AiStatus",
    "AiUsage",
    "BatchItem",
    "BatchRequest",
    "BatchResponse",
    "BatchSummary",
    "DocumentResult",
    "ErrorBody",
    "FieldProblem",
    "FindingOut",
    "MatchMethod",
    "MatchPoRequest",
    "MatchPoResponse",
    "Recommendation",
    "ValidateRequest",
    "ValidateResponse",
]

_CompanyIdInt = Annotated[int, msgspec.Meta(gt=0, description="Odoo company id (> 0)")]
# Some Odoo clients send the id as a JSON string ("1"); a string of digits is read as the
# same id (converted in __post_init__), anything else is still a 422.
_CompanyIdText = Annotated[
    str, msgspec.Meta(pattern=r"^[1-9][0-9]{0,17}$", description="Odoo company id as digits")
]
_COMPANY_FORMS = [
    {"type": "integer", "exclusiveMinimum": 0},
    {"type": "string", "pattern": "^[1-9][0-9]{0,17}$"},
]
if TYPE_CHECKING:
    CompanyId = int  # what handlers see: always an int after __post_init__
else:
    # Litestar drops the members' constraints from a union's schema: state them.
    CompanyId = Annotated[
        _CompanyIdInt | _CompanyIdText,
        msgspec.Meta(
            description="Odoo company id (> 0), a number or a string of digits",
            extra_json_schema={"extra": {"one_of": _COMPANY_FORMS}},
        ),
    ]

History = Annotated[
    list[Any] | dict[str, Any] | None, msgspec.Meta(extra_json_schema=schema_extra(HISTORY_SCHEMA))
]
#: ``dte_data``: its published schema states what the readers accept (quipu_dte.openapi).
DteData = Annotated[dict[str, Any], msgspec.Meta(extra_json_schema=schema_extra(DTE_DATA_SCHEMA))]
Recommendation = Literal["send", "review", "reject"]
AiStatus = Literal["used", "cached", "skipped", "unavailable"]
MatchMethod = Literal["rules", "ai", "rules_tie_unresolved"]


class ValidateRequest(msgspec.Struct, kw_only=True):
    """``POST /api/ai/validate``: ``{dte_data, company_id, history?}`` (extra keys ignored).

    ``dte_data`` is Odoo's flat form, ``{"dte_xml": "<DTE …>"}`` (DTE, EnvioDTE or
    EnvioBOLETA), or the document as JSON with the SII element names. ``history`` is the
    vendor's earlier documents: a list of flat items (as Odoo sends them) or
    ``{"rut_emisor", "documents": [...]}``.
    """

    dte_data: DteData
    company_id: CompanyId
    history: History = None

    def __post_init__(self) -> None:
        self.company_id = int(self.company_id)


class BatchRequest(msgspec.Struct, kw_only=True):
    """``POST /api/ai/validate/batch``.

    ``documents`` items are either ``{"dte_data": ..., "history"?: ...}`` or a bare
    ``dte_data`` object; ``history`` at the top level applies to items without their own.
    """

    documents: Annotated[
        list[Any],
        msgspec.Meta(
            extra_json_schema={
                "description": "documents to validate, 1 to `[plugins.dte] batch_max_documents` "
                "(500 by default); each `{dte_data, history?}` or a bare `dte_data`; an item "
                "that cannot be read is answered in its place, the others still are",
                "extra": {"min_items": 1, "max_items": 500},
            }
        ),
    ]
    company_id: CompanyId
    history: History = None

    def __post_init__(self) -> None:
        self.company_id = int(self.company_id)


class MatchPoRequest(msgspec.Struct, kw_only=True):
    """``POST /api/ai/reception/match_po``: what Odoo sends (``dte_data``) or ``invoice_data``."""

    pending_pos: Annotated[
        Any, msgspec.Meta(extra_json_schema=schema_extra(PENDING_POS_SCHEMA))
    ] = None
    dte_data: Annotated[
        Any,
        msgspec.Meta(
            extra_json_schema={
                "description": MATCH_INVOICE_SCHEMA["description"],
                "extra": {"one_of": [MATCH_INVOICE_SCHEMA, {"type": "null"}]},
            }
        ),
    ] = None
    invoice_data: Annotated[
        Any,
        msgspec.Meta(
            extra_json_schema={
                "description": "the invoice, as in `dte_data`; read only when `dte_data` is "
                "left out or null"
            }
        ),
    ] = None
    company_id: Annotated[
        CompanyId | None,
        # Litestar drops the constraint of an optional field; state it.
        msgspec.Meta(extra_json_schema={"extra": {"one_of": [*_COMPANY_FORMS, {"type": "null"}]}}),
    ] = None

    def __post_init__(self) -> None:
        if self.company_id is not None:
            self.company_id = int(self.company_id)


class AiUsage(msgspec.Struct, frozen=True, kw_only=True):
    """Tokens the AI review consumed in this request."""

    input_tokens: int
    output_tokens: int
    cache_read_tokens: int
    cache_write_tokens: int


class AiInfo(msgspec.Struct, frozen=True, kw_only=True, omit_defaults=True):
    """What the AI contributed.

    ``status``: ``used`` (called for this request), ``cached`` (the review of an identical
    request, from the cache: nothing spent), ``skipped`` (not configured, disabled or not
    needed: see ``reason``) or ``unavailable`` (the call failed or was refused: the verdict
    is the rules' alone, see ``reason`` and ``detail``).
    """

    status: AiStatus
    reason: str | None = None
    detail: str | None = None
    model: str | None = None
    usage: AiUsage | None = None
    cost_usd: float | None = None


class FindingOut(msgspec.Struct, frozen=True, kw_only=True, omit_defaults=True):
    """One finding: from the rule engine (authoritative) or an AI observation (a warning)."""

    code: str
    severity: Literal["error", "warning"]
    path: str
    expected: str | None
    actual: str | None
    message: str
    source: Literal["rules", "ai"]
    document: str | None = None
    """The document's natural key (``RUT/tipo/folio``), only in an envío's aggregate list."""


class DocumentResult(msgspec.Struct, frozen=True, kw_only=True):
    """The verdict on one document of an envío."""

    document: str
    recommendation: Recommendation
    confidence: float
    errors: list[str]
    warnings: list[str]
    findings: list[FindingOut]
    ai: AiInfo


class ValidateResponse(msgspec.Struct, frozen=True, kw_only=True, omit_defaults=True):
    """The original ``DTEValidationResponse`` plus structured detail.

    For an envío with several documents the top level is the aggregate (worst
    recommendation, messages prefixed with the document's key) and ``documents`` holds the
    verdict on each.
    """

    confidence: float
    warnings: list[str]
    errors: list[str]
    recommendation: Recommendation
    findings: list[FindingOut]
    ai: AiInfo
    ruleset_version: str
    document: str
    documents: list[DocumentResult] | None = None


class FieldProblem(msgspec.Struct, frozen=True, kw_only=True):
    """One problem of the input: where, and what to fix."""

    field: str
    message: str


class ErrorBody(msgspec.Struct, frozen=True, kw_only=True, omit_defaults=True):
    """An error of one batch item, shaped like the route's 422 body."""

    detail: str
    errors: list[FieldProblem] | None = None


class BatchItem(msgspec.Struct, frozen=True, kw_only=True, omit_defaults=True):
    """One answer of a batch: ``result`` or ``error``, at the item's ``index``."""

    index: int
    result: ValidateResponse | None = None
    error: ErrorBody | None = None


class BatchSummary(msgspec.Struct, frozen=True, kw_only=True):
    """Counts over the batch (``failed``: items that could not be read)."""

    items: int
    send: int
    review: int
    reject: int
    failed: int
    ai_used: int
    ai_cached: int


class BatchResponse(msgspec.Struct, frozen=True, kw_only=True):
    """``POST /api/ai/validate/batch``: one item per input document, in order."""

    results: list[BatchItem]
    summary: BatchSummary
    ruleset_version: str


class MatchPoResponse(msgspec.Struct, frozen=True, kw_only=True):
    """The original ``POMatchResponse`` plus candidates, the method and the AI's status."""

    matched_po_id: int | str | None
    confidence: float
    line_matches: list[LineMatch]
    reasoning: str
    candidates: list[Candidate]
    method: MatchMethod
    ai: AiInfo
