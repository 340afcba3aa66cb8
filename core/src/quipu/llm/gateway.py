"""The LLM gateway every plugin talks to: one Anthropic client, our retries and breaker,
token and cost guards before sending, usage and cost after.

Plugins call :meth:`LlmGateway.complete` with a registered prompt and its data, or
:meth:`LlmGateway.create` / :meth:`LlmGateway.stream` with ready messages (chat). Errors are
typed (:mod:`quipu.llm.errors`) so a plugin can fall back to rule-based results.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import msgspec
from opentelemetry.trace import Span, SpanKind

from quipu.config import Settings
from quipu.health import DependencyState, HealthMonitor
from quipu.llm import timing
from quipu.llm.accounting import Accounting, CacheRatio
from quipu.llm.breaker import CircuitBreaker, State
from quipu.llm.errors import (
    LlmRequestTooLarge,
    LlmUnavailable,
    LlmUpstreamError,
    retry_after_seconds,
)
from quipu.llm.ledger import UsageLedger
from quipu.llm.metrics import (
    LLM_BREAKER_STATE,
    LLM_RETRIES,
)
from quipu.llm.pricing import Usage, cost_usd, price_table
from quipu.llm.prompts import render
from quipu.llm.retry import classify, next_delay
from quipu.llm.tokens import estimate_tokens
from quipu.llm.transport import DirectTransport, Slot, direct_transport, sdk_http_client
from quipu.llm.wire import HEADERS, PATH, content_block, decode_message, encode_request
from quipu.observability import genai
from quipu.observability.tracing import span
from quipu.records import PromptTemplate

__all__ = ["LlmGateway", "LlmResult", "ToolUse", "llm_span_attributes", "set_usage_attributes"]

log = logging.getLogger("quipu.llm")
_BREAKER_VALUE = {"closed": 0, "half_open": 1, "open": 2}


class ToolUse(msgspec.Struct, frozen=True):
    """A tool call the model asked for."""

    id: str
    name: str
    input: dict[str, Any]


class LlmResult(msgspec.Struct, frozen=True, kw_only=True):
    """One completed call."""

    model: str
    text: str
    tool_uses: tuple[ToolUse, ...]
    content: tuple[dict[str, Any], ...]
    """The assistant's content blocks, to send back in a multi-turn conversation."""
    stop_reason: str | None
    usage: Usage
    cost_usd: float
    attempts: int
    duration_ms: float

    @classmethod
    def from_message(
        cls, message: Any, model: str, usage: Usage, cost: float, attempts: int, started: float
    ) -> LlmResult:
        """From the decoded reply (:class:`~quipu.llm.wire.WireMessage`) or a stream's snapshot."""
        content = tuple(content_block(block) for block in message.content)
        return cls(
            model=model,
            text="".join(b.get("text", "") for b in content if b.get("type") == "text"),
            tool_uses=tuple(
                ToolUse(b["id"], b["name"], dict(b.get("input") or {}))
                for b in content
                if b.get("type") == "tool_use"
            ),
            content=content,
            stop_reason=message.stop_reason,
            usage=usage,
            cost_usd=cost,
            attempts=attempts,
            duration_ms=round((time.perf_counter() - started) * 1000, 2),
        )


def llm_span_attributes(plugin: str, operation: str, model: str, max_tokens: int) -> dict[str, Any]:
    """The GenAI attributes known when a call starts."""
    return {
        genai.OPERATION: "chat",
        genai.PROVIDER: "anthropic",
        genai.REQUEST_MODEL: model,
        genai.REQUEST_MAX_TOKENS: max_tokens,
        "quipu.plugin": plugin,
        "quipu.operation": operation,
    }


def set_usage_attributes(current: Span, usage: Usage, stop_reason: str | None, model: str) -> None:
    """Token usage by the GenAI conventions (cached tokens counted in the input)."""
    current.set_attribute(genai.RESPONSE_MODEL, model)
    current.set_attribute(genai.USAGE_INPUT, usage.total_input_tokens)
    current.set_attribute(genai.USAGE_OUTPUT, usage.output_tokens)
    current.set_attribute(genai.USAGE_CACHE_READ, usage.cache_read_tokens)
    current.set_attribute(genai.USAGE_CACHE_CREATION, usage.cache_write_tokens)
    if stop_reason:
        current.set_attribute(genai.RESPONSE_FINISH_REASONS, [stop_reason])


class LlmGateway(Accounting):
    """Process-wide access to the Anthropic Messages API.

    Args:
        settings: Platform settings (``[llm]``, the key and base URL).
        prompts: The registry's prompts, by ``<plugin>.<name>@<version>``.
        redis: The shared Redis client for the usage ledger, or None.
        health: Where breaker state changes are reported.
        redis_down: Whether Redis is known to be down now (the cache's breaker).
    """

    def __init__(
        self,
        settings: Settings,
        prompts: Mapping[str, PromptTemplate],
        *,
        redis: Any = None,
        health: HealthMonitor | None = None,
        redis_down: Callable[[], bool] | None = None,
    ) -> None:
        self.config = settings.llm
        self.model = settings.llm.model
        self.prices = price_table(settings.llm.prices)
        self.ledger = UsageLedger(redis, redis_down=redis_down)
        self.health = health
        self._prompts = {key.partition("@")[0]: (key, t) for key, t in prompts.items()}
        self._breakers: dict[str, CircuitBreaker] = {}
        self._slots = asyncio.Semaphore(settings.llm.max_concurrency)
        self._cache_ratio = CacheRatio()
        self._pending: set[asyncio.Task[None]] = set()
        self.ledger.before_read = self.settle
        self.client: Any = None
        self._direct: DirectTransport | None = None
        if settings.secrets.anthropic_api_key:
            import anthropic

            # One client, so one keep-alive connection pool, per process, built once.
            self.client = anthropic.AsyncAnthropic(
                api_key=settings.secrets.anthropic_api_key,
                base_url=settings.secrets.anthropic_base_url,
                max_retries=0,  # retries are ours: one 529 must not become three calls
                timeout=settings.llm.deadline_s,
                open_telemetry=False,  # quipu emits the one LLM span itself
                http_client=sdk_http_client(settings.llm.deadline_s),
            )
            self._direct = direct_transport(self.client, PATH)

    @property
    def available(self) -> bool:
        """Whether an API key is configured."""
        return self.client is not None

    def breaker(self, model: str) -> CircuitBreaker:
        """The breaker of ``model``."""
        found = self._breakers.get(model)
        if found is None:
            found = CircuitBreaker(
                self.config.breaker, on_change=lambda s: self._breaker_changed(model, s)
            )
            self._breakers[model] = found
            LLM_BREAKER_STATE.labels(model).set(0)
        return found

    def _breaker_changed(self, model: str, state: State) -> None:
        LLM_BREAKER_STATE.labels(model).set(_BREAKER_VALUE[state])
        log.warning("LLM circuit breaker for %s is now %s", model, state)
        if self.health is not None:
            self.health.report(
                "llm",
                DependencyState(status="up", detail=f"model {model}")
                if state == "closed"
                else DependencyState(
                    status="degraded",
                    detail=f"circuit breaker {state.replace('_', '-')} for {model} after "
                    "upstream failures; AI features fall back to rule-based results",
                ),
            )

    async def aclose(self) -> None:
        """Finish the accounting still running, then close the HTTP client."""
        await self.drain()
        if self._direct is not None:
            await self._direct.aclose()
        if self.client is not None:
            await self.client.close()

    # -- calls -------------------------------------------------------------------------

    async def complete(
        self,
        *,
        plugin: str,
        prompt: str,
        data: Mapping[str, Any],
        company: int | str | None,
        tools: Sequence[Mapping[str, Any]] | None = None,
        tool_choice: Mapping[str, Any] | None = None,
        deadline_s: float | None = None,
    ) -> LlmResult:
        """Call a registered prompt (``prompt`` is its local name) with ``data``."""
        key, template = self._template(plugin, prompt)
        rendered = render(key, template, data, ttl=self.config.prompt_cache_ttl)
        return await self.create(
            plugin=plugin,
            operation=f"{plugin}.{prompt}",
            company=company,
            system=rendered.system,
            messages=rendered.messages,
            max_tokens=rendered.max_tokens,
            tools=tools,
            tool_choice=tool_choice,
            deadline_s=deadline_s,
        )

    def _template(self, plugin: str, prompt: str) -> tuple[str, PromptTemplate]:
        try:
            return self._prompts[f"{plugin}.{prompt}"]
        except KeyError:
            raise KeyError(f"no prompt {plugin}.{prompt} is registered") from None

    async def create(
        self,
        *,
        plugin: str,
        operation: str,
        company: int | str | None,
        system: Sequence[Mapping[str, Any]],
        messages: Sequence[Mapping[str, Any]],
        max_tokens: int,
        tools: Sequence[Mapping[str, Any]] | None = None,
        tool_choice: Mapping[str, Any] | None = None,
        deadline_s: float | None = None,
        model: str | None = None,
    ) -> LlmResult:
        """One Messages call with guards, retries and accounting, traced as a GenAI span.

        Raises:
            LlmUnavailable: nothing was sent (no key, breaker open, budget spent).
            LlmRequestTooLarge: over ``max_tokens_per_request`` or the cost limit.
            LlmUpstreamError: the model did not answer within the deadline and retries.
        """
        model = model or self.model
        with span(
            f"chat {model}",
            llm_span_attributes(plugin, operation, model, max_tokens),
            kind=SpanKind.CLIENT,
        ) as current:
            try:
                result = await self._create(
                    plugin=plugin,
                    operation=operation,
                    company=company,
                    system=system,
                    messages=messages,
                    max_tokens=max_tokens,
                    tools=tools,
                    tool_choice=tool_choice,
                    deadline_s=deadline_s,
                    model=model,
                )
            except Exception as exc:
                if current is not None:
                    current.set_attribute(
                        genai.ERROR_TYPE,
                        getattr(exc, "kind", None)
                        or getattr(exc, "reason", None)
                        or type(exc).__name__,
                    )
                raise
            if current is not None:
                set_usage_attributes(current, result.usage, result.stop_reason, model)
            return result

    async def _create(
        self,
        *,
        plugin: str,
        operation: str,
        company: int | str | None,
        system: Sequence[Mapping[str, Any]],
        messages: Sequence[Mapping[str, Any]],
        max_tokens: int,
        tools: Sequence[Mapping[str, Any]] | None,
        tool_choice: Mapping[str, Any] | None,
        deadline_s: float | None,
        model: str,
    ) -> LlmResult:
        clock = timing.current()
        started = time.perf_counter()
        params = self._params(model, system, messages, max_tokens, tools, tool_choice)
        deadline = asyncio.get_running_loop().time() + (deadline_s or self.config.deadline_s)
        breaker = await self._preflight(plugin, model, company, params)
        body = encode_request(params)
        attempt = 0
        llm_s = waited_s = 0.0
        try:
            while True:
                attempt += 1
                try:
                    async with self._slot(deadline):
                        timeout = self._remaining(deadline, model)
                        sent = time.perf_counter()
                        try:
                            if self._direct is not None:
                                raw = await self._direct.post(body, timeout)
                            else:
                                raw = await self.client.post(
                                    PATH,
                                    cast_to=bytes,
                                    content=body,
                                    options={"timeout": timeout, "headers": HEADERS},
                                )
                        finally:
                            llm_s += time.perf_counter() - sent
                except Exception as exc:
                    if isinstance(exc, LlmUpstreamError):
                        raise
                    failure = classify(exc)
                    if failure.counts_for_breaker:
                        breaker.record(False)
                        if not breaker.allow():
                            raise self._failed(plugin, model, failure.kind, exc) from exc
                    delay = next_delay(attempt, failure, self.config.retry)
                    remaining = deadline - asyncio.get_running_loop().time()
                    if (
                        not failure.retryable
                        or attempt >= self.config.retry.max_attempts
                        or delay >= remaining
                    ):
                        raise self._failed(plugin, model, failure.kind, exc) from exc
                    LLM_RETRIES.labels(model, failure.kind).inc()
                    await asyncio.sleep(delay)
                    waited_s += delay
                    continue
                breaker.record(True)
                break
        except BaseException:
            breaker.release_probe()
            raise
        message = decode_message(raw)
        usage = Usage.from_anthropic(message.usage)
        result = LlmResult.from_message(
            message, model, usage, self._cost(model, usage), attempt, started
        )
        now = time.perf_counter()
        overhead = max(0.0, now - clock.mark - llm_s - waited_s)
        clock.after_call(llm_s, overhead, now)
        self._account(
            plugin, operation, model, company, usage, result.cost_usd, now - started, "ok", overhead
        )
        return result

    def stream(self, **kwargs: Any) -> Any:
        """Stream a call as text deltas; see :class:`quipu.llm.streaming.LlmStream`."""
        from quipu.llm.streaming import LlmStream

        return LlmStream(self, **kwargs)

    # -- shared steps ------------------------------------------------------------------

    def _params(
        self,
        model: str,
        system: Sequence[Mapping[str, Any]],
        messages: Sequence[Mapping[str, Any]],
        max_tokens: int,
        tools: Sequence[Mapping[str, Any]] | None,
        tool_choice: Mapping[str, Any] | None,
    ) -> dict[str, Any]:
        params: dict[str, Any] = {
            "model": model,
            "max_tokens": max_tokens,
            "system": list(system),
            "messages": list(messages),
        }
        if tools:
            params["tools"] = list(tools)
        if tool_choice:
            params["tool_choice"] = dict(tool_choice)
        if self.config.sampling:
            # Refused under anthropic-version 2026-10-21; only for models/versions that take it.
            params["extra_body"] = dict(self.config.sampling)
        return params

    async def _preflight(
        self, plugin: str, model: str, company: int | str | None, params: dict[str, Any]
    ) -> CircuitBreaker:
        """Refuse before sending when the call cannot or must not be made."""
        if self.client is None:
            self._count(plugin, model, "unavailable_not_configured")
            raise LlmUnavailable(
                "not_configured", "the AI service is not configured (ANTHROPIC_API_KEY unset)"
            )
        await self._check_budget(plugin, model, company)
        await self._check_size(plugin, model, params)
        breaker = self.breaker(model)
        if not breaker.allow():
            self._count(plugin, model, "unavailable_breaker_open")
            wait = retry_after_seconds(breaker.retry_after())  # one figure: body and header
            raise LlmUnavailable(
                "breaker_open",
                f"the AI service is failing and paused for {model}; retry in {wait} s",
                retry_after_s=wait,
            )
        return breaker

    async def _check_budget(self, plugin: str, model: str, company: int | str | None) -> None:
        if company is None:
            return
        budget = self.config.company_budgets_usd.get(str(company), self.config.monthly_budget_usd)
        if budget is None:
            return
        spent = await self.ledger.month_cost(str(company))
        if spent >= budget:
            self._count(plugin, model, "unavailable_budget_exhausted")
            raise LlmUnavailable(
                "budget_exhausted",
                f"company {company} has spent its monthly AI budget "
                f"(USD {spent:.2f} of {budget:.2f}); rule-based results are still served",
            )

    async def _check_size(self, plugin: str, model: str, params: dict[str, Any]) -> None:
        limit = self.config.max_tokens_per_request
        tokens = estimate_tokens(params["system"], params["messages"], params.get("tools", ()))
        mode = self.config.exact_token_count
        if mode == "always" or (
            mode == "near_limit" and tokens >= limit * self.config.near_limit_ratio
        ):
            tokens = await self._exact_count(model, params, fallback=tokens)
        price = self.prices.get(model)
        estimate = (
            cost_usd(Usage(input_tokens=tokens, output_tokens=params["max_tokens"]), price)
            if price
            else 0.0
        )
        if tokens > limit:
            self._count(plugin, model, "refused_tokens")
            raise LlmRequestTooLarge(
                detail=f"the request has about {tokens} input tokens, over the limit of {limit} "
                "per request; send a shorter document or history"
            )
        if estimate > self.config.max_estimated_cost_per_request:
            self._count(plugin, model, "refused_cost")
            raise LlmRequestTooLarge(
                detail=f"the request would cost up to USD {estimate:.2f}, over the limit of "
                f"USD {self.config.max_estimated_cost_per_request:.2f} per request"
            )

    async def _exact_count(self, model: str, params: dict[str, Any], *, fallback: int) -> int:
        try:
            counted = await self.client.messages.count_tokens(
                model=model,
                system=params["system"],
                messages=params["messages"],
                **({"tools": params["tools"]} if "tools" in params else {}),
                timeout=5.0,
            )
            return int(counted.input_tokens)
        except Exception as exc:  # counting is advisory: keep the estimate
            log.warning("count_tokens failed (%s); using the local estimate", type(exc).__name__)
            return fallback

    def _slot(self, deadline: float) -> Slot:
        return Slot(self._slots, deadline)

    def _remaining(self, deadline: float, model: str) -> float:
        remaining = deadline - asyncio.get_running_loop().time()
        if remaining <= 0:
            raise LlmUpstreamError("timeout", f"{model} gave no answer within the deadline", 504)
        return remaining

    def _failed(self, plugin: str, model: str, kind: str, exc: BaseException) -> LlmUpstreamError:
        self._count(plugin, model, f"error_{kind}")
        status = getattr(exc, "status_code", None)
        detail = f"the AI service failed ({kind}" + (f", HTTP {status}" if status else "") + ")"
        return LlmUpstreamError(kind, detail, 504 if kind == "timeout" else 502)
