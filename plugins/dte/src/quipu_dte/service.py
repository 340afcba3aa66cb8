"""Validation of one request: parse, rules, the AI review where it helps, and the verdict.

Independent of Litestar: the routes and the batch pass a :class:`ReviewContext` holding the
LLM gateway and the plugin's cache view. The rule engine always runs and is never cached
(it takes well under a millisecond); only the AI review is cached, under the policy
``validation``, keyed by the canonical document, the normalised history, the rule findings,
the rule-set and prompt versions and the validation date. On each request the cached review
is merged with the fresh rule report, so a cached answer is still exact for today's rules.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import date
from typing import TYPE_CHECKING, Any, Final

import msgspec

from quipu_dte import clock
from quipu_dte.batch_checks import duplicate_folio_findings, with_findings
from quipu_dte.errors import DteInputError
from quipu_dte.model import DteDocument, ParsedDocuments
from quipu_dte.parse import parse_dte_data
from quipu_dte.prompts import REVIEW_PROMPT_VERSION
from quipu_dte.review import (
    AiReview,
    ai_info,
    merge,
    review_data,
    run_review,
    skip_reason,
    unavailable,
)
from quipu_dte.rules import (
    RULESET_VERSION,
    RuleConfig,
    ValidationReport,
    VendorHistory,
    parse_history,
    summarize_history,
    validate,
    validate_batch,
)
from quipu_dte.schemas import AiInfo, AiUsage, DocumentResult, FindingOut, ValidateResponse

if TYPE_CHECKING:
    from zoneinfo import ZoneInfo

    from quipu.api import CacheResult, LlmGateway, PluginCache

    from quipu_dte.config import DteConfig

__all__ = [
    "CACHE_POLICY",
    "Checked",
    "DteRuntime",
    "ReviewContext",
    "Validated",
    "check",
    "flag_batch_duplicates",
    "read_inputs",
    "review_checked",
    "settle_without_review",
    "validate_payload",
]

#: The cache policy of AI reviews (``dte.validation``).
CACHE_POLICY: Final = "validation"
_RANK: Final = {"send": 0, "review": 1, "reject": 2}
_AI_RANK: Final = {"skipped": 0, "cached": 1, "used": 2, "unavailable": 3}
_NOT_CONFIGURED: Final = AiInfo(
    status="skipped",
    reason="not_configured",
    detail="the AI service is not configured (ANTHROPIC_API_KEY unset)",
)


@dataclass(frozen=True)
class DteRuntime:
    """What the plugin's handlers need, built once per app from ``[plugins.dte]``."""

    name: str
    config: DteConfig
    rules: RuleConfig
    zone: ZoneInfo

    @classmethod
    def build(cls, name: str, config: DteConfig) -> DteRuntime:
        """Resolve the rule config and time zone (both were validated at start-up)."""
        return cls(name=name, config=config, rules=config.rule_config(), zone=config.zone())

    def today(self) -> date:
        """The validation date in the configured time zone."""
        return clock.today_in(self.zone)


@dataclass
class ReviewContext:
    """One request's access to the AI review: who pays, the gateway, the cache."""

    runtime: DteRuntime
    company: int
    gateway: LlmGateway | None
    cache: PluginCache | None
    slots: asyncio.Semaphore | None = None
    """Bounds the AI calls in flight (a batch); None for a single request."""


@dataclass
class Validated:
    """A validation's response body and the cache lookups behind its AI part."""

    response: ValidateResponse
    lookups: list[CacheResult] = field(default_factory=list)

    @property
    def headers(self) -> dict[str, str]:
        """``Cache-Status`` of the AI review's cache lookup (the first miss, else the first)."""
        if not self.lookups:
            return {}
        chosen = next((r for r in self.lookups if not r.hit), self.lookups[0])
        return dict(chosen.headers)


def _body_path(path: str) -> str:
    """A parser path made relative to the request body (``dte_xml`` → ``dte_data.dte_xml``)."""
    if path == "dte_data" or path.startswith(("dte_data.", "dte_data[")):
        return path
    return f"dte_data.{path}" if path else "dte_data"


def read_inputs(dte_data: Any, history: Any) -> tuple[ParsedDocuments, VendorHistory]:
    """Parse the document and the history, reporting the problems of both at once.

    Raises:
        DteInputError: either could not be read; paths are relative to the request body
            (``dte_data.monto_iva``, ``dte_data.dte_xml``, ``history[2].folio``).
    """
    problems: list[tuple[str, str]] = []
    parsed: ParsedDocuments | None = None
    vendor = VendorHistory()
    try:
        parsed = parse_dte_data(dte_data)
    except DteInputError as exc:
        problems += [(_body_path(path), message) for path, message in exc.problems]
    if isinstance(history, VendorHistory):
        vendor = history
    else:
        try:
            vendor = parse_history(history)
        except DteInputError as exc:
            problems += exc.problems
    if problems or parsed is None:
        raise DteInputError(problems)
    return parsed, vendor


class _HistoryView:
    """The history's cache-key form and AI summary, computed once and only if needed."""

    __slots__ = ("_key", "_summary", "history")

    def __init__(self, history: VendorHistory) -> None:
        self.history = history
        self._key: Any = None
        self._summary: dict[str, Any] | None = None

    @property
    def key(self) -> Any:
        if self._key is None:
            self._key = msgspec.to_builtins(self.history)
        return self._key

    @property
    def summary(self) -> dict[str, Any]:
        if self._summary is None:
            self._summary = summarize_history(self.history)
        return self._summary


async def _review(
    ctx: ReviewContext,
    doc: DteDocument,
    report: ValidationReport,
    view: _HistoryView,
    today: date,
) -> tuple[AiInfo, AiReview | None, CacheResult | None]:
    config = ctx.runtime.config
    reason = skip_reason(
        config.ai_review,
        required=config.require_ai_review,
        doc=doc,
        report=report,
        history=view.history,
    )
    if reason is not None:
        return AiInfo(status="skipped", reason=reason), None, None
    gateway = ctx.gateway
    if gateway is None or not gateway.available:
        return _NOT_CONFIGURED, None, None

    async def compute() -> AiReview:
        data = review_data(doc, report, view.summary, today, config.timezone)
        return await run_review(
            gateway,
            plugin=ctx.runtime.name,
            company=ctx.company,
            data=data,
            deadline_s=config.ai_deadline_s,
            slots=ctx.slots,
        )

    if ctx.cache is None:
        review = await compute()
        return ai_info(review, cached=False), review, None
    key = {
        "prompt": REVIEW_PROMPT_VERSION,
        "ruleset": RULESET_VERSION,
        "today": today.isoformat(),
        "document": doc.canonical_json().decode(),
        "history": view.key,
        "findings": report.findings,
    }
    result = await ctx.cache.get_or_compute(CACHE_POLICY, key, compute, company=ctx.company)
    if result.hit:
        try:
            review = result.decode(AiReview)
        except msgspec.ValidationError:
            review = unavailable("cache_unreadable", "the cached AI review could not be read")
    else:
        review = result.value
    # A request that waited for an identical one in flight spent nothing either.
    return ai_info(review, cached=result.hit or result.collapsed), review, result


@dataclass(frozen=True)
class Checked:
    """A request after parsing and the rules, before the AI review (see :func:`check`)."""

    documents: tuple[DteDocument, ...]
    reports: list[ValidationReport]
    history: VendorHistory
    today: date


def check(runtime: DteRuntime, dte_data: Any, history: Any, today: date | None = None) -> Checked:
    """Parse and run the rules: the synchronous, CPU-only half of a validation.

    ``history`` is the raw JSON value or an already parsed :class:`VendorHistory`;
    ``today`` the validation date (default: today in the configured zone).

    Raises:
        DteInputError: the document or the history could not be read.
    """
    parsed, vendor = read_inputs(dte_data, history)
    today = today or runtime.today()
    docs = parsed.documents
    if len(docs) == 1:
        reports = [validate(docs[0], today=today, history=vendor, config=runtime.rules)]
    else:
        reports = validate_batch(docs, today=today, history=vendor, config=runtime.rules)
    return Checked(documents=docs, reports=reports, history=vendor, today=today)


def flag_batch_duplicates(
    items: Sequence[Checked | Exception], rules: RuleConfig
) -> list[Checked | Exception]:
    """The batch's items with a folio repeated across items flagged (``DTE_DUPLICATE_FOLIO``).

    Run once over the whole batch after every item was checked, wherever the checks ran;
    failed items (exceptions) pass through untouched. See :mod:`quipu_dte.batch_checks`.
    """
    found = duplicate_folio_findings(
        [item.documents if isinstance(item, Checked) else None for item in items], rules
    )
    if not found:
        return list(items)
    out: list[Checked | Exception] = []
    for index, item in enumerate(items):
        if isinstance(item, Checked):
            reports = [
                with_findings(report, [found[index, pos]] if (index, pos) in found else [])
                for pos, report in enumerate(item.reports)
            ]
            item = replace(item, reports=reports)
        out.append(item)
    return out


async def validate_payload(ctx: ReviewContext, dte_data: Any, history: Any) -> Validated:
    """Validate one ``dte_data`` (one document or an envío) with its vendor history.

    Raises:
        DteInputError: the document or the history could not be read.
    """
    return await review_checked(ctx, check(ctx.runtime, dte_data, history))


async def review_checked(ctx: ReviewContext, checked: Checked) -> Validated:
    """The AI review (where it applies) of checked documents, merged into the verdict."""
    runtime = ctx.runtime
    docs, reports, today = checked.documents, checked.reports, checked.today
    view = _HistoryView(checked.history)
    if len(docs) == 1:
        outcomes = [await _review(ctx, docs[0], reports[0], view, today)]
    else:
        outcomes = list(
            await asyncio.gather(
                *(_review(ctx, d, r, view, today) for d, r in zip(docs, reports, strict=True))
            )
        )
    required = runtime.config.require_ai_review
    results = [
        merge(report, info, review, required=required)
        for report, (info, review, _) in zip(reports, outcomes, strict=True)
    ]
    lookups = [lookup for _, _, lookup in outcomes if lookup is not None]
    return Validated(_respond(results), lookups)


def settle_without_review(
    runtime: DteRuntime, checked: Checked, ai_ready: bool
) -> ValidateResponse | None:
    """The final answer when no document of ``checked`` gets an AI review, else None.

    Exactly what :func:`review_checked` answers in that case, computed without the
    gateway or the cache, so a batch's worker processes can finish such documents.
    ``ai_ready`` says whether the LLM gateway is configured and available.
    """
    config = runtime.config
    infos: list[AiInfo] = []
    for doc, report in zip(checked.documents, checked.reports, strict=True):
        reason = skip_reason(
            config.ai_review,
            required=config.require_ai_review,
            doc=doc,
            report=report,
            history=checked.history,
        )
        if reason is not None:
            infos.append(AiInfo(status="skipped", reason=reason))
        elif ai_ready:
            return None
        else:
            infos.append(_NOT_CONFIGURED)
    required = config.require_ai_review
    return _respond(
        [
            merge(report, info, None, required=required)
            for report, info in zip(checked.reports, infos, strict=True)
        ]
    )


def _respond(results: list[DocumentResult]) -> ValidateResponse:
    """One document's result as the answer, or an envío's aggregate."""
    if len(results) == 1:
        only = results[0]
        return ValidateResponse(
            confidence=only.confidence,
            warnings=only.warnings,
            errors=only.errors,
            recommendation=only.recommendation,
            findings=only.findings,
            ai=only.ai,
            ruleset_version=RULESET_VERSION,
            document=only.document,
        )
    return _aggregate(results)


def _aggregate(results: list[DocumentResult]) -> ValidateResponse:
    """An envío's answer: worst recommendation, messages prefixed with the document key.

    ``confidence`` is the lowest among the documents that carry the worst recommendation.
    """
    worst = max(results, key=lambda r: _RANK[r.recommendation]).recommendation
    findings: list[FindingOut] = []
    for result in results:
        findings += [msgspec.structs.replace(f, document=result.document) for f in result.findings]
    return ValidateResponse(
        confidence=min(r.confidence for r in results if r.recommendation == worst),
        warnings=[f"{r.document}: {w}" for r in results for w in r.warnings],
        errors=[f"{r.document}: {e}" for r in results for e in r.errors],
        recommendation=worst,
        findings=findings,
        ai=aggregate_ai([r.ai for r in results]),
        ruleset_version=RULESET_VERSION,
        document=f"{len(results)} documentos",
        documents=results,
    )


def aggregate_ai(infos: Sequence[AiInfo]) -> AiInfo:
    """One ``ai`` block for several documents: the most telling status, usage summed.

    ``unavailable`` wins over ``used``, ``used`` over ``cached``, ``cached`` over
    ``skipped``; ``reason``/``detail`` are those of the first document with that status.
    """
    top = max(infos, key=lambda i: _AI_RANK[i.status])
    used = [i for i in infos if i.usage is not None]
    usage = None
    if used:
        usage = AiUsage(
            input_tokens=sum(i.usage.input_tokens for i in used if i.usage),
            output_tokens=sum(i.usage.output_tokens for i in used if i.usage),
            cache_read_tokens=sum(i.usage.cache_read_tokens for i in used if i.usage),
            cache_write_tokens=sum(i.usage.cache_write_tokens for i in used if i.usage),
        )
    costs = [i.cost_usd for i in infos if i.cost_usd is not None]
    return AiInfo(
        status=top.status,
        reason=top.reason,
        detail=top.detail,
        model=next((i.model for i in infos if i.model), None),
        usage=usage,
        cost_usd=round(sum(costs), 6) if costs else None,
    )
