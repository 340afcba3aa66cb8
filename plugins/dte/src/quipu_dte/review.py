"""The AI review of a validated DTE, and how it merges with the rule verdict.

What the model gets (as data, each in its own ``<data>`` block): the normalised document,
the rule findings, a summary of the vendor's history and the validation context. What it
answers, through the forced tool ``record_review`` (never parsed out of free text):
observations (always warnings, codes starting ``AI_``), a confidence adjustment (<= 0) and
whether a person should look at the document.

The rules are authoritative. :func:`merge` lets the AI add warnings, lower confidence or
ask for review; it cannot remove or downgrade a rule error, and it cannot raise the
recommendation: errors mean ``reject``, warnings at least ``review``. A reply that does not
follow the schema is an unavailable review (``invalid_reply``), never a pass.
"""

from __future__ import annotations

import logging
import math
import re
from collections.abc import Mapping
from datetime import date
from typing import TYPE_CHECKING, Any, Final, Literal

import msgspec

from quipu_dte.rules import RULESET_VERSION, ValidationReport, confidence
from quipu_dte.schemas import AiInfo, AiUsage, DocumentResult, FindingOut

if TYPE_CHECKING:
    import asyncio

    from quipu.api import LlmGateway, LlmResult

    from quipu_dte.model import DteDocument
    from quipu_dte.rules import VendorHistory

__all__ = [
    "MAX_AI_LINES",
    "MAX_OBSERVATIONS",
    "RECORD_REVIEW_TOOL",
    "AiObservation",
    "AiReview",
    "ai_info",
    "cacheable",
    "merge",
    "parse_review",
    "review_data",
    "run_review",
    "skip_reason",
    "unavailable",
]

log = logging.getLogger("quipu.dte.review")

#: Lines of a long document sent to the model (the rules check every line anyway).
MAX_AI_LINES: Final = 100
#: Observations kept from one reply; more are dropped.
MAX_OBSERVATIONS: Final = 10
MAX_MESSAGE_CHARS: Final = 500
MAX_PATH_CHARS: Final = 200
#: The most the AI may lower confidence by.
MAX_CONFIDENCE_DROP: Final = 50.0
_CODE_CHARS = re.compile(r"[^A-Z0-9_]+")

RECORD_REVIEW_TOOL: Final[dict[str, Any]] = {
    "name": "record_review",
    "description": (
        "Registra la revisión complementaria del DTE: observaciones (solo advertencias, "
        "códigos AI_...), el ajuste de confianza (cero o negativo) y si requiere revisión "
        "manual. Llama siempre a esta herramienta, aunque no haya observaciones."
    ),
    "input_schema": {
        "type": "object",
        "properties": {
            "observations": {
                "type": "array",
                "maxItems": MAX_OBSERVATIONS,
                "items": {
                    "type": "object",
                    "properties": {
                        "code": {
                            "type": "string",
                            "description": "Código en mayúsculas que empieza con AI_",
                        },
                        "severity": {"type": "string", "enum": ["warning"]},
                        "message": {"type": "string", "maxLength": MAX_MESSAGE_CHARS},
                        "path": {"type": "string", "description": "Ruta SII del dato"},
                    },
                    "required": ["code", "severity", "message"],
                    "additionalProperties": False,
                },
            },
            "confidence_adjustment": {
                "type": "number",
                "minimum": -MAX_CONFIDENCE_DROP,
                "maximum": 0,
            },
            "needs_review": {"type": "boolean"},
        },
        "required": ["observations", "confidence_adjustment", "needs_review"],
        "additionalProperties": False,
    },
}
TOOL_CHOICE: Final = {"type": "tool", "name": "record_review"}


class AiObservation(msgspec.Struct, frozen=True, kw_only=True, omit_defaults=True):
    """One sanitised observation of the model (always a warning)."""

    code: str
    message: str
    path: str | None = None


class AiReview(msgspec.Struct, frozen=True, kw_only=True, omit_defaults=True):
    """The outcome of one AI review call; what the cache stores (only when ``used``)."""

    status: Literal["used", "unavailable"]
    reason: str | None = None
    detail: str | None = None
    observations: tuple[AiObservation, ...] = ()
    confidence_adjustment: float = 0.0
    needs_review: bool = False
    model: str | None = None
    usage: AiUsage | None = None
    cost_usd: float | None = None


class _RawObservation(msgspec.Struct):
    code: str = ""
    message: str = ""
    path: str | None = None
    severity: str = "warning"


class _RawReview(msgspec.Struct):
    """What the tool input is read as; unknown keys (``recommendation``...) are ignored."""

    observations: list[_RawObservation] = msgspec.field(default_factory=list)
    confidence_adjustment: float = 0.0
    needs_review: bool = False


def unavailable(reason: str, detail: str) -> AiReview:
    """An AI review that did not happen, and why."""
    return AiReview(status="unavailable", reason=reason, detail=detail[:300])


def cacheable(value: Any) -> bool:
    """The ``cache_if`` of the ``validation`` policy: only successful reviews are stored."""
    if isinstance(value, AiReview):
        return value.status == "used"
    return isinstance(value, Mapping) and value.get("status") == "used"


def skip_reason(
    mode: str,
    *,
    required: bool,
    doc: DteDocument,
    report: ValidationReport,
    history: VendorHistory,
) -> str | None:
    """Why the AI review is not needed for this document, or None when it should run.

    ``auto`` reviews only where the AI can add something the rules cannot: a vendor
    history to compare amounts and counterparts against, or line descriptions to check
    against the supplier's line of business (giro/Acteco). Documents the rules already
    reject are not reviewed (the verdict cannot change), unless ``mode`` is ``always``.
    """
    if mode == "off":
        return "disabled"
    if report.errors and mode != "always":
        return "rules_conclusive"
    if mode == "always" or required:
        return None
    if history.documents:
        return None
    described = any(line.nombre or line.descripcion for line in doc.detalle)
    if described and (doc.emisor.giro or doc.emisor.acteco):
        return None
    return "not_needed"


def review_data(
    doc: DteDocument,
    report: ValidationReport,
    history_summary: dict[str, Any],
    today: date,
    timezone: str,
) -> dict[str, Any]:
    """The data blocks of the review prompt (JSON-ready builtins)."""
    document = doc.canonical()
    document.pop("present", None)
    lines = document.get("detalle") or []
    if len(lines) > MAX_AI_LINES:
        document["detalle"] = lines[:MAX_AI_LINES]
        document["detalle_total_lineas"] = len(lines)
    return {
        "context": {
            "fecha_validacion": today.isoformat(),
            "zona_horaria": timezone,
            "version_reglas": RULESET_VERSION,
            "veredicto_reglas": report.recommendation,
            "historial_vacio": not history_summary.get("documents"),
        },
        "document": document,
        "findings": msgspec.to_builtins(report.findings),
        "history": history_summary,
    }


def _code(raw: str) -> str:
    code = _CODE_CHARS.sub("_", raw.strip().upper()).strip("_")[:48]
    if not code:
        return "AI_OBSERVATION"
    if not code.startswith("AI_") or code == "AI_":
        code = f"AI_{code}"[:48]
    return code


def _observations(raw: list[_RawObservation]) -> tuple[AiObservation, ...]:
    kept: list[AiObservation] = []
    for item in raw:
        message = " ".join(item.message.split())[:MAX_MESSAGE_CHARS]
        if not message:
            continue
        path = (item.path or "").strip()[:MAX_PATH_CHARS] or None
        kept.append(AiObservation(code=_code(item.code), message=message, path=path))
        if len(kept) == MAX_OBSERVATIONS:
            break
    return tuple(kept)


def parse_review(result: LlmResult) -> AiReview:
    """Read the ``record_review`` call of a reply; anything else is ``invalid_reply``."""
    call = next((use for use in result.tool_uses if use.name == "record_review"), None)
    if call is None:
        return unavailable("invalid_reply", "the model answered without calling record_review")
    try:
        raw = msgspec.convert(call.input, _RawReview, strict=False)
    except msgspec.ValidationError as exc:
        return unavailable("invalid_reply", f"record_review input does not match: {exc}")
    adjustment = raw.confidence_adjustment
    if not math.isfinite(adjustment):
        return unavailable("invalid_reply", "confidence_adjustment is not a finite number")
    usage = result.usage
    return AiReview(
        status="used",
        observations=_observations(raw.observations),
        # Only downwards, and bounded: the AI cannot raise confidence.
        confidence_adjustment=round(max(-MAX_CONFIDENCE_DROP, min(0.0, adjustment)), 1),
        needs_review=raw.needs_review,
        model=result.model,
        usage=AiUsage(
            input_tokens=usage.input_tokens,
            output_tokens=usage.output_tokens,
            cache_read_tokens=usage.cache_read_tokens,
            cache_write_tokens=usage.cache_write_tokens,
        ),
        cost_usd=round(result.cost_usd, 6),
    )


async def run_review(
    gateway: LlmGateway,
    *,
    plugin: str,
    company: int,
    data: Mapping[str, Any],
    deadline_s: float,
    slots: asyncio.Semaphore | None = None,
) -> AiReview:
    """Call the model; every failure becomes an unavailable review (never an exception)."""
    from quipu.api import LlmRequestTooLarge, LlmUnavailable, LlmUpstreamError

    from quipu_dte.prompts import REVIEW_PROMPT

    async def call() -> LlmResult:
        return await gateway.complete(
            plugin=plugin,
            prompt=REVIEW_PROMPT,
            company=company,
            data=data,
            tools=[RECORD_REVIEW_TOOL],
            tool_choice=TOOL_CHOICE,
            deadline_s=deadline_s,
        )

    try:
        if slots is None:
            result = await call()
        else:
            async with slots:
                result = await call()
    except LlmUnavailable as exc:
        return unavailable(exc.reason, str(exc.detail))
    except LlmRequestTooLarge as exc:
        return unavailable("too_large", str(exc.detail))
    except LlmUpstreamError as exc:
        return unavailable(exc.kind, str(exc.detail))
    except Exception:  # the AI is optional: a bug here must not fail the validation
        log.exception("AI review failed unexpectedly; serving the rule-based verdict")
        return unavailable("internal_error", "the AI review failed unexpectedly")
    return parse_review(result)


def ai_info(review: AiReview, *, cached: bool) -> AiInfo:
    """The ``ai`` block of a response for a review that was attempted."""
    if review.status == "unavailable":
        return AiInfo(status="unavailable", reason=review.reason, detail=review.detail)
    if cached:
        # Nothing was spent on this request; the usage belongs to the original call.
        return AiInfo(status="cached", model=review.model, cost_usd=0.0)
    return AiInfo(status="used", model=review.model, usage=review.usage, cost_usd=review.cost_usd)


def _rule_finding(finding: Any, document: str | None) -> FindingOut:
    return FindingOut(
        code=finding.code,
        severity=finding.severity,
        path=finding.path,
        expected=finding.expected,
        actual=finding.actual,
        message=finding.message,
        source="rules",
        document=document,
    )


def _ai_finding(code: str, message: str, path: str | None) -> FindingOut:
    return FindingOut(
        code=code,
        severity="warning",
        path=path or "",
        expected=None,
        actual=None,
        message=message,
        source="ai",
    )


def merge(
    report: ValidationReport,
    info: AiInfo,
    review: AiReview | None,
    *,
    required: bool,
) -> DocumentResult:
    """The verdict on one document: the rule report, plus what the AI may add.

    - rule errors and warnings are kept as they are; errors mean ``reject``;
    - AI observations become warnings (``source: "ai"``); with any of them, or with
      ``needs_review``, ``send`` becomes ``review`` (``reject`` stays ``reject``);
    - the AI's ``confidence_adjustment`` (<= 0) lowers the confidence of a ``send`` or
      ``review`` verdict; a ``reject`` keeps the rules' confidence (errors are facts);
    - when the review is ``required`` but did not happen, a clean document gets the
      warning ``AI_REVIEW_UNAVAILABLE`` and so ``review``.
    """
    extra: list[FindingOut] = []
    adjustment = 0.0
    if review is not None and review.status == "used":
        extra = [_ai_finding(o.code, o.message, o.path) for o in review.observations]
        if review.needs_review and not extra:
            extra.append(
                _ai_finding(
                    "AI_NEEDS_REVIEW",
                    "La revisión con IA recomienda que una persona revise este documento.",
                    None,
                )
            )
        adjustment = review.confidence_adjustment
    elif required and info.status in ("skipped", "unavailable") and not report.errors:
        why = info.reason or info.status
        extra.append(
            _ai_finding(
                "AI_REVIEW_UNAVAILABLE",
                "La revisión con IA es obligatoria en esta empresa y no se pudo realizar "
                f"({why}); revise el documento manualmente.",
                None,
            )
        )
    recommendation = report.recommendation
    value = report.confidence
    if extra:
        if recommendation == "send":
            recommendation = "review"
        total = report.rules_evaluated + len(report.rules_skipped)
        coverage = report.rules_evaluated / total if total else 0.0
        value = confidence(recommendation, coverage, len(report.warnings) + len(extra))
    if recommendation != "reject" and adjustment:
        value = round(min(100.0, max(0.0, value + adjustment)), 1)
    findings = [_rule_finding(f, None) for f in report.findings] + extra
    return DocumentResult(
        document=report.document,
        recommendation=recommendation,
        confidence=value,
        errors=list(report.errors),
        warnings=[*report.warnings, *(f"{f.code}: {f.message}" for f in extra)],
        findings=findings,
        ai=info,
    )
