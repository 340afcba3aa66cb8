"""HTTP routes of the DTE plugin (paths kept from the original service).

- ``POST /api/ai/validate``: one document (or envío) → verdict;
- ``POST /api/ai/validate/batch``: up to ``batch_max_documents`` → verdicts in order;
- ``POST /api/ai/reception/match_po``: the invoice's purchase order.

Every route answers 200 on success (the Odoo client treats anything else as a failure),
422 with ``detail`` and ``errors: [{field, message}]`` when the input cannot be read, and
403 outside the API key's companies.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Annotated, Any, Final, cast

import msgspec
from litestar import Request, Response, post
from litestar.enums import RequestEncodingType
from litestar.params import Body, JSONBody
from litestar.status_codes import HTTP_422_UNPROCESSABLE_ENTITY
from litestar.types import ExceptionHandlersMap
from quipu.api import (
    Caller,
    Plugin,
    ResponseCache,
    Service,
    ServiceKey,
    error_response,
    response_ttl,
)

from quipu_dte.batch import Settled, check_batch, item_input
from quipu_dte.config import DteConfig
from quipu_dte.errors import DteInputError
from quipu_dte.openapi import MATCH_INVOICE_SCHEMA
from quipu_dte.responses import DEGRADED_TTL_S, RESPONSE_POLICY, vary
from quipu_dte.rules import RULESET_VERSION, parse_history
from quipu_dte.schemas import (
    BatchItem,
    BatchRequest,
    BatchResponse,
    BatchSummary,
    ErrorBody,
    FieldProblem,
    MatchPoRequest,
    MatchPoResponse,
    ValidateRequest,
    ValidateResponse,
)
from quipu_dte.service import (
    Checked,
    DteRuntime,
    ReviewContext,
    review_checked,
    validate_payload,
)
from quipu_dte.tiebreak import match_po

__all__ = [
    "DTE_RUNTIME",
    "ROUTES",
    "match_po_route",
    "runtime",
    "runtime_service",
    "validate_batch_route",
    "validate_route",
]

log = logging.getLogger("quipu.dte")
#: The plugin's context, injected into its handlers as ``plugin``.
Dte = Plugin[DteConfig]
#: The plugin's per-app runtime (resolved rule config and time zone).
DTE_RUNTIME = ServiceKey("dte.runtime", DteRuntime)


def runtime_service(platform: Dte) -> Service[DteRuntime]:
    """The runtime, built once per app from the validated ``[plugins.<name>]``."""
    return Service(DTE_RUNTIME, DteRuntime.build(platform.name, platform.config))


def runtime(plugin: Dte) -> DteRuntime:
    """The plugin's runtime for this app."""
    return plugin.service(DTE_RUNTIME)


def _context(
    request: Request[Any, Any, Any],
    plugin: Dte,
    company: int,
    slots: asyncio.Semaphore | None = None,
) -> ReviewContext:
    return ReviewContext(
        runtime=runtime(plugin),
        company=company,
        gateway=plugin.llm_for(request),
        cache=plugin.cache_for(request),
        slots=slots,
    )


def _problems(exc: DteInputError) -> tuple[str, list[FieldProblem]]:
    items = [FieldProblem(field=path, message=message) for path, message in exc.problems]
    detail = "; ".join(f"{p.field}: {p.message}" if p.field else p.message for p in items)
    return detail, items


def invalid_input(request: Request[Any, Any, Any], exc: DteInputError) -> Response[Any]:
    """422 naming every field that could not be read and how to fix it."""
    detail, items = _problems(exc)
    return error_response(
        request,
        HTTP_422_UNPROCESSABLE_ENTITY,
        detail,
        errors=[{"field": p.field, "message": p.message} for p in items],
    )


_HANDLERS: ExceptionHandlersMap = {DteInputError: invalid_input}
#: A batch's own body limit: 500 documents of 60 lines as SII XML are ~10 MiB.
BATCH_MAX_BODY_BYTES: Final = 32 * 1024 * 1024
#: A repeated body is answered from stored bytes before any parsing (quipu.cache.responses).
_RESPONSES = {"response_cache": ResponseCache(policy=RESPONSE_POLICY, vary=vary)}


def _keep_briefly_if_degraded(request: Request[Any, Any, Any], ai_statuses: list[str]) -> None:
    """An answer given without its AI review is stored for seconds, not as final."""
    if "unavailable" in ai_statuses:
        response_ttl(request.scope, DEGRADED_TTL_S)


@post(
    "/api/ai/validate",
    status_code=200,
    summary="Pre-validate a DTE",
    description=(
        "Rules first (exact, authoritative), then an AI review where it adds something; "
        "the AI review is cached (policy dte.validation) and reported in `ai`. An identical "
        "body repeated is answered from the response cache (policy dte.responses) with "
        "`Cache-Status: quipu; hit`."
    ),
    exception_handlers=_HANDLERS,
    opt=_RESPONSES,
)
async def validate_route(
    request: Request[Any, Any, Any],
    data: JSONBody[ValidateRequest],
    principal: Caller,
    plugin: Dte,
) -> Response[ValidateResponse]:
    """``{dte_data, company_id, history?}`` → ``{confidence, warnings, errors, ...}``."""
    principal.require_company(data.company_id)
    ctx = _context(request, plugin, data.company_id)
    outcome = await validate_payload(ctx, data.dte_data, data.history)
    _keep_briefly_if_degraded(request, [outcome.response.ai.status])
    return Response(outcome.response, status_code=200, headers=outcome.headers)


def _rebased(exc: DteInputError, base: str, wrapped: bool) -> DteInputError:
    """Paths relative to the batch body: ``documents[3].dte_data.monto_iva``.

    A bare item *is* the ``dte_data``, so its paths lose that segment:
    ``documents[3].monto_iva``.
    """
    fixed = []
    for where, message in exc.problems:
        if wrapped or where.startswith("history"):
            fixed.append((f"{base}.{where}", message))
        else:
            rest = where[len("dte_data") :]
            fixed.append((f"{base}{rest}", message))
    return DteInputError(fixed)


@post(
    "/api/ai/validate/batch",
    status_code=200,
    summary="Pre-validate many DTEs",
    description=(
        "Up to `batch_max_documents` documents; one answer per document, in order, each a "
        "`result` or its own `error`. Shares the AI review cache; AI calls run with bounded "
        "concurrency (`batch_llm_concurrency`). An identical body repeated is answered from "
        "the response cache (policy dte.responses)."
    ),
    exception_handlers=_HANDLERS,
    opt=_RESPONSES,
    request_max_body_size=BATCH_MAX_BODY_BYTES,
)
async def validate_batch_route(
    request: Request[Any, Any, Any],
    data: JSONBody[BatchRequest],
    principal: Caller,
    plugin: Dte,
) -> BatchResponse:
    """``{documents: [...], company_id, history?}`` → ``{results: [...], summary}``."""
    principal.require_company(data.company_id)
    config = runtime(plugin).config
    count = len(data.documents)
    if count > config.batch_max_documents:
        # 422 like any value out of its published range (maxItems), not 413: the body's
        # size is fine, its count is not.
        raise DteInputError(
            [
                (
                    "documents",
                    f"{count} items; at most {config.batch_max_documents} are accepted per "
                    "call: split the batch",
                )
            ]
        )
    if count == 0:
        raise DteInputError([("documents", "empty; send at least one document")])
    # A shared history that cannot be read fails the whole batch (422), once.
    shared = parse_history(data.history) if data.history is not None else None
    ctx = _context(
        request, plugin, data.company_id, asyncio.Semaphore(config.batch_llm_concurrency)
    )
    # Parsing and rules are CPU work (up to ~1 s for 500 XML documents): spread over
    # processes (large batches) or one thread, so the event loop keeps serving meanwhile.
    # A folio sent twice in the batch is flagged there too (DTE_DUPLICATE_FOLIO).
    ai_ready = ctx.gateway is not None and ctx.gateway.available
    checked = await check_batch(ctx.runtime, data.documents, shared, ai_ready)

    async def one(index: int, item: Checked | Exception) -> BatchItem:
        if isinstance(item, DteInputError):
            wrapped = item_input(data.documents[index])[2]
            detail, items = _problems(_rebased(item, f"documents[{index}]", wrapped))
            return BatchItem(index=index, error=ErrorBody(detail=detail, errors=items))
        failure: BaseException | None = item if isinstance(item, Exception) else None
        if isinstance(item, Checked):
            try:
                reviewed = await review_checked(ctx, item)
                return BatchItem(index=index, result=reviewed.response)
            except Exception as exc:
                failure = exc
        # One bad document must not fail the other 499: it gets its own 500-like error.
        log.error("batch item %d failed unexpectedly", index, exc_info=failure)
        detail = "internal error while validating this document; quote the request_id"
        return BatchItem(index=index, error=ErrorBody(detail=detail))

    # Finished items need no task of their own; the rest (AI review, errors) run together.
    open_items = [(i, c) for i, c in enumerate(checked) if not isinstance(c, Settled)]
    answered = await asyncio.gather(*(one(i, c) for i, c in open_items))
    reviewed = {i: item for (i, _), item in zip(open_items, answered, strict=True)}
    results = [
        BatchItem(index=i, result=_encoded(c.body)) if isinstance(c, Settled) else reviewed[i]
        for i, c in enumerate(checked)
    ]
    verdicts = [
        (c.recommendation, c.ai_status)
        if isinstance(c, Settled)
        else (r.result.recommendation, r.result.ai.status)
        for c, r in zip(checked, results, strict=True)
        if r.result is not None
    ]
    _keep_briefly_if_degraded(request, [status for _, status in verdicts])
    return BatchResponse(
        results=results,
        summary=_summary(len(results), verdicts),
        ruleset_version=RULESET_VERSION,
    )


def _encoded(body: bytes) -> ValidateResponse:
    """An answer a batch worker already encoded, sent as it is.

    msgspec writes a ``Raw`` value verbatim, so the server process neither decodes nor
    re-encodes the answers its workers finished; it stands where a ValidateResponse is
    declared (the schema and the bytes are the same), hence the cast.
    """
    return cast(ValidateResponse, msgspec.Raw(body))


def _summary(items: int, verdicts: list[tuple[str, str]]) -> BatchSummary:
    """Counts over ``verdicts``: (recommendation, AI status) of each item answered."""
    return BatchSummary(
        items=items,
        send=sum(rec == "send" for rec, _ in verdicts),
        review=sum(rec == "review" for rec, _ in verdicts),
        reject=sum(rec == "reject" for rec, _ in verdicts),
        failed=items - len(verdicts),
        ai_used=sum(status == "used" for _, status in verdicts),
        ai_cached=sum(status == "cached" for _, status in verdicts),
    )


#: What match_po reads, as a whole: the POs, and the invoice as ``dte_data`` or
#: ``invoice_data`` (the fields' own schemas say what each holds).
MatchPoBody = Annotated[
    MatchPoRequest,
    Body(
        media_type=RequestEncodingType.JSON,
        schema_extra={
            "required": ["pending_pos"],
            "any_of": [
                {"required": ["dte_data"], "properties": {"dte_data": {"type": "object"}}},
                {
                    "required": ["invoice_data"],
                    "properties": {
                        "dte_data": {"type": "null"},
                        "invoice_data": MATCH_INVOICE_SCHEMA,
                    },
                },
            ],
        },
    ),
]


@post(
    "/api/ai/reception/match_po",
    status_code=200,
    summary="Match a received invoice to a pending purchase order",
    description=(
        "Deterministic scoring on partner, amounts and lines; on a tie the LLM chooses "
        "among the tied candidates only. Accepts `dte_data` (what Odoo sends) or "
        "`invoice_data`."
    ),
    exception_handlers=_HANDLERS,
)
async def match_po_route(
    request: Request[Any, Any, Any], data: MatchPoBody, principal: Caller, plugin: Dte
) -> MatchPoResponse:
    """``{dte_data | invoice_data, pending_pos, company_id}`` → ``{matched_po_id, ...}``."""
    principal.require_company(data.company_id)
    payload: dict[str, Any] = {"pending_pos": data.pending_pos}
    if data.dte_data is not None or data.invoice_data is None:
        payload["dte_data"] = data.dte_data
    else:
        payload["invoice_data"] = data.invoice_data
    rt = runtime(plugin)
    return await match_po(
        payload,
        gateway=plugin.llm_for(request),
        plugin=rt.name,
        company=data.company_id,
        deadline_s=rt.config.ai_deadline_s,
    )


ROUTES = (validate_route, validate_batch_route, match_po_route)
