"""``POST /api/payroll/validate``: the exact slip check, with an optional AI review.

The body is the payload Odoo sends (original-ai-service.md §1.3.9, §7.4) or the
structured form (``periodo``/``haberes`` present). The period's indicators come from the
Previred plugin's lookup (admin-loaded values, shipped values, a stored fetch); values
the request gives in ``indicadores`` win. The answer keeps the original's fields
(``success``, ``confidence``, ``errors``, ``warnings``, ``recommendation``) and adds
``findings``, ``breakdown``, ``indicators`` and ``ai``.

Only input that cannot be read as a slip is refused (422 with every field path and a
hint); a realistic slip always gets 200 with findings. Odoo sends no ``company_id``: the
key's own scope then labels the request; when a body carries one, the key must be allowed
to act for it (403 otherwise).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Annotated, Any, Final, Literal

import msgspec
from litestar import Request, Response, post
from litestar.enums import RequestEncodingType
from litestar.openapi.datastructures import ResponseSpec
from litestar.params import Body
from litestar.status_codes import HTTP_422_UNPROCESSABLE_ENTITY
from quipu.api import (
    Caller,
    Plugin,
    Principal,
    ResponseCache,
    error_response,
    response_ttl,
)
from quipu_previred.clock import today_chile
from quipu_previred.indicators import Indicators, period_label
from quipu_previred.lookup import INDICATORS

from quipu_payroll.breakdown import Breakdown
from quipu_payroll.checker import PayrollReport, Recommendation, check
from quipu_payroll.config import AiReview, PayrollConfig
from quipu_payroll.findings import Finding, finding
from quipu_payroll.odoo import from_odoo
from quipu_payroll.odoo_payload import parse_odoo
from quipu_payroll.openapi import ODOO_PAYLOAD_SCHEMA
from quipu_payroll.responses import DEGRADED_TTL_S, RESPONSE_POLICY, vary
from quipu_payroll.review import AiInfo, merge, run_review
from quipu_payroll.schemas import (
    InputProblem,
    OdooLine,
    SlipInputError,
    StructuredSlip,
    parse_structured,
)

__all__ = ["IndicatorsUsed", "ValidateResponse", "validate_payslip"]

log = logging.getLogger("quipu.payroll")

_DEFAULT_CONFIG: Final = PayrollConfig()


class IndicatorsUsed(msgspec.Struct, frozen=True, kw_only=True):
    """Which indicators the check used: ``admin``, ``published``, ``previred_fetch`` or
    ``none`` (no source has the month: only what does not depend on them was checked)."""

    period: str
    source: str


class ValidateResponse(msgspec.Struct, frozen=True, kw_only=True):
    """The original's five fields plus what the check found and how.

    ``success`` is true whenever the slip was checked. ``confidence`` (0-100) is the
    share of the rules' comparisons that passed, capped at 79 with warnings and 49 with
    errors; ``verdict_by`` says whether AI observations took part (they can only lower
    the recommendation).
    """

    success: bool
    confidence: float
    errors: list[str]
    warnings: list[str]
    recommendation: Recommendation
    findings: list[Finding]
    breakdown: Breakdown | None
    indicators: IndicatorsUsed
    ai: AiInfo
    checks_run: int
    checks_passed: int
    verdict_by: Literal["rules", "rules+ai"] = "rules"


#: The payroll plugin's context, injected into its handler as ``plugin``.
Payroll = Plugin[PayrollConfig]


def _config(plugin: Payroll) -> PayrollConfig:
    found = plugin.config
    return found if isinstance(found, PayrollConfig) else _DEFAULT_CONFIG


def _unprocessable(
    request: Request[Any, Any, Any], problems: Sequence[InputProblem]
) -> Response[Any]:
    detail = "Liquidación no verificable: " + "; ".join(
        f"{p.path}: {p.message}" + (f" ({p.hint})" if p.hint else "") for p in problems
    )
    errors = [
        {"field": p.path, "source": "body", "message": p.message, "hint": p.hint} for p in problems
    ]
    return error_response(request, HTTP_422_UNPROCESSABLE_ENTITY, detail, errors=errors)


def _company(data: dict[str, Any], principal: Principal) -> tuple[str, int | None] | InputProblem:
    """``(cache label, LLM budget company)``; 403 when the key may not act for it."""
    raw = data.get("company_id")
    if raw is None:
        scope = principal.companies or frozenset()
        return principal.company_scope, next(iter(scope)) if len(scope) == 1 else None
    try:
        company = int(raw)
    except (TypeError, ValueError):
        return InputProblem("company_id", "debe ser un número entero", "p. ej. 1")
    principal.require_company(company)
    return str(company), company


def _unavailable(period: str, path: str) -> Finding:
    message = (
        f"No hay indicadores Previred para {period} ({period_label(period)}): solo se "
        "verificó lo que no depende de ellos. Un administrador puede cargarlos en "
        f"PUT /api/payroll/indicators/{period}."
    )
    return finding("PAY_INDICATORS_UNAVAILABLE", path, message)


def _failed(exc: Exception, period: str, mode: AiReview) -> ValidateResponse:
    """The original's answer when checking itself failed: 200, success false, review."""
    return ValidateResponse(
        success=False,
        confidence=0.0,
        errors=[f"Error en validación: {type(exc).__name__}: {str(exc)[:100]}"],
        warnings=[],
        recommendation="review",
        findings=[],
        breakdown=None,
        indicators=IndicatorsUsed(period=period, source="none"),
        ai=AiInfo(status="skipped", mode=mode, detail="la verificación falló"),
        checks_run=0,
        checks_passed=0,
    )


#: The body, published as parse_odoo reads it (quipu_payroll.openapi).
PayslipBody = Annotated[
    Any,
    Body(
        media_type=RequestEncodingType.JSON,
        schema_extra={key: ODOO_PAYLOAD_SCHEMA[key] for key in ("type", "required", "properties")}
        | {"description": ODOO_PAYLOAD_SCHEMA["description"]},
    ),
]


@post(
    "/api/payroll/validate",
    status_code=200,
    summary="Check a payslip (liquidación) to the peso",
    description=(
        "Accepts Odoo's payload as sent (`employee_id`, `wage`, `lines`, `period`, totals) or "
        "the structured form (`periodo`, `haberes`, `descuentos`...). Answers the original "
        "fields `success`, `confidence`, `errors`, `warnings`, `recommendation` plus "
        "`findings`, `breakdown`, `indicators` and `ai`."
    ),
    responses={
        200: ResponseSpec(ValidateResponse, description="The check", generate_examples=False)
    },
    # A repeated body is answered from stored bytes (policy payroll.responses).
    opt={
        "response_cache": ResponseCache(
            policy=RESPONSE_POLICY, company_optional=True, fields=("period", "periodo"), vary=vary
        )
    },
)
async def validate_payslip(
    request: Request[Any, Any, Any], data: PayslipBody, principal: Caller, plugin: Payroll
) -> Response[Any]:
    """Check the slip; 422 only when it cannot be read as a slip."""
    if not isinstance(data, dict):
        problem = InputProblem(
            "$",
            f"se esperaba un objeto JSON, llegó {type(data).__name__}",
            "envíe el payload de Odoo o la forma estructurada",
        )
        return _unprocessable(request, [problem])
    company = _company(data, principal)
    if isinstance(company, InputProblem):
        return _unprocessable(request, [company])
    cache_company, llm_company = company
    config = _config(plugin)
    structured = "periodo" in data or "haberes" in data
    lines: Sequence[OdooLine] = ()
    slip: StructuredSlip
    try:
        if structured:
            slip = parse_structured(data)
            period = slip.periodo
        else:
            payload = parse_odoo(data)
            period, lines = payload.period, payload.lines
    except SlipInputError as exc:
        return _unprocessable(request, exc.problems)
    resolved = await plugin.service(INDICATORS).resolve(period)
    source = resolved.source if resolved is not None else "none"
    ind: Indicators | None = resolved.indicators if resolved is not None else None
    table = ind if ind is not None else Indicators(period=period)
    extra = [] if ind is not None else [_unavailable(period, "periodo" if structured else "period")]
    try:
        if not structured:
            # check_odoo's steps, kept apart because the AI review needs the mapped slip.
            slip, mapped = from_odoo(
                payload,
                table,
                code_map=config.line_codes,
                today=today_chile(),
                tolerance=config.tolerance,
            )
            extra += mapped
        report = check(slip, table, extra=extra, tolerance=config.tolerance)
    except Exception as exc:  # a bug must not cost Odoo its answer (original §1.3.9)
        log.exception("checking a payslip of %s failed", period)
        response_ttl(request.scope, 0)  # a failure is never kept as the answer
        return Response(_failed(exc, period, config.ai_review))
    ai, observations = await run_review(
        request,
        plugin,
        config,
        slip=slip,
        lines=lines,
        report=report,
        cache_company=cache_company,
        llm_company=llm_company,
    )
    if ai.status == "unavailable":
        response_ttl(request.scope, DEGRADED_TTL_S)  # a recovered model reviews it soon
    return Response(
        _response(report, ai, observations, IndicatorsUsed(period=period, source=source))
    )


def _response(
    report: PayrollReport, ai: AiInfo, observations: Sequence[Any], used: IndicatorsUsed
) -> ValidateResponse:
    merged = merge(report, observations)
    return ValidateResponse(
        success=True,
        confidence=merged.confidence,
        errors=merged.errors,
        warnings=merged.warnings,
        recommendation=merged.recommendation,
        findings=merged.findings,
        breakdown=report.breakdown,
        indicators=used,
        ai=ai,
        checks_run=report.checks_run,
        checks_passed=report.checks_passed,
        verdict_by="rules+ai" if observations else "rules",
    )
